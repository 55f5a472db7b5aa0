package webhook

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/messenger-operator/messenger-operator/internal/webhook/config"
)

// configMetrics say whether the page's configuration is current: a rejected edit leaves the last
// good configuration serving, which only the logs and these metrics show.
type configMetrics struct {
	applied prometheus.Counter
	valid   prometheus.Gauge
}

func newConfigMetrics(reg prometheus.Registerer) *configMetrics {
	m := &configMetrics{
		applied: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "messenger_webhook_config_applied_total",
			Help: "Configurations (page, policy, Secrets) applied without a restart.",
		}),
		valid: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "messenger_webhook_config_valid",
			Help: "1 when the latest page, policy and Secrets read are complete and valid; 0 when they are not and the last good configuration (if any) is serving.",
		}),
	}
	reg.MustRegister(m.applied, m.valid)
	return m
}

// observe wraps an applier's Update with the metrics.
func (m *configMetrics) observe(a *config.Applier, s config.Snapshot) {
	if err := a.Update(s); err != nil {
		m.valid.Set(0)
		return
	}
	m.valid.Set(1)
}
