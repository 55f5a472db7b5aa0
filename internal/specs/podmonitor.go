package specs

import (
	"maps"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/contract"
)

// PodMonitorGVK is the Prometheus Operator's PodMonitor, built as unstructured: the operator
// runs in clusters without its CRD.
var PodMonitorGVK = schema.GroupVersionKind{Group: "monitoring.coreos.com", Version: "v1", Kind: "PodMonitor"}

// MetricsPortName names the webhook's probe and metrics port on its pods and its Service.
const MetricsPortName = "metrics"

func (w Webhook) monitoringSpec() *v1alpha1.MonitoringSpec {
	if w.App != nil {
		return w.App.Spec.Monitoring
	}
	return w.Page.Spec.Monitoring
}

// WantsPodMonitor reports whether the owner asks for a PodMonitor.
func (w Webhook) WantsPodMonitor() bool { return w.monitoringSpec().WantsPodMonitor() }

// PodMonitor scrapes /metrics on the probe port of the webhook's pods; nil when the owner has no
// spec.monitoring.podMonitor. The user's labels come under ours (ours win: the operator finds
// its objects by them).
func PodMonitor(w Webhook) *unstructured.Unstructured {
	if !w.WantsPodMonitor() {
		return nil
	}
	pm := w.monitoringSpec().PodMonitor
	selector := map[string]any{}
	for k, v := range w.SelectorLabels() {
		selector[k] = v
	}
	endpoint := map[string]any{"port": probePortName, "path": contract.MetricsPath, "scheme": "http"}
	if pm.Interval != "" {
		endpoint["interval"] = pm.Interval
	}
	spec := map[string]any{
		"selector":            map[string]any{"matchLabels": selector},
		"podMetricsEndpoints": []any{endpoint},
	}
	labels := maps.Clone(pm.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	maps.Copy(labels, w.labels())
	return w.unstructured(PodMonitorGVK, spec, labels, nil)
}
