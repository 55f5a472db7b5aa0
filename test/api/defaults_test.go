package api

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/types"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
	rig "github.com/messenger-operator/messenger-operator/test/webhookrig"
)

// An empty HandoverPolicy gives the tutorial's conversation: texts, quick replies and payloads.
func TestEmptyPolicyDefaultsToTheTutorial(t *testing.T) {
	ctx := context.Background()
	if _, err := apply(ctx, "apiVersion: messenger.handover.dev/v1alpha1\nkind: HandoverPolicy\nmetadata: {name: empty}\n"); err != nil {
		t.Fatal(err)
	}
	var p messengerv1alpha1.HandoverPolicy
	if err := rig.Env.Client.Get(ctx, types.NamespacedName{Namespace: "default", Name: "empty"}, &p); err != nil {
		t.Fatal(err)
	}
	s := p.Spec
	pass := []messengerv1alpha1.QuickReply{{Title: "Pass to Inbox", Payload: "pass_to_inbox"}}
	take := []messengerv1alpha1.QuickReply{{Title: "Take From Inbox", Payload: "take_from_inbox"}}
	checks := []struct {
		name      string
		got, want string
	}{
		{"welcome.text", s.Welcome.Text, messengerv1alpha1.DefaultWelcomeText},
		{"handoff.message.text", s.Handoff.Message.Text, messengerv1alpha1.DefaultHandoffText},
		{"takeBack.message.text", s.TakeBack.Message.Text, messengerv1alpha1.DefaultTakeBackText},
		{"done.text", s.Done.Text, messengerv1alpha1.DefaultDoneText},
		{"errorMessage.text", s.ErrorMessage.Text, messengerv1alpha1.DefaultErrorText},
		{"handoff.targetAppID", s.Handoff.TargetAppID, messengerv1alpha1.PageInboxAppID},
		{"onRequest", string(s.OnRequest), "Pass"},
		{"firstNameFallback", s.FirstNameFallback, "there"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	eq := func(name string, got, want []messengerv1alpha1.QuickReply) {
		if len(got) != len(want) || (len(got) > 0 && got[0] != want[0]) {
			t.Errorf("%s quick replies = %+v, want %+v", name, got, want)
		}
	}
	eq("welcome", s.Welcome.QuickReplies, pass)
	eq("handoff", s.Handoff.Message.QuickReplies, take)
	eq("takeBack", s.TakeBack.Message.QuickReplies, pass)
	eq("done", s.Done.QuickReplies, pass)
	if got := s.Handoff.Triggers.QuickReplyPayloads; len(got) != 1 || got[0] != "pass_to_inbox" {
		t.Errorf("handoff triggers = %v, want [pass_to_inbox]", got)
	}
	if got := s.TakeBack.Triggers.QuickReplyPayloads; len(got) != 1 || got[0] != "take_from_inbox" {
		t.Errorf("takeBack triggers = %v, want [take_from_inbox]", got)
	}
	if s.AgentIdleTimeout != nil || s.BusinessHours != nil {
		t.Errorf("idle timeout and business hours must be off by default: %v %v", s.AgentIdleTimeout, s.BusinessHours)
	}
	// kstatus: a fresh object is not Current before a controller has seen it.
	if p.Status.ObservedGeneration != -1 {
		t.Errorf("status.observedGeneration = %d, want -1 before any reconcile", p.Status.ObservedGeneration)
	}
}

func TestPageDefaults(t *testing.T) {
	ctx := context.Background()
	_, err := apply(ctx, `apiVersion: messenger.handover.dev/v1alpha1
kind: MessengerPage
metadata: {name: defaults}
spec:
  pageID: "1000000000000009"
  appID: "42"
  secretRef: {name: creds}
  policyRef: {name: support}
  ingress: {host: hooks.example.com}
`)
	if err != nil {
		t.Fatal(err)
	}
	var p messengerv1alpha1.MessengerPage
	if err := rig.Env.Client.Get(ctx, types.NamespacedName{Namespace: "default", Name: "defaults"}, &p); err != nil {
		t.Fatal(err)
	}
	s := p.Spec
	// The page's own fields are defaulted by the schema; the app-level ones of a standalone page
	// carry no marker (a page of an app must not have them) and are defaulted in Go.
	if s.SecretRef.PageAccessTokenKey != "pageAccessToken" || s.SecretRef.AppSecretKey != "" || s.SecretRef.VerifyTokenKey != "" {
		t.Errorf("stored secret keys = %+v, want only pageAccessTokenKey defaulted", s.SecretRef)
	}
	if s.GraphAPI.BaseURL != "" || s.GraphAPI.Version != "" || s.GraphAPI.MaxSendsPerSecond == nil || *s.GraphAPI.MaxSendsPerSecond != 250 {
		t.Errorf("stored graphAPI = %+v, want only maxSendsPerSecond defaulted", s.GraphAPI)
	}
	s.Default()
	if s.SecretRef.AppSecretKey != "appSecret" || s.SecretRef.VerifyTokenKey != "verifyToken" {
		t.Errorf("secret keys = %+v", s.SecretRef)
	}
	if s.GraphAPI.BaseURL != "https://graph.facebook.com" || s.GraphAPI.Version != "v25.0" {
		t.Errorf("graphAPI = %+v", s.GraphAPI)
	}
	if s.Webhook.Replicas == nil || *s.Webhook.Replicas != 1 {
		t.Errorf("webhook.replicas = %v, want 1", s.Webhook.Replicas)
	}
	if s.Ingress.Path != "/webhook" {
		t.Errorf("ingress.path = %q, want /webhook", s.Ingress.Path)
	}
	if p.Status.ObservedGeneration != -1 {
		t.Errorf("status.observedGeneration = %d, want -1", p.Status.ObservedGeneration)
	}
}
