package controllers

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// Status metrics of the manager (as external-secrets' status condition metric): one series per
// object and condition, read from the manager's cache at each scrape, so that a deleted
// object's series are gone at the next scrape and no bookkeeping can leak.
var (
	readyDesc = prometheus.NewDesc("messenger_operator_ready",
		"1 when the object's Ready condition is True, else 0; reason is Ready's reason.",
		[]string{"kind", "namespace", "name", "reason"}, nil)
	conditionDesc = prometheus.NewDesc("messenger_operator_status_condition",
		"1 for each condition the object's status holds, by type, status and reason.",
		[]string{"kind", "namespace", "name", "type", "status", "reason"}, nil)
	tokenExpiryDesc = prometheus.NewDesc("messenger_operator_page_token_expiry_timestamp_seconds",
		"When the page access token expires (debug_token's expires_at); absent for a token that never expires.",
		[]string{"namespace", "name"}, nil)
	dataAccessExpiryDesc = prometheus.NewDesc("messenger_operator_page_token_data_access_expiry_timestamp_seconds",
		"When the page access token's data access ends (debug_token's data_access_expires_at).",
		[]string{"namespace", "name"}, nil)
	unsubscribedDesc = prometheus.NewDesc("messenger_operator_page_last_unsubscribed_timestamp_seconds",
		"When a check last found that Meta had unsubscribed the app from the Page (webhooks disabled after an hour of failed deliveries); the operator subscribed it again.",
		[]string{"namespace", "name"}, nil)
)

// statusScrapeTimeout bounds the cache reads of one scrape.
const statusScrapeTimeout = 10 * time.Second

// StatusCollector exports the status of MessengerPages, MessengerApps and HandoverPolicies.
type StatusCollector struct {
	// Reader is the manager's cache.
	Reader client.Reader
}

// RegisterStatusMetrics registers a StatusCollector reading from r with reg, in place of one a
// previous manager of the process registered.
func RegisterStatusMetrics(reg prometheus.Registerer, r client.Reader) error {
	c := &StatusCollector{Reader: r}
	reg.Unregister(c)
	return reg.Register(c)
}

// Describe implements prometheus.Collector.
func (c *StatusCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{readyDesc, conditionDesc, tokenExpiryDesc, dataAccessExpiryDesc, unsubscribedDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. A failed list reports an invalid metric, so the
// scrape says so rather than showing the objects gone.
func (c *StatusCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), statusScrapeTimeout)
	defer cancel()
	var pages messengerv1alpha1.MessengerPageList
	if err := c.Reader.List(ctx, &pages); err != nil {
		ch <- prometheus.NewInvalidMetric(readyDesc, err)
		return
	}
	for i := range pages.Items {
		p := &pages.Items[i]
		conditionMetrics(ch, "MessengerPage", p.Namespace, p.Name, p.Status.Conditions)
		gauge := func(d *prometheus.Desc, t *metav1.Time) {
			if t != nil && !t.IsZero() {
				ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(t.Unix()), p.Namespace, p.Name)
			}
		}
		if tok := p.Status.Token; tok != nil {
			gauge(tokenExpiryDesc, tok.ExpiresAt)
			gauge(dataAccessExpiryDesc, tok.DataAccessExpiresAt)
		}
		if sub := p.Status.Subscription; sub != nil {
			gauge(unsubscribedDesc, sub.LastUnsubscribedTime)
		}
	}
	var apps messengerv1alpha1.MessengerAppList
	if err := c.Reader.List(ctx, &apps); err != nil {
		ch <- prometheus.NewInvalidMetric(readyDesc, err)
		return
	}
	for i := range apps.Items {
		a := &apps.Items[i]
		conditionMetrics(ch, "MessengerApp", a.Namespace, a.Name, a.Status.Conditions)
	}
	var policies messengerv1alpha1.HandoverPolicyList
	if err := c.Reader.List(ctx, &policies); err != nil {
		ch <- prometheus.NewInvalidMetric(readyDesc, err)
		return
	}
	for i := range policies.Items {
		p := &policies.Items[i]
		conditionMetrics(ch, "HandoverPolicy", p.Namespace, p.Name, p.Status.Conditions)
	}
}

// conditionMetrics sends the ready series of one object and a series per condition.
func conditionMetrics(ch chan<- prometheus.Metric, kind, ns, name string, conds []metav1.Condition) {
	ready, reason := 0.0, ""
	if c := apimeta.FindStatusCondition(conds, messengerv1alpha1.ConditionReady); c != nil {
		reason = c.Reason
		if c.Status == metav1.ConditionTrue {
			ready = 1
		}
	}
	ch <- prometheus.MustNewConstMetric(readyDesc, prometheus.GaugeValue, ready, kind, ns, name, reason)
	for _, c := range conds {
		ch <- prometheus.MustNewConstMetric(conditionDesc, prometheus.GaugeValue, 1, kind, ns, name, c.Type, string(c.Status), c.Reason)
	}
}
