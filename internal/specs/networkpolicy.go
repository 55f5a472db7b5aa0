package specs

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	networkingv1ac "k8s.io/client-go/applyconfigurations/networking/v1"

	"github.com/messenger-operator/messenger-operator/internal/contract"
)

// Ports of the NetworkPolicy's egress rules.
const (
	dnsPort          = 53
	graphAPIPort     = 443
	apiServerPort    = 443
	apiServerAltPort = 6443
)

// NetworkPolicy is the policy of spec.webhook.networkPolicy around the webhook's pods; nil when
// not enabled. Ingress: the webhook port from anywhere (Meta comes through the Ingress
// controller, whose namespace varies), the probe and metrics port from the monitoring
// namespaces only. Egress: DNS, the API server's CIDRs, the Graph API's CIDRs, nothing else.
func NetworkPolicy(w Webhook) *networkingv1ac.NetworkPolicyApplyConfiguration {
	np := w.webhookSpec().NetworkPolicy
	if np == nil || !np.Enabled {
		return nil
	}
	p := networkingv1ac.NetworkPolicy(w.Name(), w.Namespace())
	w.meta(p.ObjectMetaApplyConfiguration)
	ingress := []*networkingv1ac.NetworkPolicyIngressRuleApplyConfiguration{
		networkingv1ac.NetworkPolicyIngressRule().WithPorts(tcpPort(contract.WebhookPort)),
	}
	if sel := np.MonitoringNamespaceSelector; sel != nil {
		ns := metav1ac.LabelSelector().WithMatchLabels(sel.MatchLabels)
		for _, e := range sel.MatchExpressions {
			ns.WithMatchExpressions(metav1ac.LabelSelectorRequirement().WithKey(e.Key).WithOperator(e.Operator).WithValues(e.Values...))
		}
		ingress = append(ingress, networkingv1ac.NetworkPolicyIngressRule().
			WithFrom(networkingv1ac.NetworkPolicyPeer().WithNamespaceSelector(ns)).
			WithPorts(tcpPort(contract.ProbePort)))
	}
	egress := []*networkingv1ac.NetworkPolicyEgressRuleApplyConfiguration{
		networkingv1ac.NetworkPolicyEgressRule().WithPorts(
			networkingv1ac.NetworkPolicyPort().WithProtocol(corev1.ProtocolUDP).WithPort(intstr.FromInt32(dnsPort)),
			tcpPort(dnsPort)),
	}
	if len(np.APIServerCIDRs) > 0 {
		egress = append(egress, networkingv1ac.NetworkPolicyEgressRule().
			WithTo(cidrPeers(np.APIServerCIDRs)...).WithPorts(tcpPort(apiServerPort), tcpPort(apiServerAltPort)))
	}
	if len(np.GraphAPICIDRs) > 0 {
		egress = append(egress, networkingv1ac.NetworkPolicyEgressRule().
			WithTo(cidrPeers(np.GraphAPICIDRs)...).WithPorts(tcpPort(graphAPIPort)))
	}
	p.WithSpec(networkingv1ac.NetworkPolicySpec().
		WithPodSelector(metav1ac.LabelSelector().WithMatchLabels(w.SelectorLabels())).
		WithPolicyTypes(networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress).
		WithIngress(ingress...).
		WithEgress(egress...))
	stamp(p, p.ObjectMetaApplyConfiguration)
	return p
}

func tcpPort(port int32) *networkingv1ac.NetworkPolicyPortApplyConfiguration {
	return networkingv1ac.NetworkPolicyPort().WithProtocol(corev1.ProtocolTCP).WithPort(intstr.FromInt32(port))
}

func cidrPeers(cidrs []string) []*networkingv1ac.NetworkPolicyPeerApplyConfiguration {
	out := make([]*networkingv1ac.NetworkPolicyPeerApplyConfiguration, len(cidrs))
	for i, c := range cidrs {
		out[i] = networkingv1ac.NetworkPolicyPeer().WithIPBlock(networkingv1ac.IPBlock().WithCIDR(c))
	}
	return out
}
