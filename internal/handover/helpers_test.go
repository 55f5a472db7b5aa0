package handover

import (
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

type metav1Duration = metav1.Duration

const (
	testPage  = "1000000000000001"
	testApp   = "1517776481860111"
	inbox     = v1alpha1.PageInboxAppID
	otherApp  = "4242424242"
	testPSID  = "9007199254740993123" // > 2^53: ids are strings
	bizName   = "Shop"
	minute    = time.Minute
	closedTxt = v1alpha1.DefaultClosedText
)

// t0 is a Wednesday, 10:00 in Paris.
var t0 = time.Date(2026, time.June, 10, 8, 0, 0, 0, time.UTC)

func page(t testing.TB, spec *v1alpha1.HandoverPolicySpec) *Page {
	t.Helper()
	pol, err := Compile(testPage, testApp, bizName, spec)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return &Page{PageID: testPage, AppID: testApp, BusinessName: bizName, Policy: pol}
}

// Event builders.

func text(ch Channel, s string) Event {
	return Event{Kind: KindMessage, Channel: ch, PageID: testPage, PSID: testPSID, MID: "m_1", Text: s, Timestamp: t0}
}

func quick(ch Channel, title, payload string) Event {
	ev := text(ch, title)
	ev.HasQuickReply, ev.QuickReplyPayload = true, payload
	return ev
}

func postback(ch Channel, title, payload string) Event {
	return Event{Kind: KindPostback, Channel: ch, PageID: testPage, PSID: testPSID, MID: "m_2", PostbackTitle: title, PostbackPayload: payload}
}

func echo(appID string) Event {
	return Event{Kind: KindEcho, PageID: testPage, PSID: testPSID, MID: "m_3", Text: "hello from a person", EchoAppID: appID}
}

func passEv(newOwner, prev string) Event {
	return Event{Kind: KindPassThreadControl, PageID: testPage, PSID: testPSID, NewOwnerAppID: newOwner, PreviousOwnerAppID: prev}
}

func takeEv(newOwner, prev string) Event {
	return Event{Kind: KindTakeThreadControl, PageID: testPage, PSID: testPSID, NewOwnerAppID: newOwner, PreviousOwnerAppID: prev}
}

func requestEv(by string) Event {
	return Event{Kind: KindRequestThreadControl, PageID: testPage, PSID: testPSID, RequestedOwnerAppID: by}
}

// describe writes actions compactly: "send(welcome:Welcome!...) > pass(263902037430900)".
func describe(acts []Action) string {
	var parts []string
	for _, a := range acts {
		parts = append(parts, describeOne(a))
	}
	return strings.Join(parts, ", ")
}

func describeOne(a Action) string {
	var s string
	switch a.Kind {
	case ActSend:
		txt := ""
		if a.Message != nil {
			txt = a.Message.Text
			if i := strings.IndexAny(txt, ".!\n"); i > 0 {
				txt = txt[:i]
			}
		}
		s = fmt.Sprintf("send[%s](%s)", a.Reason, txt)
	case ActPass:
		s = fmt.Sprintf("pass[%s](%s)", a.Reason, a.TargetAppID)
	case ActTake:
		s = fmt.Sprintf("take[%s]", a.Reason)
	case ActResolveOwner:
		s = fmt.Sprintf("resolve[%s]", a.Reason)
	}
	if len(a.Then) > 0 {
		s += " > " + describe(a.Then)
	}
	return s
}

// Short names of the tutorial's messages, as describe prints them.
const (
	welcomeMsg  = "send[welcome](Welcome)"
	handoffMsg  = "send[handoff](The bot is passing control to the Page Inbox)"
	takeBackMsg = "send[take_back](The bot is taking control back)"
	doneMsg     = "send[done](You passed control back to the bot by marking \"Done\" in the Page Inbox)"
	errorMsg    = "send[error](Sorry, something went wrong on our side)"
	passInbox   = "pass[handoff](" + inbox + ")"
)

func wantActions(t *testing.T, d Decision, want string) {
	t.Helper()
	if got := describe(d.Actions); got != want {
		t.Errorf("actions:\n got  %s\n want %s\n (ignored %q)", got, want, d.Ignored)
	}
	for _, a := range d.Actions {
		checkPSIDs(t, a)
	}
}

func checkPSIDs(t *testing.T, a Action) {
	t.Helper()
	if a.PSID != testPSID && a.PSID != "" {
		t.Errorf("action %s addressed to %q", describeOne(a), a.PSID)
	}
	for _, x := range a.Then {
		checkPSIDs(t, x)
	}
}

// ok and fail make Results.
func ok(a Action) Result { return Result{Action: a, OK: true} }

// refused is a Graph refusal as the webhook reports it; the comments of the callers name
// Meta's answer it stands for.
func refused(a Action, f Failure) Result { return Result{Action: a, Failure: f} }

func failed(a Action) Result { return Result{Action: a, Failure: FailInternal} }

func owner(a Action, o Owner, appID string) Result {
	return Result{Action: a, OK: true, Owner: o, OwnerAppID: appID}
}
