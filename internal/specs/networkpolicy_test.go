package specs

import (
	"slices"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/contract"
)

func testNetworkPolicy() *v1alpha1.WebhookNetworkPolicy {
	return &v1alpha1.WebhookNetworkPolicy{
		Enabled:                     true,
		GraphAPICIDRs:               []string{"157.240.0.0/16", "31.13.24.0/21"},
		APIServerCIDRs:              []string{"10.0.0.1/32"},
		MonitoringNamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"name": "monitoring"}},
	}
}

// ports lists a rule's ports as "TCP/1337".
func ports(ps []networkingv1.NetworkPolicyPort) []string {
	var out []string
	for _, p := range ps {
		out = append(out, string(*p.Protocol)+"/"+p.Port.String())
	}
	return out
}

// The policy admits Meta's calls on the webhook port from anywhere, the probe port from the
// monitoring namespaces only, and lets the pods reach DNS, the API server and the Graph API's
// CIDRs, nothing else; it selects exactly the webhook's pods and belongs to the page.
func TestNetworkPolicy(t *testing.T) {
	page := testPage()
	if NetworkPolicy(Webhook{Page: page}) != nil {
		t.Fatal("a policy without spec.webhook.networkPolicy")
	}
	page.Spec.Webhook.NetworkPolicy = &v1alpha1.WebhookNetworkPolicy{Enabled: false, APIServerCIDRs: []string{"10.0.0.1/32"}}
	if NetworkPolicy(Webhook{Page: page}) != nil {
		t.Fatal("a policy while not enabled")
	}
	page.Spec.Webhook.NetworkPolicy = testNetworkPolicy()
	w := Webhook{Page: page}
	np := typed[networkingv1.NetworkPolicy](t, NetworkPolicy(w))
	if np.Name != "acme-webhook" || np.Namespace != "shop" || len(np.OwnerReferences) != 1 || np.OwnerReferences[0].Name != "acme" ||
		np.Labels[LabelManaged] != "true" || np.Annotations[AppliedHashAnnotation] == "" {
		t.Fatalf("metadata %+v", np.ObjectMeta)
	}
	s := np.Spec
	if !slices.Equal(s.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}) {
		t.Fatalf("policy types %v", s.PolicyTypes)
	}
	sel, _ := metav1.LabelSelectorAsMap(&s.PodSelector)
	if len(sel) != len(w.SelectorLabels()) || sel[LabelInstance] != InstanceValue("acme") {
		t.Fatalf("pod selector %v, want the Deployment's %v", sel, w.SelectorLabels())
	}
	if len(s.Ingress) != 2 {
		t.Fatalf("ingress %+v", s.Ingress)
	}
	if in := s.Ingress[0]; len(in.From) != 0 || !slices.Equal(ports(in.Ports), []string{"TCP/1337"}) {
		t.Fatalf("webhook ingress %+v", in)
	}
	if in := s.Ingress[1]; len(in.From) != 1 || in.From[0].NamespaceSelector.MatchLabels["name"] != "monitoring" ||
		in.From[0].PodSelector != nil || !slices.Equal(ports(in.Ports), []string{"TCP/8081"}) {
		t.Fatalf("probe ingress %+v", in)
	}
	if contract.WebhookPort != 1337 || contract.ProbePort != 8081 {
		t.Fatal("the ports moved: update this test")
	}
	want := []struct {
		cidrs, ports []string
	}{
		{nil, []string{"UDP/53", "TCP/53"}},
		{[]string{"10.0.0.1/32"}, []string{"TCP/443", "TCP/6443"}},
		{[]string{"157.240.0.0/16", "31.13.24.0/21"}, []string{"TCP/443"}},
	}
	if len(s.Egress) != len(want) {
		t.Fatalf("egress %+v", s.Egress)
	}
	for i, e := range s.Egress {
		var cidrs []string
		for _, to := range e.To {
			if to.IPBlock == nil || to.PodSelector != nil || to.NamespaceSelector != nil {
				t.Fatalf("egress %d peer %+v", i, to)
			}
			cidrs = append(cidrs, to.IPBlock.CIDR)
		}
		if !slices.Equal(cidrs, want[i].cidrs) || !slices.Equal(ports(e.Ports), want[i].ports) {
			t.Errorf("egress %d: to %v ports %v, want %v %v", i, cidrs, ports(e.Ports), want[i].cidrs, want[i].ports)
		}
	}

	// Without a monitoring selector, the probe port is closed to other pods; without Graph
	// CIDRs, no egress to it.
	page.Spec.Webhook.NetworkPolicy.MonitoringNamespaceSelector = nil
	page.Spec.Webhook.NetworkPolicy.GraphAPICIDRs = nil
	np = typed[networkingv1.NetworkPolicy](t, NetworkPolicy(Webhook{Page: page}))
	if len(np.Spec.Ingress) != 1 || len(np.Spec.Egress) != 2 {
		t.Fatalf("ingress %+v egress %+v", np.Spec.Ingress, np.Spec.Egress)
	}
}

// An app's policy selects the app's pods, never a page's.
func TestAppNetworkPolicy(t *testing.T) {
	app := testApp()
	app.Spec.Webhook.NetworkPolicy = testNetworkPolicy()
	np := typed[networkingv1.NetworkPolicy](t, NetworkPolicy(Webhook{App: app}))
	sel, _ := metav1.LabelSelectorAsMap(&np.Spec.PodSelector)
	if np.Name != AppWebhookName("acme") || sel[LabelComponent] != ComponentApp || np.OwnerReferences[0].Kind != "MessengerApp" {
		t.Fatalf("%s selects %v, owner %+v", np.Name, sel, np.OwnerReferences)
	}
}
