package specs

import (
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// HTTPRouteGVK is the Gateway API HTTPRoute. It is built as unstructured: the operator must run
// in clusters without the Gateway API, so its types are not in the manager's scheme.
var HTTPRouteGVK = schema.GroupVersionKind{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "HTTPRoute"}

// HTTPRoute routes the webhook path of spec.httpRoute's hostnames, from its parent Gateways, to
// the webhook's Service; nil when the page or app has no spec.httpRoute.
func HTTPRoute(w Webhook) *unstructured.Unstructured {
	hr := w.httpRouteSpec()
	if hr == nil {
		return nil
	}
	parents := make([]any, 0, len(hr.ParentRefs))
	for _, p := range hr.ParentRefs {
		ref := map[string]any{"name": p.Name}
		setIf(ref, "group", p.Group)
		setIf(ref, "kind", p.Kind)
		setIf(ref, "namespace", p.Namespace)
		setIf(ref, "sectionName", p.SectionName)
		if p.Port != nil {
			ref["port"] = int64(*p.Port)
		}
		parents = append(parents, ref)
	}
	spec := map[string]any{
		"parentRefs": parents,
		"rules": []any{map[string]any{
			"matches": []any{map[string]any{
				"path": map[string]any{"type": "PathPrefix", "value": w.Path()},
			}},
			"backendRefs": []any{map[string]any{
				"name": w.Name(),
				"port": int64(ServicePort),
			}},
		}},
	}
	if len(hr.Hostnames) > 0 {
		hosts := make([]any, 0, len(hr.Hostnames))
		for _, h := range hr.Hostnames {
			hosts = append(hosts, string(h))
		}
		spec["hostnames"] = hosts
	}

	return w.unstructured(HTTPRouteGVK, spec, w.labels(), hr.Annotations)
}

func setIf(m map[string]any, key string, v *string) {
	if v != nil && *v != "" {
		m[key] = *v
	}
}

// routeHost is the first hostname of spec.httpRoute that names one host (no wildcard).
func routeHost(hr *v1alpha1.HTTPRouteSpec) string {
	if hr != nil {
		for _, h := range hr.Hostnames {
			if !strings.HasPrefix(string(h), "*") {
				return string(h)
			}
		}
	}
	return ""
}
