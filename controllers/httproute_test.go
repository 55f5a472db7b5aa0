package controllers_test

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/specs"
	"github.com/messenger-operator/messenger-operator/test/testenv"
)

// gatewayCRDs is the HTTPRoute CRD of the Gateway API module this repository requires.
func gatewayCRDs(t *testing.T) string {
	t.Helper()
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/gateway-api")
	cmd.Dir = testenv.RepoRoot()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("locating the gateway-api module: %v", err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "config", "crd", "standard", "gateway.networking.k8s.io_httproutes.yaml")
}

func (s *pageSuite) route(t *testing.T, p *messengerv1alpha1.MessengerPage) (*unstructured.Unstructured, error) {
	t.Helper()
	return s.routeAt(t, webhookKey(p))
}

func (s *pageSuite) routeAt(t *testing.T, k types.NamespacedName) (*unstructured.Unstructured, error) {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(specs.HTTPRouteGVK)
	return u, s.c.Get(s.ctx, k, u)
}

func typedRoute(t *testing.T, u *unstructured.Unstructured) *gatewayv1.HTTPRoute {
	t.Helper()
	b, err := json.Marshal(u.Object)
	s := &gatewayv1.HTTPRoute{}
	if err == nil {
		err = json.Unmarshal(b, s)
	}
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *pageSuite) waitRouteCondition(t *testing.T, p *messengerv1alpha1.MessengerPage, st metav1.ConditionStatus, reason string) {
	t.Helper()
	s.eventually(t, "HTTPRoute condition "+reason, func() (bool, string) {
		got := s.get(t, p)
		c := condition(got, messengerv1alpha1.ConditionHTTPRoute)
		if c == nil || c.Status != st || c.Reason != reason || c.ObservedGeneration != got.Generation {
			return false, fmt.Sprintf("%+v", c)
		}
		return true, ""
	})
}

func appRouteIs(st metav1.ConditionStatus, reason string) func(*messengerv1alpha1.MessengerApp) bool {
	return func(a *messengerv1alpha1.MessengerApp) bool {
		c := apimeta.FindStatusCondition(a.Status.Conditions, messengerv1alpha1.ConditionHTTPRoute)
		return c != nil && c.Status == st && c.Reason == reason && c.ObservedGeneration == a.Generation
	}
}

// Without the Gateway API the manager runs and serves the page and the app, which say the route
// is missing; once the CRDs are installed their routes are made, owned, and kept as specified.
func testHTTPRoute(t *testing.T, s *pageSuite) {
	app := s.routedApp(t)
	p := s.readyPage(t, "route", func(p *messengerv1alpha1.MessengerPage) {
		p.Spec.HTTPRoute = &messengerv1alpha1.HTTPRouteSpec{
			ParentRefs: []messengerv1alpha1.ParentReference{{Name: "public", Namespace: ptr.To("gateways"), SectionName: ptr.To("https")}},
			Hostnames:  []messengerv1alpha1.Hostname{"m.acme.example"},
		}
	})
	s.setAvailable(t, p)
	got := s.waitReady(t, p, want{metav1.ConditionTrue, messengerv1alpha1.ReasonAvailable, "https://m.acme.example/webhook", status.CurrentStatus})
	if got.Status.WebhookURL != "https://m.acme.example/webhook" {
		t.Fatalf("webhookURL %q", got.Status.WebhookURL)
	}
	s.waitRouteCondition(t, p, metav1.ConditionFalse, messengerv1alpha1.ReasonGatewayAPIMissing)
	s.waitEvent(t, p, "Warning", messengerv1alpha1.ReasonGatewayAPIMissing)

	// Install the Gateway API into the running control plane: the page's next look finds it.
	if _, err := envtest.InstallCRDs(s.env.Config, envtest.CRDInstallOptions{Paths: []string{gatewayCRDs(t)}, ErrorIfPathMissing: true}); err != nil {
		t.Fatal(err)
	}
	s.waitRouteCondition(t, p, metav1.ConditionTrue, messengerv1alpha1.ReasonRouteApplied)
	t.Run("App", func(t *testing.T) { s.appRouteApplied(t, app) })
	u, err := s.route(t, p)
	s.must(t, err)
	r := typedRoute(t, u)
	if !metav1.IsControlledBy(u, got) || r.Labels[specs.LabelManaged] != "true" {
		t.Fatalf("owner %v labels %v", r.OwnerReferences, r.Labels)
	}
	if len(r.Spec.ParentRefs) != 1 || r.Spec.ParentRefs[0].Name != "public" || string(*r.Spec.ParentRefs[0].Namespace) != "gateways" ||
		len(r.Spec.Hostnames) != 1 || r.Spec.Hostnames[0] != "m.acme.example" ||
		r.Spec.Rules[0].BackendRefs[0].Name != gatewayv1.ObjectName(specs.WebhookName(p.Name)) || *r.Spec.Rules[0].Matches[0].Path.Value != "/webhook" {
		t.Fatalf("route spec: %+v", r.Spec)
	}

	// Drift: an edit is reverted, a deleted route comes back.
	s.modify(t, u, func() { _ = unstructured.SetNestedStringSlice(u.Object, []string{"evil.example"}, "spec", "hostnames") })
	s.eventually(t, "the hostnames restored", func() (bool, string) {
		u, err := s.route(t, p)
		if err != nil {
			return false, err.Error()
		}
		h, _, _ := unstructured.NestedStringSlice(u.Object, "spec", "hostnames")
		return len(h) == 1 && h[0] == "m.acme.example", fmt.Sprint(h)
	})
	s.must(t, s.c.Delete(s.ctx, u))
	s.eventually(t, "the route recreated", func() (bool, string) {
		n, err := s.route(t, p)
		return err == nil && n.GetUID() != u.GetUID(), fmt.Sprint(err)
	})

	// A spec change follows; removing spec.httpRoute deletes the route and its condition.
	s.modify(t, p, func() { p.Spec.HTTPRoute.Hostnames = append(p.Spec.HTTPRoute.Hostnames, "m2.acme.example") })
	s.eventually(t, "the new hostname", func() (bool, string) {
		u, err := s.route(t, p)
		if err != nil {
			return false, err.Error()
		}
		h, _, _ := unstructured.NestedStringSlice(u.Object, "spec", "hostnames")
		return len(h) == 2, fmt.Sprint(h)
	})
	s.modify(t, p, func() { p.Spec.HTTPRoute = nil })
	s.eventually(t, "the route deleted", func() (bool, string) {
		_, err := s.route(t, p)
		return errors.IsNotFound(err), fmt.Sprint(err)
	})
	s.eventually(t, "the HTTPRoute condition gone", func() (bool, string) {
		got := s.get(t, p)
		c := condition(got, messengerv1alpha1.ConditionHTTPRoute)
		return c == nil && got.Status.ObservedGeneration == got.Generation, fmt.Sprintf("%+v", c)
	})
}

// routedApp is a Ready app with spec.httpRoute in a cluster without the Gateway API: its
// HTTPRoute condition and a Warning Event say the route is missing.
func (s *pageSuite) routedApp(t *testing.T) *messengerv1alpha1.MessengerApp {
	t.Helper()
	ns := s.namespace(t, "approute")
	s.secret(t, ns, "rt-creds", "appSecret", "verifyToken")
	app := newApp(ns, "rt", "9700")
	app.Spec.SecretRef.Name = "rt-creds"
	app.Spec.HTTPRoute = &messengerv1alpha1.HTTPRouteSpec{
		ParentRefs: []messengerv1alpha1.ParentReference{{Name: "public", Namespace: ptr.To("gateways")}},
		Hostnames:  []messengerv1alpha1.Hostname{"*.acme.example", "apps.acme.example"},
	}
	s.must(t, s.c.Create(s.ctx, app))
	s.setDeploymentAvailable(t, appWebhookKey(app))
	got := s.waitApp(t, app, "app Ready, the route missing", func(a *messengerv1alpha1.MessengerApp) bool {
		return appReadyIs(metav1.ConditionTrue, messengerv1alpha1.ReasonAvailable)(a) &&
			appRouteIs(metav1.ConditionFalse, messengerv1alpha1.ReasonGatewayAPIMissing)(a)
	})
	if got.Status.WebhookURL != "https://apps.acme.example/webhook" {
		t.Fatalf("webhookURL %q", got.Status.WebhookURL)
	}
	s.eventually(t, "a Warning Event on the app", func() (bool, string) {
		var list eventsv1.EventList
		s.must(t, s.c.List(s.ctx, &list, client.InNamespace(ns)))
		for _, e := range list.Items {
			if e.Regarding.Kind == "MessengerApp" && e.Type == "Warning" && e.Reason == messengerv1alpha1.ReasonGatewayAPIMissing {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d events", len(list.Items))
	})
	return app
}

// appRouteApplied checks, once the Gateway API is installed, that the app's route is made with
// the app as owner and its Service as backend, that drift is reverted, and that removing
// spec.httpRoute deletes it.
func (s *pageSuite) appRouteApplied(t *testing.T, app *messengerv1alpha1.MessengerApp) {
	got := s.waitApp(t, app, "the app's route applied", appRouteIs(metav1.ConditionTrue, messengerv1alpha1.ReasonRouteApplied))
	if c := apimeta.FindStatusCondition(got.Status.Conditions, messengerv1alpha1.ConditionHTTPRoute); !strings.Contains(c.Message, "gateways/public") {
		t.Fatalf("condition message %q", c.Message)
	}
	u, err := s.routeAt(t, appWebhookKey(app))
	s.must(t, err)
	r := typedRoute(t, u)
	if !metav1.IsControlledBy(u, got) || r.Labels[specs.LabelComponent] != specs.ComponentApp {
		t.Fatalf("owner %v labels %v", r.OwnerReferences, r.Labels)
	}
	if len(r.Spec.Hostnames) != 2 || r.Spec.Rules[0].BackendRefs[0].Name != gatewayv1.ObjectName(specs.AppWebhookName(app.Name)) ||
		*r.Spec.Rules[0].BackendRefs[0].Port != specs.ServicePort || *r.Spec.Rules[0].Matches[0].Path.Value != "/webhook" {
		t.Fatalf("route spec: %+v", r.Spec)
	}
	// An edit is reverted.
	s.modify(t, u, func() { _ = unstructured.SetNestedStringSlice(u.Object, []string{"evil.example"}, "spec", "hostnames") })
	s.eventually(t, "the app's hostnames restored", func() (bool, string) {
		u, err := s.routeAt(t, appWebhookKey(app))
		if err != nil {
			return false, err.Error()
		}
		h, _, _ := unstructured.NestedStringSlice(u.Object, "spec", "hostnames")
		return len(h) == 2, fmt.Sprint(h)
	})
	// Removing spec.httpRoute deletes the route and the condition.
	a := s.getApp(t, app)
	s.must(t, s.c.Patch(s.ctx, a, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"httpRoute":null}}`))))
	s.eventually(t, "the app's route deleted", func() (bool, string) {
		_, err := s.routeAt(t, appWebhookKey(app))
		return errors.IsNotFound(err), fmt.Sprint(err)
	})
	s.waitApp(t, app, "no HTTPRoute condition", func(a *messengerv1alpha1.MessengerApp) bool {
		return apimeta.FindStatusCondition(a.Status.Conditions, messengerv1alpha1.ConditionHTTPRoute) == nil
	})
}
