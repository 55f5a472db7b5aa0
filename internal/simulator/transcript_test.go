package simulator

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestTranscriptOfAHandover(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Behaviour.RequestWithDefaultApp = true })
	c := e.sim.Customer(pageID, psid)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(c.Say("hi"))
	e.wantOK(e.call("POST", "/v25.0/me/messages", e.token(botName), map[string]any{"recipient": map[string]any{"id": psid},
		"messaging_type": "RESPONSE", "message": map[string]any{"text": "Hello! How can I help?",
			"quick_replies": []any{qr("Talk to a human", "HANDOFF")}}}))
	must(c.Tap("Talk to a human"))
	e.wantOK(e.handover(botName, "pass_thread_control", map[string]any{"target_app_id": InboxAppID, "metadata": "handoff"}))
	e.wantErr(e.send(botName, "one more thing"), 10, 2018300)
	must(e.sim.Inbox(pageID).Reply(psid, "Hi, I'm Anna"))
	must(e.sim.Inbox(pageID).Done(psid))
	must(e.sim.App(crmName).RequestControl(pageID, psid, ""))
	must(e.sim.Advance(24 * time.Hour))

	got := e.sim.Transcript().For(pageID, psid).String()
	want := []string{
		"customer  > hi",
		"[owner: bot]",
		"bot       < Hello! How can I help?  {Talk to a human}",
		"customer  > [quick reply] Talk to a human (HANDOFF)",
		`bot       ~ pass control to inbox ("handoff")`,
		"[owner: inbox]",
		"bot       ! send refused (#10/2018300)",
		"inbox     < Hi, I'm Anna",
		"inbox     ~ agent marked the conversation done",
		"inbox     ~ pass control to bot",
		"crm       ~ request control from bot",
		"platform  ~ control of bot expired after inactivity",
		"[owner: none]",
	}
	pos := 0
	for _, w := range want {
		i := strings.Index(got[pos:], w)
		if i < 0 {
			t.Fatalf("transcript lacks %q after position %d:\n%s", w, pos, got)
		}
		pos += i
	}
	lines := strings.Split(strings.TrimSpace(got), "\n")
	if len(lines) != 10 {
		t.Fatalf("lines = %d, want 10:\n%s", len(lines), got)
	}
	if !strings.HasPrefix(lines[0], "customer  > hi ") || !strings.HasSuffix(lines[0], "[owner: bot]") {
		t.Fatalf("first line = %q", lines[0])
	}
	steps := e.sim.Transcript()
	if steps[0].Actor != "customer" || steps[0].Kind != StepSay || steps[0].Owner != botName || steps[0].Seq != 1 {
		t.Fatalf("step = %+v", steps[0])
	}
	ref := steps.Kinds(StepRefused)
	if len(ref) != 1 || ref[0].Code != 10 || ref[0].Subcode != 2018300 || ref[0].Owner != InboxName {
		t.Fatalf("refused = %+v", ref)
	}
	// Several threads: lines carry page/psid.
	must(e.sim.Customer(pageID, psid2).Say("me too"))
	if all := e.sim.Transcript().String(); !strings.Contains(all, pageID+"/"+psid2+"  customer  > me too") {
		t.Fatalf("multi-thread transcript:\n%s", all)
	}
}

func TestWaitHelpers(t *testing.T) {
	e := newEnv(t, nil)
	e.say("hi")
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done <- e.sim.WaitMessages(ctx, pageID, psid, botName, 1)
	}()
	e.wantOK(e.send(botName, "answer"))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go func() { _ = e.sim.App(botName).PassControl(pageID, psid, InboxName, "") }()
	if err := e.sim.WaitOwner(ctx, pageID, psid, InboxName); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.WaitQuiet(ctx, 20*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	short, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel2()
	if err := e.sim.WaitOwner(short, pageID, psid, crmName); err == nil {
		t.Fatal("WaitOwner returned for an owner that never came")
	}
}
