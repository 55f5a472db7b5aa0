package specs

import (
	"maps"

	networkingv1 "k8s.io/api/networking/v1"
	networkingv1ac "k8s.io/client-go/applyconfigurations/networking/v1"
)

// cert-manager's ingress-shim annotations: it creates the Certificate for the TLS Secret.
const (
	ClusterIssuerAnnotation = "cert-manager.io/cluster-issuer"
	IssuerAnnotation        = "cert-manager.io/issuer"
)

// Ingress exposes the webhook on spec.ingress; nil when the page or app has no spec.ingress.
func Ingress(w Webhook) *networkingv1ac.IngressApplyConfiguration {
	in := w.ingressSpec()
	if in == nil {
		return nil
	}
	i := networkingv1ac.Ingress(w.Name(), w.Namespace())
	w.meta(i.ObjectMetaApplyConfiguration)
	annotations := maps.Clone(in.Annotations)
	if tls := in.TLS; tls != nil && tls.Issuer != nil {
		if annotations == nil {
			annotations = map[string]string{}
		}
		// The spec's issuer wins over a hand-written annotation of either kind.
		delete(annotations, ClusterIssuerAnnotation)
		delete(annotations, IssuerAnnotation)
		key := ClusterIssuerAnnotation
		if tls.Issuer.Kind == "Issuer" {
			key = IssuerAnnotation
		}
		annotations[key] = tls.Issuer.Name
	}
	if len(annotations) > 0 {
		i.WithAnnotations(annotations)
	}
	spec := networkingv1ac.IngressSpec().
		WithRules(networkingv1ac.IngressRule().
			WithHost(in.Host).
			WithHTTP(networkingv1ac.HTTPIngressRuleValue().WithPaths(networkingv1ac.HTTPIngressPath().
				WithPath(w.Path()).
				WithPathType(networkingv1.PathTypePrefix).
				WithBackend(networkingv1ac.IngressBackend().WithService(networkingv1ac.IngressServiceBackend().
					WithName(w.Name()).
					WithPort(networkingv1ac.ServiceBackendPort().WithName(httpPortName)))))))
	if in.ClassName != nil {
		spec.WithIngressClassName(*in.ClassName)
	}
	if in.TLS != nil {
		spec.WithTLS(networkingv1ac.IngressTLS().WithHosts(in.Host).WithSecretName(in.TLS.SecretName))
	}
	i.WithSpec(spec)
	stamp(i, i.ObjectMetaApplyConfiguration)
	return i
}
