package runner

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/messenger-operator/messenger-operator/internal/handover"
)

// threadLister is a store that can list the threads it holds: the memory store, or the Redis
// store, whose threads are the app's across replicas (each replica reports the same count).
type threadLister interface {
	EachThread(f func(pageID string, th *handover.Thread))
}

// threadOwners are the values of the owner label of messenger_webhook_threads.
var threadOwners = []string{partyBot, partyInbox, partyApp, partyIdle, "unknown"}

// threadsCollector counts the store's threads by page and owner at each scrape.
type threadsCollector struct {
	store threadLister
	desc  *prometheus.Desc
}

func registerThreadsMetric(reg prometheus.Registerer, s any) {
	l, ok := s.(threadLister)
	if !ok {
		return
	}
	register[prometheus.Collector](reg, &threadsCollector{store: l, desc: prometheus.NewDesc("messenger_webhook_threads",
		"Threads the webhook remembers, by page and owner (bot, inbox, app: another app, idle, unknown: to be asked of thread_owner).",
		[]string{"page", "owner"}, nil)})
}

func (c *threadsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *threadsCollector) Collect(ch chan<- prometheus.Metric) {
	type key struct{ page, owner string }
	counts := map[key]int{}
	pages := map[string]bool{}
	c.store.EachThread(func(pageID string, th *handover.Thread) {
		counts[key{pageID, ownerLabel(th)}]++
		pages[pageID] = true
	})
	for page := range pages {
		for _, o := range threadOwners {
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(counts[key{page, o}]), page, o)
		}
	}
}

// ownerLabel is the owner label of th: the audit's name of the owner without another app's id
// (labels come from a fixed set).
func ownerLabel(th *handover.Thread) string {
	label, _, _ := strings.Cut(threadParty(th, ""), ":")
	return label
}
