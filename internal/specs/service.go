package specs

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"

	"github.com/messenger-operator/messenger-operator/internal/contract"
)

// Service puts port 80 in front of the webhook's http port, and port "metrics" (8081) in front
// of its probe port, which serves /metrics, for a ServiceMonitor or a scrape by Service.
func Service(w Webhook) *corev1ac.ServiceApplyConfiguration {
	s := corev1ac.Service(w.Name(), w.Namespace())
	w.meta(s.ObjectMetaApplyConfiguration)
	s.WithSpec(corev1ac.ServiceSpec().
		WithType(corev1.ServiceTypeClusterIP).
		WithSelector(w.SelectorLabels()).
		WithPorts(corev1ac.ServicePort().
			WithName(httpPortName).
			WithPort(ServicePort).
			WithTargetPort(intstr.FromString(httpPortName)).
			WithProtocol(corev1.ProtocolTCP),
			corev1ac.ServicePort().
				WithName(MetricsPortName).
				WithPort(contract.ProbePort).
				WithTargetPort(intstr.FromString(probePortName)).
				WithProtocol(corev1.ProtocolTCP)))
	stamp(s, s.ObjectMetaApplyConfiguration)
	return s
}
