package specs

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

func TestPodMonitor(t *testing.T) {
	p := testPage()
	if PodMonitor(Webhook{Page: p}) != nil {
		t.Fatal("a PodMonitor without spec.monitoring.podMonitor")
	}
	p.Spec.Monitoring = &v1alpha1.MonitoringSpec{}
	if PodMonitor(Webhook{Page: p}) != nil {
		t.Fatal("a PodMonitor with spec.monitoring but no podMonitor")
	}
	p.Spec.Monitoring.PodMonitor = &v1alpha1.PodMonitorSpec{Interval: "30s",
		Labels: map[string]string{"release": "kube-prometheus-stack", LabelInstance: "other"}}
	u := PodMonitor(Webhook{Page: p})
	if u.GetKind() != "PodMonitor" || u.GetAPIVersion() != "monitoring.coreos.com/v1" || u.GetName() != "acme-webhook" || u.GetNamespace() != "shop" {
		t.Fatalf("PodMonitor: %v", u.Object)
	}
	if l := u.GetLabels(); l["release"] != "kube-prometheus-stack" || l[LabelInstance] != "acme" || l[LabelManaged] != "true" {
		t.Fatalf("labels (the user's under ours): %v", l)
	}
	if refs := u.GetOwnerReferences(); len(refs) != 1 || refs[0].Kind != "MessengerPage" || refs[0].Controller == nil || !*refs[0].Controller {
		t.Fatalf("owner: %v", refs)
	}
	sel, _, _ := unstructured.NestedStringMap(u.Object, "spec", "selector", "matchLabels")
	if len(sel) != 2 || sel[LabelInstance] != "acme" || sel[LabelName] != AppName {
		t.Fatalf("selector: %v", sel)
	}
	eps, _, _ := unstructured.NestedSlice(u.Object, "spec", "podMetricsEndpoints")
	if len(eps) != 1 {
		t.Fatalf("endpoints: %v", eps)
	}
	ep := eps[0].(map[string]any)
	if ep["port"] != "probes" || ep["path"] != "/metrics" || ep["interval"] != "30s" {
		t.Fatalf("endpoint: %v", ep)
	}
	// The port it names is the container's.
	d := Deployment(Webhook{Page: p, DefaultImage: "img"})
	found := false
	for _, port := range d.Spec.Template.Spec.Containers[0].Ports {
		found = found || (port.Name != nil && *port.Name == ep["port"])
	}
	if !found {
		t.Fatalf("no container port %v", ep["port"])
	}
	hash := u.GetAnnotations()[AppliedHashAnnotation]
	p.Spec.Monitoring.PodMonitor.Interval = "1m"
	if again := PodMonitor(Webhook{Page: p}); again.GetAnnotations()[AppliedHashAnnotation] == hash {
		t.Fatal("the applied hash does not follow the spec")
	}

	app := &v1alpha1.MessengerApp{Spec: v1alpha1.MessengerAppSpec{AppID: "1", Monitoring: &v1alpha1.MonitoringSpec{PodMonitor: &v1alpha1.PodMonitorSpec{}}}}
	app.Name, app.Namespace = "acme", "shop"
	a := PodMonitor(Webhook{App: app})
	if a.GetName() != AppWebhookName("acme") || a.GetOwnerReferences()[0].Kind != "MessengerApp" {
		t.Fatalf("app PodMonitor: %v", a.Object)
	}
	if eps, _, _ := unstructured.NestedSlice(a.Object, "spec", "podMetricsEndpoints"); eps[0].(map[string]any)["interval"] != nil {
		t.Fatalf("an interval without one set: %v", eps)
	}
}
