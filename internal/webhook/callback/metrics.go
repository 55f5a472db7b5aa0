package callback

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// IgnoreReasons are the reasons the callback gives the queue's Ignore (a fixed set): the
// ignored-events counter registers them up front.
var IgnoreReasons = []string{ignoreObject, ignoreOtherPage, ignoreChanges, ignoreNoSender, ignoreUnknownKind}

// metrics of one Handler: the requests by method and status code (closed sets) and the time to
// acknowledge a POST.
type metrics struct {
	requests *prometheus.CounterVec // method, code
	ack      prometheus.Histogram
	post200  prometheus.Counter // resolved once for the hot path
}

func newMetrics(reg prometheus.Registerer, bodyBytes func() float64) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "messenger_webhook_requests_total", Help: "Webhook HTTP requests by method and status code.",
		}, []string{"method", "code"}),
		ack: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "messenger_webhook_ack_duration_seconds", Help: "Time to acknowledge a POST (Meta allows 5s).",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .5, 1, 5},
		}),
	}
	m.requests = register(reg, m.requests)
	m.ack = register(reg, m.ack)
	m.post200 = m.requests.WithLabelValues("POST", "200")
	register(reg, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "messenger_webhook_body_bytes_in_flight",
		Help: "Request-body bytes reserved by requests being read or judged (bounded by the body budget).",
	}, bodyBytes))
	return m
}

// register registers c, or returns the collector already registered under its name (a second
// Handler on the same registry, in tests).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
	}
	return c
}

func (m *metrics) request(method string, code int) {
	if method == "POST" && code == 200 {
		m.post200.Inc()
		return
	}
	m.requests.WithLabelValues(methodLabel(method), codeLabel(code)).Inc()
}

// methodLabel maps the request's method to a closed set: a label value taken from the request
// would let any client create series without bound.
func methodLabel(method string) string {
	switch method {
	case "GET":
		return "GET"
	case "POST":
		return "POST"
	}
	return "other"
}

func codeLabel(code int) string {
	switch code {
	case 200:
		return "200"
	case 400:
		return "400"
	case 403:
		return "403"
	case 404:
		return "404"
	case 405:
		return "405"
	case 413:
		return "413"
	case 503:
		return "503"
	}
	return "other"
}
