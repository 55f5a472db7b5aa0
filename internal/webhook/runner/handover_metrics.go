package runner

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// handoverMetrics follow the conversations between the bot and people, per page (the pages a
// webhook serves are its configuration: a closed set); every other label is a closed set too.
type handoverMetrics struct {
	handovers  *prometheus.CounterVec   // page, direction, reason
	firstReply *prometheus.HistogramVec // page
	withAgent  *prometheus.HistogramVec // page
	idleTakes  *prometheus.CounterVec   // page
}

// Buckets of the handover histograms, in seconds: from seconds to two days.
var (
	firstReplyBuckets = []float64{10, 30, 60, 120, 300, 600, 1800, 3600, 2 * 3600, 4 * 3600, 12 * 3600, 24 * 3600}
	withAgentBuckets  = []float64{60, 300, 600, 1800, 3600, 2 * 3600, 4 * 3600, 8 * 3600, 24 * 3600, 48 * 3600}
)

func newHandoverMetrics(reg prometheus.Registerer) handoverMetrics {
	return handoverMetrics{
		handovers: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "messenger_webhook_handovers_total",
			Help: "Changes of a thread's owner, by page, direction (to_bot, to_inbox, to_app, to_idle) and reason (handoff, outside_hours, request, take_back, idle_timeout by the bot; done, taken, passed by another app).",
		}, []string{"page", "direction", "reason"})),
		firstReply: register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "messenger_webhook_inbox_first_reply_seconds",
			Help:    "Time from the bot's pass to the Page Inbox until an agent's first message, by page.",
			Buckets: firstReplyBuckets,
		}, []string{"page"})),
		withAgent: register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "messenger_webhook_agent_conversation_seconds",
			Help:    "Time a conversation spent away from the bot (with an agent) until the bot had it back, by page.",
			Buckets: withAgentBuckets,
		}, []string{"page"})),
		idleTakes: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "messenger_webhook_idle_takebacks_total",
			Help: "Threads the bot took back because no agent wrote for the policy's idle timeout, by page.",
		}, []string{"page"})),
	}
}

func (m *metrics) handover(page, direction, reason string) {
	m.ho.handovers.WithLabelValues(page, direction, reason).Inc()
}

func (m *metrics) idleTakeBack(page string) { m.ho.idleTakes.WithLabelValues(page).Inc() }

// firstReply observes the wait for an agent; a negative one (clocks apart) counts as none.
func (m *metrics) firstReply(page string, d time.Duration) {
	m.ho.firstReply.WithLabelValues(page).Observe(max(d, 0).Seconds())
}

// backWithBot observes the time since the pass (or the take by another app) at since, when known.
func (m *metrics) backWithBot(page string, since, now time.Time) {
	if since.IsZero() {
		return
	}
	m.ho.withAgent.WithLabelValues(page).Observe(max(now.Sub(since), 0).Seconds())
}
