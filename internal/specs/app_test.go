package specs

import (
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// An app and a page never take each other's names or pods, whatever their names: a page named
// like the app's objects, or an app named like a page.
func TestAppNamesNeverMeetPageNames(t *testing.T) {
	long := strings.Repeat("a", 253)
	for _, name := range []string{"acme", "acme-app", "acme-webhook", "x.y", "1app", long} {
		for _, other := range []string{name, name + "-app", name + "-webhook", name + "-verify-token", strings.TrimSuffix(name, "-app")} {
			if AppWebhookName(name) == WebhookName(other) {
				t.Errorf("app %q and page %q share the webhook name %q", name, other, WebhookName(other))
			}
			if AppVerifyTokenSecretName(name) == VerifyTokenSecretName(other) {
				t.Errorf("app %q and page %q share the verify token Secret name", name, other)
			}
			page := &v1alpha1.MessengerPage{}
			page.Name = other
			app := &v1alpha1.MessengerApp{}
			app.Name = name
			if labels.SelectorFromSet(SelectorLabels(page)).Matches(labels.Set(AppSelectorLabels(app))) ||
				labels.SelectorFromSet(AppSelectorLabels(app)).Matches(labels.Set(SelectorLabels(page))) {
				t.Errorf("selectors of app %q and page %q overlap", name, other)
			}
		}
		if errs := validation.IsDNS1035Label(AppWebhookName(name)); len(errs) > 0 {
			t.Errorf("AppWebhookName(%q): %v", name, errs)
		}
		if errs := validation.IsDNS1123Subdomain(AppVerifyTokenSecretName(name)); len(errs) > 0 {
			t.Errorf("AppVerifyTokenSecretName(%q): %v", name, errs)
		}
		if errs := validation.IsValidLabelValue(AppInstanceValue(name)); len(errs) > 0 {
			t.Errorf("AppInstanceValue(%q): %v", name, errs)
		}
	}
	if AppWebhookName("acme") != "acme-webhook-app" || AppVerifyTokenSecretName("acme") != "acme-verify-token-app" {
		t.Fatalf("plain names: %s %s", AppWebhookName("acme"), AppVerifyTokenSecretName("acme"))
	}
}

func TestAppDeployment(t *testing.T) {
	w := Webhook{App: testApp(), DefaultImage: "op:1"}
	d := typed[appsv1.Deployment](t, Deployment(w))
	if d.Name != "acme-webhook-app" || d.Namespace != "shop" || *d.Spec.Replicas != 2 {
		t.Fatalf("deployment %s/%s replicas %d", d.Namespace, d.Name, *d.Spec.Replicas)
	}
	if len(d.OwnerReferences) != 1 || d.OwnerReferences[0].Kind != "MessengerApp" || d.OwnerReferences[0].UID != "uid-app" {
		t.Fatalf("owner: %+v", d.OwnerReferences)
	}
	if d.Labels[LabelComponent] != ComponentApp || d.Labels[LabelManaged] != "true" ||
		d.Spec.Selector.MatchLabels[LabelComponent] != ComponentApp || d.Spec.Template.Labels[LabelInstance] != "acme_app" {
		t.Fatalf("labels %v selector %v", d.Labels, d.Spec.Selector.MatchLabels)
	}
	pod := d.Spec.Template.Spec
	c := pod.Containers[0]
	if pod.ServiceAccountName != "acme-webhook-app" || c.Image != "op:1" {
		t.Fatalf("sa %q image %q", pod.ServiceAccountName, c.Image)
	}
	want := []string{"--app=$(APP)", "--listen=:1337", "--probe-addr=:8081", "--drain-timeout=20s"}
	if !slices.Equal(c.Args, want) {
		t.Fatalf("args %v", c.Args)
	}
	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		env[e.Name] = e
	}
	if env["APP"].Value != "acme" || env["POD_NAMESPACE"].ValueFrom.FieldRef.FieldPath != "metadata.namespace" ||
		env["MEMORY_LIMIT"].ValueFrom.ResourceFieldRef.Resource != "limits.memory" || env["AUDIT_KEY"].ValueFrom == nil || env["ROLE"].Value != "acme-webhook-app" || len(env) != 5 {
		t.Fatalf("env %+v", c.Env)
	}
	// APP is defined before it is referenced by --app=$(APP).
	if c.Env[0].Name != "POD_NAMESPACE" || c.Env[2].Name != "APP" {
		t.Fatalf("env order %+v", c.Env)
	}
	w.VerifyTokenSecret = AppVerifyTokenSecretName("acme")
	d2 := typed[appsv1.Deployment](t, Deployment(w))
	if e := d2.Spec.Template.Spec.Containers[0].Env; len(e) != 6 || e[4].Name != "VERIFY_TOKEN_SECRET" || e[4].Value != "acme-verify-token-app" {
		t.Fatalf("env with generated token %+v", e)
	}
	if d2.Spec.Template.Annotations[SpecHashAnnotation] == d.Spec.Template.Annotations[SpecHashAnnotation] {
		t.Fatal("switching to the generated token does not roll the pods")
	}
}

func TestAppServiceIngressRoute(t *testing.T) {
	app := testApp()
	w := Webhook{App: app}
	s := typed[corev1.Service](t, Service(w))
	if s.Name != "acme-webhook-app" || s.Spec.Selector[LabelComponent] != ComponentApp || s.Spec.Selector[LabelInstance] != "acme_app" {
		t.Fatalf("service %s selector %v", s.Name, s.Spec.Selector)
	}
	if Ingress(w) != nil || HTTPRoute(w) != nil {
		t.Fatal("an Ingress or HTTPRoute without spec")
	}
	if got := AppWebhookURL(app); got != "http://acme-webhook-app.shop.svc:80/webhook" {
		t.Fatalf("in-cluster URL %q", got)
	}
	app.Spec.Ingress = ingressSpec("m.acme.example", "/hooks/app")
	i := typed[networkingv1.Ingress](t, Ingress(w))
	path := i.Spec.Rules[0].HTTP.Paths[0]
	if i.Name != "acme-webhook-app" || path.Path != "/hooks/app" || path.Backend.Service.Name != "acme-webhook-app" {
		t.Fatalf("ingress %s path %+v", i.Name, path)
	}
	if got := AppWebhookURL(app); got != "https://m.acme.example/hooks/app" {
		t.Fatalf("ingress URL %q", got)
	}
	app.Spec.Ingress = nil
	app.Spec.HTTPRoute = &v1alpha1.HTTPRouteSpec{ParentRefs: []v1alpha1.ParentReference{{Name: "gw"}}, Hostnames: []v1alpha1.Hostname{"*.x.example", "hook.x.example"}}
	u := HTTPRoute(w)
	if u.GetName() != "acme-webhook-app" || u.GetOwnerReferences()[0].Kind != "MessengerApp" {
		t.Fatalf("route %s owners %+v", u.GetName(), u.GetOwnerReferences())
	}
	if got := AppWebhookURL(app); got != "https://hook.x.example/webhook" {
		t.Fatalf("route URL %q", got)
	}
}

func TestAppRole(t *testing.T) {
	w := Webhook{App: testApp()}
	rules := func(pages []string, secrets ...string) map[string]rbacv1.PolicyRule {
		r := typed[rbacv1.Role](t, AppRole(w, pages, secrets...))
		if r.Name != "acme-webhook-app" || r.OwnerReferences[0].Kind != "MessengerApp" {
			t.Fatalf("role %s", r.Name)
		}
		out := map[string]rbacv1.PolicyRule{}
		for _, rule := range r.Rules {
			for _, v := range rule.Verbs {
				if v == "*" || v == "delete" || v == "update" || v == "create" && rule.Resources[0] != "events" {
					t.Fatalf("verb %q in %+v", v, rule)
				}
			}
			out[rule.Resources[0]] = rule
		}
		return out
	}
	got := rules(nil, "app-creds", "acme-verify-token-app")
	if _, ok := got["messengerpages/status"]; ok {
		t.Fatal("status of every page granted while the app has no page")
	}
	if s := got["secrets"]; !slices.Equal(s.ResourceNames, []string{"acme-verify-token-app", "app-creds"}) || !slices.Equal(s.Verbs, []string{"get", "list", "watch"}) {
		t.Fatalf("secrets %+v", s)
	}
	if a := got["messengerapps"]; !slices.Equal(a.ResourceNames, []string{"acme"}) {
		t.Fatalf("apps %+v", a)
	}
	if p := got["messengerpages"]; len(p.ResourceNames) != 0 || !slices.Equal(p.Verbs, []string{"list", "watch"}) {
		t.Fatalf("pages %+v", p)
	}
	if _, ok := got["events"]; !ok {
		t.Fatal("no events rule")
	}
	// Its own Role, which it reads to watch a Secret once granted; no other Role.
	if r := got["roles"]; !slices.Equal(r.ResourceNames, []string{"acme-webhook-app"}) || !slices.Equal(r.Verbs, []string{"get", "list", "watch"}) ||
		!slices.Equal(r.APIGroups, []string{rbacv1.GroupName}) {
		t.Fatalf("roles %+v", r)
	}
	got = rules([]string{"b", "a", "b"}, "app-creds", "page-b", "page-a", "app-creds")
	if s := got["messengerpages/status"]; !slices.Equal(s.ResourceNames, []string{"a", "b"}) || !slices.Equal(s.Verbs, []string{"patch"}) {
		t.Fatalf("status %+v", s)
	}
	if s := got["secrets"]; !slices.Equal(s.ResourceNames, []string{"app-creds", "page-a", "page-b"}) {
		t.Fatalf("secrets %+v", s)
	}
	b := typed[rbacv1.RoleBinding](t, RoleBinding(w))
	if b.RoleRef.Name != "acme-webhook-app" || b.Subjects[0].Name != "acme-webhook-app" {
		t.Fatalf("binding %+v", b)
	}
	s := typed[corev1.Secret](t, VerifyTokenSecret(w, []byte("tok")))
	if s.Name != "acme-verify-token-app" || s.OwnerReferences[0].Kind != "MessengerApp" {
		t.Fatalf("secret %s", s.Name)
	}
}
