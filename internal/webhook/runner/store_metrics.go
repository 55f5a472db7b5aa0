package runner

import "github.com/prometheus/client_golang/prometheus"

// earlyEvicter is a store that can forget dedup keys before their window ends (the memory
// store, when full).
type earlyEvicter interface{ EarlyEvictions() uint64 }

// registerStoreMetrics exports the store's early evictions: each one shortens the dedup window
// below its hour, so a replay of that event would be handled again.
func registerStoreMetrics(reg prometheus.Registerer, s any) {
	e, ok := s.(earlyEvicter)
	if !ok {
		return
	}
	register(reg, prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "messenger_webhook_dedup_early_evictions_total",
		Help: "Dedup keys forgotten before their hour because the store was full.",
	}, func() float64 { return float64(e.EarlyEvictions()) }))
}
