package specs

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
)

// Service puts port 80 in front of the webhook's http port.
func Service(w Webhook) *corev1ac.ServiceApplyConfiguration {
	page := w.Page
	s := corev1ac.Service(WebhookName(page.Name), page.Namespace)
	objectMeta(s.ObjectMetaApplyConfiguration, page)
	s.WithSpec(corev1ac.ServiceSpec().
		WithType(corev1.ServiceTypeClusterIP).
		WithSelector(SelectorLabels(page)).
		WithPorts(corev1ac.ServicePort().
			WithName(httpPortName).
			WithPort(ServicePort).
			WithTargetPort(intstr.FromString(httpPortName)).
			WithProtocol(corev1.ProtocolTCP)))
	stamp(s, s.ObjectMetaApplyConfiguration)
	return s
}
