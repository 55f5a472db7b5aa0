package v1alpha1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// MonitoringSpec says how the webhook's metrics are collected. The webhook serves them on its
// probe port (8081, /metrics), also exposed on the webhook's Service as port "metrics".
type MonitoringSpec struct {
	// PodMonitor makes a monitoring.coreos.com/v1 PodMonitor (Prometheus Operator) that scrapes
	// the webhook's pods. It is made only when the PodMonitor CRD is installed; the Monitoring
	// condition says when it is not, and the operator looks again every 5 minutes.
	// +optional
	PodMonitor *PodMonitorSpec `json:"podMonitor,omitempty"`
}

// PodMonitorSpec shapes the PodMonitor of the webhook's pods.
type PodMonitorSpec struct {
	// Interval between scrapes, such as 30s or 1m; Prometheus' own default when empty.
	// +kubebuilder:validation:MaxLength=16
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+(ms|s|m|h))+$')",message="interval must be a Prometheus duration such as 30s, 1m or 1m30s"
	// +optional
	Interval string `json:"interval,omitempty"`

	// Labels added to the PodMonitor, for the podMonitorSelector of a Prometheus (such as
	// release: kube-prometheus-stack).
	// +kubebuilder:validation:MaxProperties=32
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
}

// TokenStatus is what Meta's debug_token last said of the page access token.
type TokenStatus struct {
	// Valid is debug_token's is_valid: false for a token Meta refuses (expired, revoked, or
	// invalidated by a password change).
	Valid bool `json:"valid"`

	// ExpiresAt is when the token stops working; absent when it never expires (expires_at 0:
	// a Page token derived from a long-lived user token).
	// +optional
	ExpiresAt *metav1.Time `json:"expiresAt,omitempty"`

	// DataAccessExpiresAt is when the token's data access ends (90 days after the user's last
	// consent); the token may still send, but reads of user data fail after it.
	// +optional
	DataAccessExpiresAt *metav1.Time `json:"dataAccessExpiresAt,omitempty"`

	// Scopes are the permissions granted to the token; the webhook needs pages_messaging.
	// +listType=set
	// +optional
	Scopes []string `json:"scopes,omitempty"`
}
