package kwok

import (
	"bytes"
	"fmt"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// chartNetworkPolicies renders the chart with set and returns its NetworkPolicies.
func chartNetworkPolicies(t *testing.T, set ...string) []networkingv1.NetworkPolicy {
	t.Helper()
	var out []networkingv1.NetworkPolicy
	for _, doc := range bytes.Split(helmTemplate(t, "rel", "ops", set...), []byte("\n---\n")) {
		var meta struct{ Kind string }
		must(t, yaml.Unmarshal(doc, &meta))
		if meta.Kind == "NetworkPolicy" {
			var np networkingv1.NetworkPolicy
			must(t, yaml.UnmarshalStrict(doc, &np))
			out = append(out, np)
		}
	}
	return out
}

// The chart's networkPolicy values: none by default; enabled, a policy on the manager's pods
// letting in only the monitoring namespaces on the probe and metrics ports, and out only DNS,
// the API server's and the Graph API's CIDRs.
func TestChartNetworkPolicy(t *testing.T) {
	if nps := chartNetworkPolicies(t); len(nps) != 0 {
		t.Fatalf("NetworkPolicies rendered by default: %+v", nps)
	}
	nps := chartNetworkPolicies(t, "networkPolicy.enabled=true", "networkPolicy.apiServerCIDRs={10.0.0.1/32}",
		"networkPolicy.graphAPICIDRs={157.240.0.0/16}", "networkPolicy.monitoringNamespaceSelector.matchLabels.team=obs")
	if len(nps) != 1 {
		t.Fatalf("%d NetworkPolicies", len(nps))
	}
	s := nps[0].Spec
	sel, err := metav1.LabelSelectorAsMap(&s.PodSelector)
	must(t, err)
	if sel["control-plane"] != "controller-manager" || sel["app.kubernetes.io/instance"] != "rel" || nps[0].Namespace != "ops" {
		t.Fatalf("policy %s/%s selects %v", nps[0].Namespace, nps[0].Name, sel)
	}
	if len(s.Ingress) != 1 || s.Ingress[0].From[0].NamespaceSelector.MatchLabels["team"] != "obs" ||
		fmt.Sprint(portList(s.Ingress[0].Ports)) != "[TCP/8081 TCP/8443]" {
		t.Fatalf("ingress %+v", s.Ingress)
	}
	var egress []string
	for _, e := range s.Egress {
		var to []string
		for _, p := range e.To {
			to = append(to, p.IPBlock.CIDR)
		}
		egress = append(egress, fmt.Sprint(to, portList(e.Ports)))
	}
	if want := "[[] [UDP/53 TCP/53] [10.0.0.1/32] [TCP/443 TCP/6443] [157.240.0.0/16] [TCP/443]]"; fmt.Sprint(egress) != want {
		t.Fatalf("egress %v, want %s", egress, want)
	}
}

func portList(ps []networkingv1.NetworkPolicyPort) []string {
	var out []string
	for _, p := range ps {
		out = append(out, string(*p.Protocol)+"/"+p.Port.String())
	}
	return out
}
