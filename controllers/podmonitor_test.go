package controllers_test

import (
	"fmt"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/specs"
)

func (s *pageSuite) podMonitor(k types.NamespacedName) (*unstructured.Unstructured, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(specs.PodMonitorGVK)
	return u, s.c.Get(s.ctx, k, u)
}

func monitoringIs(conds []metav1.Condition, gen int64, st metav1.ConditionStatus, reason string) (bool, string) {
	c := apimeta.FindStatusCondition(conds, messengerv1alpha1.ConditionMonitoring)
	return c != nil && c.Status == st && c.Reason == reason && c.ObservedGeneration == gen, fmt.Sprintf("%+v", c)
}

// The webhook's metrics port is on its Service. Without the PodMonitor CRD, a page and an app
// asking for a PodMonitor are served and say it is missing (condition and Warning Event, Ready
// untouched); once the CRD is installed their PodMonitors are made, owned, and deleted when no
// longer asked for.
func testPodMonitor(t *testing.T, s *pageSuite) {
	p := s.readyPage(t, "podmon", func(p *messengerv1alpha1.MessengerPage) {
		p.Spec.Monitoring = &messengerv1alpha1.MonitoringSpec{PodMonitor: &messengerv1alpha1.PodMonitorSpec{
			Interval: "30s", Labels: map[string]string{"release": "kube-prometheus-stack"}}}
	})
	s.setAvailable(t, p)
	s.waitReady(t, p, want{metav1.ConditionTrue, messengerv1alpha1.ReasonAvailable, "", status.CurrentStatus})
	s.eventually(t, "Monitoring=False PodMonitorCRDMissing", func() (bool, string) {
		got := s.get(t, p)
		return monitoringIs(got.Status.Conditions, got.Generation, metav1.ConditionFalse, messengerv1alpha1.ReasonPodMonitorCRDMissing)
	})
	s.waitEvent(t, p, corev1.EventTypeWarning, messengerv1alpha1.ReasonPodMonitorCRDMissing)
	svc := &corev1.Service{}
	s.must(t, s.c.Get(s.ctx, webhookKey(p), svc))
	if len(svc.Spec.Ports) != 2 || svc.Spec.Ports[1].Name != "metrics" || svc.Spec.Ports[1].Port != 8081 {
		t.Fatalf("Service ports: %+v", svc.Spec.Ports)
	}

	ns := s.namespace(t, "appmon")
	s.secret(t, ns, "mon-creds", "appSecret", "verifyToken")
	app := newApp(ns, "mon", "9800"+fmt.Sprint(nsCounter.Load()))
	app.Spec.SecretRef.Name = "mon-creds"
	app.Spec.GraphAPI.BaseURL = deadGraph
	app.Spec.Monitoring = &messengerv1alpha1.MonitoringSpec{PodMonitor: &messengerv1alpha1.PodMonitorSpec{}}
	s.must(t, s.c.Create(s.ctx, app))
	s.setDeploymentAvailable(t, appWebhookKey(app))
	s.waitApp(t, app, "app Ready, its PodMonitor missing", func(a *messengerv1alpha1.MessengerApp) bool {
		ok, _ := monitoringIs(a.Status.Conditions, a.Generation, metav1.ConditionFalse, messengerv1alpha1.ReasonPodMonitorCRDMissing)
		return ok && appReadyIs(metav1.ConditionTrue, messengerv1alpha1.ReasonAvailable)(a)
	})

	// Install the CRD into the running control plane: the next look (GatewayAPIRecheck) finds it.
	if _, err := envtest.InstallCRDs(s.env.Config, envtest.CRDInstallOptions{
		Paths: []string{filepath.Join("testdata", "podmonitor-crd.yaml")}, ErrorIfPathMissing: true}); err != nil {
		t.Fatal(err)
	}
	s.eventually(t, "Monitoring=True", func() (bool, string) {
		got := s.get(t, p)
		return monitoringIs(got.Status.Conditions, got.Generation, metav1.ConditionTrue, messengerv1alpha1.ReasonPodMonitorApplied)
	})
	u, err := s.podMonitor(webhookKey(p))
	s.must(t, err)
	if !metav1.IsControlledBy(u, s.get(t, p)) || u.GetLabels()["release"] != "kube-prometheus-stack" || u.GetLabels()[specs.LabelManaged] != "true" {
		t.Fatalf("PodMonitor owner %v labels %v", u.GetOwnerReferences(), u.GetLabels())
	}
	eps, _, _ := unstructured.NestedSlice(u.Object, "spec", "podMetricsEndpoints")
	sel, _, _ := unstructured.NestedStringMap(u.Object, "spec", "selector", "matchLabels")
	if len(eps) != 1 || eps[0].(map[string]any)["interval"] != "30s" || sel[specs.LabelInstance] != p.Name {
		t.Fatalf("PodMonitor spec: %v", u.Object["spec"])
	}
	s.waitApp(t, app, "the app's PodMonitor applied", func(a *messengerv1alpha1.MessengerApp) bool {
		ok, _ := monitoringIs(a.Status.Conditions, a.Generation, metav1.ConditionTrue, messengerv1alpha1.ReasonPodMonitorApplied)
		return ok
	})
	au, err := s.podMonitor(appWebhookKey(app))
	s.must(t, err)
	if !metav1.IsControlledBy(au, s.getApp(t, app)) {
		t.Fatalf("app PodMonitor owner %v", au.GetOwnerReferences())
	}

	// No longer asked for: deleted, and the condition gone.
	s.modify(t, p, func() { p.Spec.Monitoring = nil })
	s.eventually(t, "the PodMonitor deleted", func() (bool, string) {
		_, err := s.podMonitor(webhookKey(p))
		return apierrors.IsNotFound(err), fmt.Sprint(err)
	})
	s.eventually(t, "no Monitoring condition", func() (bool, string) {
		got := s.get(t, p)
		c := condition(got, messengerv1alpha1.ConditionMonitoring)
		return c == nil && got.Status.ObservedGeneration == got.Generation, fmt.Sprintf("%+v", c)
	})
	a := s.getApp(t, app)
	s.must(t, s.c.Patch(s.ctx, a, client.RawPatch(types.MergePatchType, []byte(`{"spec":{"monitoring":null}}`))))
	s.eventually(t, "the app's PodMonitor deleted", func() (bool, string) {
		_, err := s.podMonitor(appWebhookKey(app))
		return apierrors.IsNotFound(err), fmt.Sprint(err)
	})
}
