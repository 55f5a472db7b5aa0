package handover

import (
	"testing"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// The profile's taps meet the policy: a menu item whose payload is a handoff trigger passes as
// the quick reply does, Get Started and unclaimed items get the welcome, and on standby (no
// payload) the profile's titles are matched, whole (not cut to a quick reply's 20 characters),
// unless the profile gives the same title to another payload.
func TestProfileTaps(t *testing.T) {
	spec := &v1alpha1.HandoverPolicySpec{
		Handoff:  v1alpha1.HandoffSpec{TargetAppID: otherApp, Triggers: v1alpha1.Triggers{QuickReplyPayloads: []string{"pass_to_inbox"}, PostbackPayloads: []string{"HUMAN"}}},
		TakeBack: v1alpha1.TakeBackSpec{Triggers: v1alpha1.Triggers{PostbackPayloads: []string{"BOT"}}},
	}
	prof := &v1alpha1.MessengerProfile{
		GetStarted: &v1alpha1.GetStarted{Payload: "GET_STARTED"},
		PersistentMenu: []v1alpha1.PersistentMenu{{Locale: "default", Items: []v1alpha1.MenuItem{
			{Postback: &v1alpha1.PostbackItem{Title: "Talk to a person", Payload: "HUMAN"}},
			{Postback: &v1alpha1.PostbackItem{Title: "Back to the bot, thank you", Payload: "BOT"}},
			{Postback: &v1alpha1.PostbackItem{Title: "Opening hours", Payload: "HOURS"}},
		}}},
		IceBreakers: []v1alpha1.IceBreakers{{Locale: "default", Questions: []v1alpha1.IceBreaker{
			{Question: "Can I speak to someone?", Payload: "HUMAN"},
		}}},
	}
	pol, err := CompileWithProfile(testPage, testApp, bizName, spec, prof)
	if err != nil {
		t.Fatal(err)
	}
	p := &Page{PageID: testPage, AppID: testApp, BusinessName: bizName, Policy: pol}
	plain := page(t, spec)
	mine := Thread{Owner: OwnerUs}
	away := Thread{Owner: OwnerOther, OwnerAppID: otherApp, PassedAt: t0}
	const take = "take[take_back] > " + takeBackMsg
	pass := handoffMsg + " > pass[handoff](" + otherApp + ")"

	wantActions(t, Decide(p, postback(Messaging, "Get Started", "GET_STARTED"), Thread{}, t0), welcomeMsg)
	wantActions(t, Decide(p, postback(Messaging, "Talk to a person", "HUMAN"), mine, t0), pass)
	wantActions(t, Decide(p, postback(Messaging, "Opening hours", "HOURS"), mine, t0), welcomeMsg)
	wantActions(t, Decide(p, postback(Messaging, "Can I speak to someone?", "HUMAN"), Thread{}, t0), pass)

	// Standby: the tap arrives with its title only.
	wantActions(t, Decide(p, postback(Standby, "Back to the bot, thank you", ""), away, t0), take)
	wantActions(t, Decide(plain, postback(Standby, "Back to the bot, thank you", ""), away, t0), "")
	wantActions(t, Decide(p, postback(Standby, "Opening hours", ""), away, t0), "")

	// A title the profile gives to two payloads matches neither.
	prof.PersistentMenu[0].Items[2].Postback.Title = "Back to the bot, thank you"
	amb, err := CompileWithProfile(testPage, testApp, bizName, spec, prof)
	if err != nil {
		t.Fatal(err)
	}
	wantActions(t, Decide(&Page{PageID: testPage, AppID: testApp, Policy: amb}, postback(Standby, "Back to the bot, thank you", ""), away, t0), "")
}
