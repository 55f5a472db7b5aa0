package runner

import (
	"errors"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/messenger-operator/messenger-operator/internal/graph"
	"github.com/messenger-operator/messenger-operator/internal/handover"
)

// metrics of one Runner. Label values are closed sets (kinds, reasons, endpoints, classes):
// never ids or text.
type metrics struct {
	events       *prometheus.CounterVec   // kind, channel
	ignored      *prometheus.CounterVec   // reason
	actions      *prometheus.CounterVec   // kind, reason, result
	graphCalls   *prometheus.CounterVec   // endpoint, result
	graphLatency *prometheus.HistogramVec // endpoint
	retries      *prometheus.CounterVec   // endpoint
	deadLetters  *prometheus.CounterVec   // endpoint
	takeRefused  prometheus.Counter
	suppressed   *prometheus.CounterVec // reason
	ho           handoverMetrics

	// Children resolved once for the hot path.
	evByKind [7][2]prometheus.Counter
	children sync.Map // childKey -> prometheus.Counter
}

// childKey names a child of one of the vectors above (label values are closed sets).
type childKey struct {
	vec     *prometheus.CounterVec
	a, b, c string
}

// inc increments vec's child for the label values, resolving it once: WithLabelValues hashes
// every label on every call.
func (m *metrics) inc(vec *prometheus.CounterVec, values ...string) {
	k := childKey{vec: vec}
	switch len(values) {
	case 3:
		k.c = values[2]
		fallthrough
	case 2:
		k.b = values[1]
		fallthrough
	case 1:
		k.a = values[0]
	}
	if c, ok := m.children.Load(k); ok {
		c.(prometheus.Counter).Inc()
		return
	}
	c, _ := m.children.LoadOrStore(k, vec.WithLabelValues(values...))
	c.(prometheus.Counter).Inc()
}

func newMetrics(reg prometheus.Registerer, depth, bytes func() float64, extraIgnored []string) *metrics {
	m := &metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "messenger_webhook_events_total", Help: "Events accepted, by kind and channel (messaging or standby).",
		}, []string{"kind", "channel"}),
		ignored: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "messenger_webhook_ignored_events_total", Help: "Events not acted on, by reason.",
		}, []string{"reason"}),
		actions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "messenger_webhook_actions_total", Help: "Engine actions run, by kind, reason and result.",
		}, []string{"kind", "reason", "result"}),
		graphCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "messenger_graph_calls_total", Help: "Graph API calls by endpoint and result class.",
		}, []string{"endpoint", "result"}),
		graphLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "messenger_graph_call_duration_seconds", Help: "Graph API call latency by endpoint.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"endpoint"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "messenger_webhook_retries_total", Help: "Graph calls repeated after a failure that certainly had no effect.",
		}, []string{"endpoint"}),
		deadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "messenger_webhook_dead_letters_total", Help: "Actions given up after the retry window (or at shutdown).",
		}, []string{"endpoint"}),
		takeRefused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "messenger_webhook_take_refused_total", Help: "take_thread_control calls refused for the Page's set-up (Conversation Routing, a permission).",
		}),
		suppressed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "messenger_webhook_suppressed_messages_total", Help: "Messages of the bot the rules called for and left out, by reason (window_closed: the 24 h messaging window is over).",
		}, []string{"reason"}),
	}
	m.events = register(reg, m.events)
	m.ignored = register(reg, m.ignored)
	m.actions = register(reg, m.actions)
	m.graphCalls = register(reg, m.graphCalls)
	m.graphLatency = register(reg, m.graphLatency)
	m.retries = register(reg, m.retries)
	m.deadLetters = register(reg, m.deadLetters)
	m.takeRefused = register(reg, m.takeRefused)
	m.suppressed = register(reg, m.suppressed)
	// Every reason of the fixed sets shows from the start, at 0.
	for _, reason := range append(append(handover.IgnoredReasons[:len(handover.IgnoredReasons):len(handover.IgnoredReasons)],
		ignoreDuplicate, ignoreNoPolicy, ignoreReplay), extraIgnored...) {
		m.ignored.WithLabelValues(reason)
	}
	m.suppressed.WithLabelValues(handover.SuppressedWindowClosed)
	m.ho = newHandoverMetrics(reg)
	register[prometheus.Collector](reg, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "messenger_webhook_queue_depth", Help: "Events accepted and not yet fully handled.",
	}, depth))
	register[prometheus.Collector](reg, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "messenger_webhook_queue_bytes", Help: "Estimated memory of the events accepted and not yet fully handled (bounded by MaxQueuedBytes).",
	}, bytes))

	for k := range m.evByKind {
		for c := range m.evByKind[k] {
			m.evByKind[k][c] = m.events.WithLabelValues(kindName(handover.EventKind(k)), channelName(handover.Channel(c)))
		}
	}
	return m
}

// register registers c, or returns the collector already registered under its name (a second
// Runner on the same registry, in tests).
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

func (m *metrics) event(ev *handover.Event) {
	k, c := int(ev.Kind), int(ev.Channel)
	if k >= 0 && k < len(m.evByKind) && c >= 0 && c < 2 {
		m.evByKind[k][c].Inc()
		return
	}
	m.events.WithLabelValues(kindName(ev.Kind), channelName(ev.Channel)).Inc()
}

// graphObserver feeds the Graph client's calls into the metrics; the children of each
// (endpoint, result) are looked up once and then read from a lock-free map.
func (m *metrics) graphObserver() graph.Observer {
	type key struct {
		ep  graph.Endpoint
		res graph.Meaning
	}
	type children struct {
		calls   prometheus.Counter
		latency prometheus.Observer
	}
	var cache sync.Map
	return func(ep graph.Endpoint, result graph.Meaning, took time.Duration) {
		k := key{ep, result}
		v, ok := cache.Load(k)
		if !ok {
			v, _ = cache.LoadOrStore(k, &children{
				calls:   m.graphCalls.WithLabelValues(string(ep), string(result)),
				latency: m.graphLatency.WithLabelValues(string(ep)),
			})
		}
		c := v.(*children)
		c.calls.Inc()
		c.latency.Observe(took.Seconds())
	}
}
