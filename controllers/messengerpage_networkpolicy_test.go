package controllers_test

import (
	"fmt"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/specs"
)

func enabledNetworkPolicy() *messengerv1alpha1.WebhookNetworkPolicy {
	return &messengerv1alpha1.WebhookNetworkPolicy{Enabled: true, APIServerCIDRs: []string{"10.0.0.1/32"},
		GraphAPICIDRs:               []string{"157.240.0.0/16"},
		MonitoringNamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "monitoring"}}}
}

// spec.webhook.networkPolicy: the API server refuses an enabled policy without the API server's
// CIDRs and a malformed CIDR; an enabled one gets its NetworkPolicy around the webhook's pods
// (put back when deleted), disabling it deletes it; an app's webhook gets its own.
func testNetworkPolicy(t *testing.T, s *pageSuite) {
	ns := s.namespace(t, "netpol")
	for _, tc := range []struct {
		np   messengerv1alpha1.WebhookNetworkPolicy
		want string
	}{
		{messengerv1alpha1.WebhookNetworkPolicy{Enabled: true}, "apiServerCIDRs is required when enabled"},
		{messengerv1alpha1.WebhookNetworkPolicy{Enabled: true, APIServerCIDRs: []string{"10.0.0.1"}}, "must be a CIDR"},
		{messengerv1alpha1.WebhookNetworkPolicy{APIServerCIDRs: []string{"10.0.0.1/32"}, GraphAPICIDRs: []string{"graph.facebook.com"}}, "must be a CIDR"},
	} {
		p := newPage(ns, "bad", "7000", "7001")
		p.Spec.Webhook.NetworkPolicy = &tc.np
		if err := s.c.Create(s.ctx, p); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.np, err, tc.want)
		}
	}

	p := s.readyPage(t, "netpol", func(p *messengerv1alpha1.MessengerPage) { p.Spec.Webhook.NetworkPolicy = enabledNetworkPolicy() })
	np := &networkingv1.NetworkPolicy{}
	s.eventually(t, "the NetworkPolicy", func() (bool, string) {
		err := s.c.Get(s.ctx, webhookKey(p), np)
		return err == nil, fmt.Sprint(err)
	})
	sel, err := metav1.LabelSelectorAsMap(&np.Spec.PodSelector)
	s.must(t, err)
	if fmt.Sprint(sel) != fmt.Sprint(specs.SelectorLabels(p)) || len(np.Spec.Ingress) != 2 || len(np.Spec.Egress) != 3 ||
		!metav1.IsControlledBy(np, s.get(t, p)) {
		t.Fatalf("NetworkPolicy %+v", np)
	}
	d := s.deployment(t, p)
	if fmt.Sprint(d.Spec.Selector.MatchLabels) != fmt.Sprint(sel) {
		t.Fatalf("the policy selects %v, the Deployment's pods are %v", sel, d.Spec.Selector.MatchLabels)
	}

	s.must(t, s.c.Delete(s.ctx, np))
	s.eventually(t, "the NetworkPolicy put back", func() (bool, string) {
		got := &networkingv1.NetworkPolicy{}
		err := s.c.Get(s.ctx, webhookKey(p), got)
		return err == nil && got.UID != np.UID, fmt.Sprint(err)
	})

	s.modify(t, p, func() { p.Spec.Webhook.NetworkPolicy.Enabled = false })
	s.eventually(t, "the NetworkPolicy deleted", func() (bool, string) {
		err := s.c.Get(s.ctx, webhookKey(p), &networkingv1.NetworkPolicy{})
		return apierrors.IsNotFound(err), fmt.Sprint(err)
	})

	app := newApp(p.Namespace, "shop", "7100"+fmt.Sprint(nsCounter.Load()))
	app.Spec.Webhook.NetworkPolicy = enabledNetworkPolicy()
	s.secret(t, p.Namespace, "shop-creds", "appSecret", "verifyToken")
	s.must(t, s.c.Create(s.ctx, app))
	s.eventually(t, "the app's NetworkPolicy", func() (bool, string) {
		got := &networkingv1.NetworkPolicy{}
		err := s.c.Get(s.ctx, appWebhookKey(app), got)
		if err != nil {
			return false, err.Error()
		}
		sel, _ := metav1.LabelSelectorAsMap(&got.Spec.PodSelector)
		return sel[specs.LabelComponent] == specs.ComponentApp, fmt.Sprint(sel)
	})
}
