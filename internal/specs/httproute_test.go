package specs

import (
	"bytes"
	"encoding/json"
	"testing"

	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

func routeSpec() *v1alpha1.HTTPRouteSpec {
	return &v1alpha1.HTTPRouteSpec{
		ParentRefs: []v1alpha1.ParentReference{
			{Name: "public", Namespace: ptr.To("gateways"), SectionName: ptr.To("https")},
			{Name: "internal", Port: ptr.To(int32(8443))},
		},
		Hostnames:   []v1alpha1.Hostname{"*.acme.example", "m.acme.example"},
		Annotations: map[string]string{"team": "support"},
	}
}

// decodeRoute reads the unstructured route into the Gateway API's own type: a field the
// Gateway API does not know, or of the wrong type, fails here.
func decodeRoute(t *testing.T, p *v1alpha1.MessengerPage) *gatewayv1.HTTPRoute {
	t.Helper()
	u := HTTPRoute(Webhook{Page: p})
	if u == nil {
		t.Fatal("no HTTPRoute")
	}
	b, err := json.Marshal(u.Object)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var r gatewayv1.HTTPRoute
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("not a Gateway API HTTPRoute: %v", err)
	}
	return &r
}

func TestHTTPRoute(t *testing.T) {
	p := testPage()
	if HTTPRoute(Webhook{Page: p}) != nil {
		t.Fatal("an HTTPRoute without spec.httpRoute")
	}
	p.Spec.HTTPRoute = routeSpec()
	r := decodeRoute(t, p)
	if r.APIVersion != "gateway.networking.k8s.io/v1" || r.Kind != "HTTPRoute" || r.Name != "acme-webhook" || r.Namespace != "shop" {
		t.Fatalf("identity: %s %s %s/%s", r.APIVersion, r.Kind, r.Namespace, r.Name)
	}
	if len(r.OwnerReferences) != 1 || r.OwnerReferences[0].UID != "uid-1" || !*r.OwnerReferences[0].Controller {
		t.Fatalf("owner: %+v", r.OwnerReferences)
	}
	if r.Labels[LabelManaged] != "true" || r.Labels["argocd.argoproj.io/instance"] != "" {
		t.Fatalf("labels: %v", r.Labels)
	}
	if r.Annotations["team"] != "support" || r.Annotations[AppliedHashAnnotation] == "" {
		t.Fatalf("annotations: %v", r.Annotations)
	}
	pr := r.Spec.ParentRefs
	if len(pr) != 2 || pr[0].Name != "public" || string(*pr[0].Namespace) != "gateways" || string(*pr[0].SectionName) != "https" ||
		pr[0].Group != nil || pr[0].Kind != nil || pr[1].Name != "internal" || *pr[1].Port != 8443 || pr[1].Namespace != nil {
		t.Fatalf("parentRefs: %+v", pr)
	}
	if len(r.Spec.Hostnames) != 2 || r.Spec.Hostnames[1] != "m.acme.example" {
		t.Fatalf("hostnames: %v", r.Spec.Hostnames)
	}
	if len(r.Spec.Rules) != 1 || len(r.Spec.Rules[0].Matches) != 1 || len(r.Spec.Rules[0].BackendRefs) != 1 {
		t.Fatalf("rules: %+v", r.Spec.Rules)
	}
	m := r.Spec.Rules[0].Matches[0].Path
	if *m.Type != gatewayv1.PathMatchPathPrefix || *m.Value != "/webhook" {
		t.Fatalf("match: %+v", m)
	}
	be := r.Spec.Rules[0].BackendRefs[0]
	if be.Name != "acme-webhook" || *be.Port != ServicePort || be.Kind != nil {
		t.Fatalf("backend: %+v", be)
	}

	// The ingress path is the webhook's path: the route follows it.
	p.Spec.Ingress = ingressSpec("m.acme.example", "/hooks/acme")
	if got := *decodeRoute(t, p).Spec.Rules[0].Matches[0].Path.Value; got != "/hooks/acme" {
		t.Fatalf("path with an ingress path: %q", got)
	}
}

func TestHTTPRouteHashFollowsTheSpec(t *testing.T) {
	p := testPage()
	p.Spec.HTTPRoute = routeSpec()
	hash := func() string { return HTTPRoute(Webhook{Page: p}).GetAnnotations()[AppliedHashAnnotation] }
	h1 := hash()
	if h1 != hash() {
		t.Fatal("the hash is not stable")
	}
	p.Spec.HTTPRoute.Hostnames = p.Spec.HTTPRoute.Hostnames[:1]
	h2 := hash()
	if h2 == h1 {
		t.Fatal("a removed hostname does not change the hash")
	}
	p.Spec.HTTPRoute.Annotations = nil
	if hash() == h2 {
		t.Fatal("a removed annotation does not change the hash")
	}
}

func TestWebhookURLFromHTTPRoute(t *testing.T) {
	p := testPage()
	p.Spec.HTTPRoute = &v1alpha1.HTTPRouteSpec{ParentRefs: []v1alpha1.ParentReference{{Name: "gw"}}, Hostnames: []v1alpha1.Hostname{"*.acme.example"}}
	if got := WebhookURL(p); got != "http://acme-webhook.shop.svc:80/webhook" {
		t.Fatalf("a wildcard is no host: %q", got)
	}
	p.Spec.HTTPRoute.Hostnames = append(p.Spec.HTTPRoute.Hostnames, "m.acme.example")
	if got := WebhookURL(p); got != "https://m.acme.example/webhook" {
		t.Fatalf("route URL %q", got)
	}
	p.Spec.Ingress = ingressSpec("in.acme.example", "")
	if got := WebhookURL(p); got != "https://in.acme.example/webhook" {
		t.Fatalf("the Ingress comes first: %q", got)
	}
}
