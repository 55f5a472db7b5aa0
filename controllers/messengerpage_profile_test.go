package controllers_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/simulator"
)

func testProfileSpec() *messengerv1alpha1.MessengerProfile {
	return &messengerv1alpha1.MessengerProfile{
		GetStarted: &messengerv1alpha1.GetStarted{Payload: "GET_STARTED"},
		Greetings:  []messengerv1alpha1.Greeting{{Locale: "default", Text: "Hi {{user_first_name}}, welcome to Acme"}},
		PersistentMenu: []messengerv1alpha1.PersistentMenu{{Locale: "default", Items: []messengerv1alpha1.MenuItem{
			{Postback: &messengerv1alpha1.PostbackItem{Title: "Talk to a person", Payload: "HUMAN"}},
			{Postback: &messengerv1alpha1.PostbackItem{Title: "Opening hours", Payload: "HOURS"}},
		}}},
	}
}

// profileWrites counts the POST and DELETE calls on messenger_profile at the simulator, and
// profileReads its GETs.
func profileWrites(m *metaSide) (writes, reads int) {
	for _, c := range m.sim.CallLog() {
		if c.Endpoint != simulator.EndpointMessengerProfile {
			continue
		}
		if c.Method == "GET" {
			reads++
		} else {
			writes++
		}
	}
	return writes, reads
}

func (s *pageSuite) waitProfileSynced(t *testing.T, p *messengerv1alpha1.MessengerPage, st metav1.ConditionStatus, reason, message string) *messengerv1alpha1.MessengerPage {
	t.Helper()
	var got *messengerv1alpha1.MessengerPage
	s.eventually(t, fmt.Sprintf("ProfileSynced=%s %s %q", st, reason, message), func() (bool, string) {
		got = s.get(t, p)
		c := condition(got, messengerv1alpha1.ConditionProfileSynced)
		if c == nil || c.Status != st || c.Reason != reason || !strings.Contains(c.Message, message) || c.ObservedGeneration != got.Generation {
			return false, fmt.Sprintf("%+v", c)
		}
		return true, ""
	})
	return got
}

// metaProfile is the Page's profile at the simulator, each property as compact JSON.
func metaProfile(t *testing.T, m *metaSide, pageID string) map[string]string {
	t.Helper()
	prof, err := m.sim.Profile(pageID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for k, v := range prof {
		out[k] = string(v)
	}
	return out
}

// The Page's Messenger Profile becomes spec.profile; a hand edit at Meta is put back at the next
// check with an Event saying what changed; checks of an unchanged spec write nothing, at Meta or
// in the API server; a property the spec does not name is left alone unless prune is set; a
// payload no trigger claims is reported; a refused token is reported without a retry storm.
func testProfile(t *testing.T, s *pageSuite) {
	ns := s.namespace(t, "profile")
	pageID, appID := "7300"+fmt.Sprint(nsCounter.Load()), "7400"+fmt.Sprint(nsCounter.Load())
	m := newMetaSide(t, appID, pageID)
	pol := &messengerv1alpha1.HandoverPolicy{ObjectMeta: metav1.ObjectMeta{Name: "support", Namespace: ns}}
	pol.Spec.Handoff.Triggers.PostbackPayloads = []string{"HUMAN"}
	s.must(t, s.c.Create(s.ctx, pol))
	s.must(t, s.c.Create(s.ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "creds", Namespace: ns},
		Data:       map[string][]byte{"pageAccessToken": []byte(m.tokens[pageID]), "appSecret": []byte(m.appSecret)},
	}))
	// Meta has whitelisted domains set by hand: the spec does not name them.
	s.must(t, m.sim.SetProfile(pageID, map[string]json.RawMessage{"whitelisted_domains": json.RawMessage(`["https://old.example.com"]`)}))
	p := newPage(ns, "acme", pageID, appID)
	p.Spec.GraphAPI.BaseURL = m.graph.URL
	p.Spec.Profile = testProfileSpec()
	s.must(t, s.c.Create(s.ctx, p))
	// Taps need a webhook that answers them: nothing is set at Meta before one is available.
	s.deployment(t, p)
	s.waitProfileSynced(t, p, metav1.ConditionUnknown, messengerv1alpha1.ReasonWaitingForWebhook, "its taps need a webhook")
	if w, r := profileWrites(m); w+r != 0 {
		t.Fatalf("%d profile calls before the webhook is available", w+r)
	}
	s.setAvailable(t, p)

	got := s.waitProfileSynced(t, p, metav1.ConditionTrue, messengerv1alpha1.ReasonProfileInSync, "equals spec.profile")
	at := metaProfile(t, m, pageID)
	if !strings.Contains(at["greeting"], "welcome to Acme") || !strings.Contains(at["persistent_menu"], "Talk to a person") ||
		!strings.Contains(at["get_started"], "GET_STARTED") || at["whitelisted_domains"] == "" {
		t.Fatalf("at Meta: %v", at)
	}
	s.waitEvent(t, p, corev1.EventTypeNormal, "ProfileApplied")
	c := condition(got, messengerv1alpha1.ConditionProfilePayloadUnhandled)
	if c == nil || c.Status != metav1.ConditionTrue || !strings.Contains(c.Message, `"HOURS"`) || strings.Contains(c.Message, `"HUMAN"`) {
		t.Fatalf("ProfilePayloadUnhandled: %+v", c)
	}

	// A hand edit at Meta (a Page admin changes the greeting) is restored at the next check.
	s.must(t, m.sim.SetProfile(pageID, map[string]json.RawMessage{"greeting": json.RawMessage(`[{"locale":"default","text":"Closed for good"}]`)}))
	s.ahead.Add(int64(10*time.Minute + time.Second))
	s.reconcileNow(t, p)
	s.eventually(t, "the greeting restored", func() (bool, string) {
		g := metaProfile(t, m, pageID)["greeting"]
		return strings.Contains(g, "welcome to Acme"), g
	})
	ev := s.waitEvent(t, p, corev1.EventTypeNormal, "ProfileDriftCorrected")
	if !strings.Contains(ev.Note, "greeting") || !strings.Contains(ev.Note, "Closed for good") || strings.Contains(ev.Note, "persistent_menu") {
		t.Fatalf("drift event: %q", ev.Note)
	}
	time.Sleep(500 * time.Millisecond) // let the event broadcaster flush

	// Three checks of an unchanged spec: three GETs, no write at Meta, none in the API server.
	writes, reads := profileWrites(m)
	mark := s.writes.mark()
	for i := 1; i <= 3; i++ {
		// A check whose GET was seen may still be finishing (then the reconcile starts none):
		// move the clock on again until the next check has read the profile.
		s.eventually(t, fmt.Sprintf("check %d", i), func() (bool, string) {
			if _, r := profileWrites(m); r >= reads+i {
				return true, ""
			}
			s.ahead.Add(int64(10*time.Minute + time.Second))
			s.reconcileNow(t, p)
			_, r := profileWrites(m)
			return r >= reads+i, fmt.Sprint(r - reads)
		})
	}
	time.Sleep(500 * time.Millisecond)
	if w, _ := profileWrites(m); w != writes {
		t.Fatalf("%d profile writes at Meta over three checks in sync", w-writes)
	}
	if w := s.writes.since(mark); len(w) > 0 {
		t.Fatalf("%d API writes over three checks in sync:\n%s", len(w), strings.Join(w, "\n"))
	}

	// Prune removes what the spec does not name.
	got = s.get(t, p)
	s.modify(t, got, func() { got.Spec.Profile.Prune = true })
	s.eventually(t, "whitelisted_domains pruned", func() (bool, string) {
		at := metaProfile(t, m, pageID)
		return at["whitelisted_domains"] == "" && at["greeting"] != "", fmt.Sprint(at)
	})
	s.waitProfileSynced(t, p, metav1.ConditionTrue, messengerv1alpha1.ReasonProfileInSync, "removed (prune)")

	// A refused page token: False with the meaning, and the next try only after a backoff.
	if _, err := m.sim.RevokeTokens("bot", pageID); err != nil {
		t.Fatal(err)
	}
	got = s.get(t, p)
	s.modify(t, got, func() { got.Spec.Profile.Greetings[0].Text = "Hello again" })
	got = s.waitProfileSynced(t, p, metav1.ConditionFalse, messengerv1alpha1.ReasonProfileSyncFailed, "code 190")
	if msg := condition(got, messengerv1alpha1.ConditionProfileSynced).Message; strings.Contains(msg, m.tokens[pageID]) || strings.Contains(msg, m.appSecret) {
		t.Fatalf("a secret in the condition: %s", msg)
	}
	s.waitEvent(t, p, corev1.EventTypeWarning, messengerv1alpha1.ReasonProfileSyncFailed)
	_, reads = profileWrites(m)
	for range 5 {
		s.reconcileNow(t, p)
	}
	time.Sleep(300 * time.Millisecond)
	if _, r := profileWrites(m); r != reads {
		t.Fatalf("%d profile calls within the backoff after a refused token", r-reads)
	}

	// Without spec.profile the Page's profile is left alone.
	got = s.get(t, p)
	s.modify(t, got, func() { got.Spec.Profile = nil })
	s.eventually(t, "ProfileSynced gone", func() (bool, string) {
		got := s.get(t, p)
		return condition(got, messengerv1alpha1.ConditionProfileSynced) == nil && condition(got, messengerv1alpha1.ConditionProfilePayloadUnhandled) == nil, ""
	})
	if at := metaProfile(t, m, pageID); at["greeting"] == "" {
		t.Fatalf("the profile was removed with spec.profile: %v", at)
	}
}

// A page with spec.appRef: once its app is Ready, the profile is set with the page's own token
// and the app's secret and Graph settings, and a hand edit is put back at the next check.
func testProfileAppPage(t *testing.T, s *pageSuite) {
	ns := s.namespace(t, "profileapp")
	appID, pageID := "7500"+fmt.Sprint(nsCounter.Load()), "7600"+fmt.Sprint(nsCounter.Load())
	m := newMetaSide(t, appID, pageID)
	s.policy(t, ns, "support")
	s.must(t, s.c.Create(s.ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "shop-creds", Namespace: ns},
		Data: map[string][]byte{"appSecret": []byte(m.appSecret), "verifyToken": []byte("app-verify-token")}}))
	s.must(t, s.c.Create(s.ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "brand-token", Namespace: ns},
		Data: map[string][]byte{"pageAccessToken": []byte(m.tokens[pageID])}}))
	app := newApp(ns, "shop", appID)
	app.Spec.GraphAPI.BaseURL = m.graph.URL
	s.must(t, s.c.Create(s.ctx, app))
	p := appPage(ns, "brand", pageID, "shop", "brand-token")
	p.Spec.Profile = testProfileSpec()
	s.must(t, s.c.Create(s.ctx, p))
	s.waitProfileSynced(t, p, metav1.ConditionUnknown, messengerv1alpha1.ReasonWaitingForWebhook, `MessengerApp "shop" to be Ready`)
	if w, r := profileWrites(m); w+r != 0 {
		t.Fatalf("%d profile calls before the app is Ready", w+r)
	}
	s.setDeploymentAvailable(t, appWebhookKey(app))
	s.waitProfileSynced(t, p, metav1.ConditionTrue, messengerv1alpha1.ReasonProfileInSync, "equals spec.profile")
	if at := metaProfile(t, m, pageID); !strings.Contains(at["greeting"], "welcome to Acme") {
		t.Fatalf("at Meta: %v", at)
	}
	for _, c := range m.sim.CallLog() {
		if c.Endpoint == simulator.EndpointMessengerProfile && (c.Page != pageID || c.Status != 200) {
			t.Fatalf("a profile call not made with the page's token: %+v", c)
		}
	}

	s.must(t, m.sim.DeleteProfile(pageID, "persistent_menu"))
	s.ahead.Add(int64(10*time.Minute + time.Second))
	s.reconcileNow(t, p)
	s.eventually(t, "the menu restored", func() (bool, string) {
		at := metaProfile(t, m, pageID)
		return strings.Contains(at["persistent_menu"], "Talk to a person"), fmt.Sprint(at)
	})
	if ev := s.waitEvent(t, p, corev1.EventTypeNormal, "ProfileDriftCorrected"); !strings.Contains(ev.Note, "persistent_menu was missing") {
		t.Fatalf("drift event: %q", ev.Note)
	}
}
