package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// WebhookNetworkPolicy asks for a NetworkPolicy around the webhook's pods: ingress only to the
// webhook port (from anywhere: Meta, through the Ingress controller) and to the probe and
// metrics port from the monitoring namespaces; egress only to DNS, the API server and the Graph
// API. NetworkPolicy has no host names, so the API server and the Graph API are given as CIDRs.
// +kubebuilder:validation:XValidation:rule="!has(self.enabled) || !self.enabled || (has(self.apiServerCIDRs) && size(self.apiServerCIDRs) > 0)",message="networkPolicy.apiServerCIDRs is required when enabled: the webhook reads its page, policy and Secrets from the API server"
type WebhookNetworkPolicy struct {
	// Enabled creates the NetworkPolicy; false (the default) deletes it.
	Enabled bool `json:"enabled"`

	// GraphAPICIDRs the webhook may reach on TCP 443 (the Graph API). Empty: none, and the
	// webhook cannot answer anyone.
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MaxLength=64
	// +kubebuilder:validation:items:XValidation:rule="isCIDR(self)",message="must be a CIDR such as 157.240.0.0/16"
	// +listType=atomic
	// +optional
	GraphAPICIDRs []string `json:"graphAPICIDRs,omitempty"`

	// APIServerCIDRs are the addresses of the Kubernetes API server (its endpoints, such as
	// `kubectl get endpoints kubernetes -n default` lists), reached on TCP 443 and 6443.
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MaxLength=64
	// +kubebuilder:validation:items:XValidation:rule="isCIDR(self)",message="must be a CIDR such as 10.0.0.1/32"
	// +listType=atomic
	// +optional
	APIServerCIDRs []string `json:"apiServerCIDRs,omitempty"`

	// MonitoringNamespaceSelector selects the namespaces whose pods may reach the probe and
	// metrics port (8081). Unset: none (the kubelet's probes come from the node).
	// +optional
	MonitoringNamespaceSelector *metav1.LabelSelector `json:"monitoringNamespaceSelector,omitempty"`
}
