package v1alpha1

import (
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Each kind's list names every condition type once, each with one of the two field managers, Ready
// as its summary, and the kstatus conditions with the abnormal-true polarity.
func TestConditionRegistries(t *testing.T) {
	for name, l := range map[string]ConditionTypes{"MessengerPage": MessengerPageConditions, "HandoverPolicy": HandoverPolicyConditions} {
		seen := map[string]bool{}
		for _, c := range l {
			if seen[c.Type] {
				t.Errorf("%s: %s listed twice", name, c.Type)
			}
			seen[c.Type] = true
			if c.Owner != FieldManagerOperator && c.Owner != FieldManagerWebhook {
				t.Errorf("%s: %s owned by %q", name, c.Type, c.Owner)
			}
		}
		if r, ok := l.Lookup(ConditionReady); !ok || r.Role != Summary || r.Owner != FieldManagerOperator {
			t.Errorf("%s: Ready %+v", name, r)
		}
		if s, ok := l.Lookup(ConditionStalled); !ok || !s.AbnormalTrue || s.Role != Gating {
			t.Errorf("%s: Stalled %+v", name, s)
		}
	}
	for _, typ := range []string{ConditionReady, ConditionReconciling, ConditionStalled, ConditionGraphAuthorized, ConditionHandoverPermitted,
		ConditionCanAct, ConditionIngressTLS, ConditionSharedApp, ConditionHTTPRoute, ConditionSubscribed} {
		if _, ok := MessengerPageConditions.Lookup(typ); !ok {
			t.Errorf("MessengerPage: %s is not listed", typ)
		}
	}
	if got := MessengerPageConditions.OwnedBy(FieldManagerWebhook); !reflect.DeepEqual(got, []string{ConditionGraphAuthorized, ConditionHandoverPermitted, ConditionCanAct}) {
		t.Errorf("the webhook owns %v", got)
	}
}

func cond(typ string, status metav1.ConditionStatus, reason, msg string) metav1.Condition {
	return metav1.Condition{Type: typ, Status: status, Reason: reason, Message: msg}
}

// Ready follows the first abnormal gating condition in the list's order, whatever the order of the
// conditions in the status; informational ones never hold it.
func TestSummarizeReady(t *testing.T) {
	ok := metav1.Condition{Reason: ReasonAvailable, Message: "all good", ObservedGeneration: 3}
	const T, F, U = metav1.ConditionTrue, metav1.ConditionFalse, metav1.ConditionUnknown
	for _, tc := range []struct {
		name   string
		conds  []metav1.Condition
		status metav1.ConditionStatus
		reason string
		msg    string
	}{
		{"nothing", nil, T, ReasonAvailable, "all good"},
		{"informational only", []metav1.Condition{cond(ConditionIngressTLS, F, ReasonNoTLS, "no tls"), cond(ConditionSharedApp, T, ReasonAppShared, "shared"),
			cond(ConditionHandoverPermitted, F, ReasonTakeRefused, "refused"), cond(ConditionHTTPRoute, F, ReasonGatewayAPIMissing, "no gateway")}, T, ReasonAvailable, "all good"},
		{"reconciling", []metav1.Condition{cond(ConditionReconciling, T, ReasonProgressing, "rolling")}, F, ReasonProgressing, "rolling"},
		{"not the default app", []metav1.Condition{cond(ConditionCanAct, F, ReasonNotDefaultApp, "standby only")}, F, ReasonNotDefaultApp, "standby only"},
		{"receives conversations", []metav1.Condition{cond(ConditionCanAct, T, ReasonReceivesConversations, "messaging")}, T, ReasonAvailable, "all good"},
		{"stalled first", []metav1.Condition{cond(ConditionSubscribed, F, ReasonSubscribeFailed, "graph down"), cond(ConditionReconciling, T, ReasonProgressing, "rolling"),
			cond(ConditionStalled, T, ReasonSecretNotFound, "no secret")}, F, ReasonSecretNotFound, "no secret"},
		{"reconciling before subscribed", []metav1.Condition{cond(ConditionSubscribed, F, ReasonSubscribeFailed, "graph down"), cond(ConditionReconciling, T, ReasonProgressing, "rolling")},
			F, ReasonProgressing, "rolling"},
		{"graph refused", []metav1.Condition{cond(ConditionGraphAuthorized, F, ReasonGraphUnauthorized, "code 190")}, F, ReasonGraphUnauthorized, "code 190"},
		{"graph without message", []metav1.Condition{cond(ConditionGraphAuthorized, F, ReasonGraphUnauthorized, "")}, F, ReasonGraphUnauthorized, "GraphAuthorized is False (GraphUnauthorized)"},
		{"subscribe failed", []metav1.Condition{cond(ConditionSubscribed, F, ReasonSubscribeFailed, "graph down")}, F, ReasonSubscribeFailed, "graph down"},
		{"no callback is reported only", []metav1.Condition{cond(ConditionSubscribed, F, ReasonNoCallback, "no callback")}, T, ReasonAvailable, "all good"},
		{"unknown does not gate", []metav1.Condition{cond(ConditionSubscribed, U, ReasonWaitingForWebhook, "waiting")}, T, ReasonAvailable, "all good"},
		{"kstatus false is fine", []metav1.Condition{cond(ConditionStalled, F, "Fine", ""), cond(ConditionReconciling, F, "Fine", "")}, T, ReasonAvailable, "all good"},
		{"graph good", []metav1.Condition{cond(ConditionGraphAuthorized, T, ReasonGraphAuthorized, "ok")}, T, ReasonAvailable, "all good"},
	} {
		got := MessengerPageConditions.SummarizeReady(tc.conds, ok)
		if got.Type != ConditionReady || got.Status != tc.status || got.Reason != tc.reason || got.Message != tc.msg || got.ObservedGeneration != 3 {
			t.Errorf("%s: %+v", tc.name, got)
		}
	}
}

// A required condition holds Ready until its owner reports it True; Stall finds stalling ones.
func TestRequiredAndStalling(t *testing.T) {
	l := ConditionTypes{
		{Type: ConditionReady, Owner: FieldManagerOperator, Role: Summary},
		{Type: "Served", Owner: FieldManagerWebhook, Role: Gating, Required: true},
		{Type: ConditionGraphAuthorized, Owner: FieldManagerWebhook, Role: Stalling},
	}
	ok := metav1.Condition{Reason: ReasonAvailable, Message: "ok"}
	if r := l.SummarizeReady(nil, ok); r.Status != metav1.ConditionFalse || r.Reason != "WaitingServed" || !strings.Contains(r.Message, "Served") {
		t.Errorf("absent: %+v", r)
	}
	served := cond("Served", metav1.ConditionUnknown, "Loading", "loading generation 2")
	if r := l.SummarizeReady([]metav1.Condition{served}, ok); r.Status != metav1.ConditionFalse || r.Reason != "Loading" {
		t.Errorf("unknown: %+v", r)
	}
	served.Status = metav1.ConditionTrue
	if r := l.SummarizeReady([]metav1.Condition{served}, ok); r.Status != metav1.ConditionTrue {
		t.Errorf("served: %+v", r)
	}
	if s := l.Stall([]metav1.Condition{served}); s != nil {
		t.Errorf("nothing stalls: %+v", s)
	}
	graph := cond(ConditionGraphAuthorized, metav1.ConditionFalse, ReasonGraphUnauthorized, "refused")
	if s := l.Stall([]metav1.Condition{served, graph}); s == nil || s.Reason != ReasonGraphUnauthorized || s.Message != "refused" {
		t.Errorf("stall: %+v", s)
	}
}

// Owned keeps exactly the conditions a field manager applies.
func TestOwned(t *testing.T) {
	conds := []metav1.Condition{
		cond(ConditionReady, metav1.ConditionTrue, ReasonAvailable, ""),
		cond(ConditionGraphAuthorized, metav1.ConditionTrue, ReasonGraphAuthorized, ""),
		cond("SomeoneElses", metav1.ConditionTrue, "X", ""),
		cond(ConditionHandoverPermitted, metav1.ConditionTrue, ReasonTakeAllowed, ""),
	}
	types := func(cs []metav1.Condition) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.Type)
		}
		return out
	}
	if got := types(MessengerPageConditions.Owned(conds, FieldManagerWebhook)); !reflect.DeepEqual(got, []string{ConditionGraphAuthorized, ConditionHandoverPermitted}) {
		t.Errorf("webhook: %v", got)
	}
	if got := types(MessengerPageConditions.Owned(conds, FieldManagerOperator)); !reflect.DeepEqual(got, []string{ConditionReady}) {
		t.Errorf("operator: %v", got)
	}
}

// Every message is capped at 1 KiB on a rune boundary; SetCondition keeps the transition time of
// an unchanged status.
func TestMessageCap(t *testing.T) {
	if TruncateMessage("short") != "short" {
		t.Fatal("short message changed")
	}
	exact := strings.Repeat("a", MaxConditionMessageBytes)
	if TruncateMessage(exact) != exact {
		t.Fatal("a message of exactly the cap changed")
	}
	for _, long := range []string{strings.Repeat("a", 40000), strings.Repeat("é", 20000), strings.Repeat("😀", 10000)} {
		got := TruncateMessage(long)
		if len(got) > MaxConditionMessageBytes || len(got) < MaxConditionMessageBytes-8 || !utf8.ValidString(got) || !strings.HasSuffix(got, "…") {
			t.Errorf("%d bytes, valid %v: %q", len(got), utf8.ValidString(got), got[len(got)-10:])
		}
	}

	var conds []metav1.Condition
	t0 := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	t1 := metav1.NewTime(t0.Add(time.Hour))
	c := metav1.Condition{Type: ConditionReady, Status: metav1.ConditionFalse, Reason: "X", Message: strings.Repeat("m", 5000), LastTransitionTime: t0}
	if !SetCondition(&conds, c) || len(conds[0].Message) > MaxConditionMessageBytes {
		t.Fatalf("set: %+v", conds)
	}
	c.Reason, c.LastTransitionTime = "Y", t1
	if !SetCondition(&conds, c) || conds[0].Reason != "Y" || !conds[0].LastTransitionTime.Equal(&t0) {
		t.Fatalf("same status: %+v", conds[0])
	}
	c.Status = metav1.ConditionTrue
	if !SetCondition(&conds, c) || !conds[0].LastTransitionTime.Equal(&t1) {
		t.Fatalf("new status: %+v", conds[0])
	}
	if SetCondition(&conds, c) {
		t.Fatal("setting the same condition changed it")
	}
}

// A page with appRef is Ready only once its app's webhook reports it Served; a standalone page
// has no Served condition at all.
func TestAppPageRequiresServed(t *testing.T) {
	ok := metav1.Condition{Reason: "Available"}
	standalone := &MessengerPage{}
	app := &MessengerPage{Spec: MessengerPageSpec{AppRef: &LocalReference{Name: "a"}}}
	if _, has := standalone.ConditionTypes().Lookup(ConditionServed); has {
		t.Fatal("a standalone page has Served")
	}
	if got := standalone.ConditionTypes().SummarizeReady(nil, ok); got.Status != metav1.ConditionTrue {
		t.Fatalf("standalone: %+v", got)
	}
	if got := app.ConditionTypes().SummarizeReady(nil, ok); got.Status != metav1.ConditionFalse || got.Reason != "WaitingServed" {
		t.Fatalf("app page without Served: %+v", got)
	}
	served := []metav1.Condition{{Type: ConditionServed, Status: metav1.ConditionTrue, Reason: ReasonServing}}
	if got := app.ConditionTypes().SummarizeReady(served, ok); got.Status != metav1.ConditionTrue {
		t.Fatalf("served app page: %+v", got)
	}
	invalid := []metav1.Condition{{Type: ConditionServed, Status: metav1.ConditionFalse, Reason: ReasonConfigInvalid, Message: "no key"}}
	if got := app.ConditionTypes().SummarizeReady(invalid, ok); got.Reason != ReasonConfigInvalid || got.Message != "no key" {
		t.Fatalf("invalid app page: %+v", got)
	}
	if len(MessengerPageConditions) != 15 || len(app.ConditionTypes()) != 16 {
		t.Fatal("the app page's types changed the standalone page's")
	}
}
