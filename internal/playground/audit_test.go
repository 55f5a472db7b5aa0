package playground

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestParseAuditReadsBothLogFormats(t *testing.T) {
	want := AuditLine{Audit: "decision", Page: "1000000000000001", User: "ab12", From: "bot", To: "inbox",
		Trigger: "quick_reply", Reason: "handoff", Outcome: "ok"}
	for name, line := range map[string]string{
		"json": `{"time":"T","level":"INFO","msg":"handover","audit":"decision","page":"1000000000000001","user":"ab12","from":"bot","to":"inbox","trigger":"quick_reply","reason":"handoff","outcome":"ok"}`,
		"text": `time=T level=INFO msg=handover audit=decision page=1000000000000001 user=ab12 from=bot to=inbox trigger=quick_reply reason=handoff outcome=ok`,
	} {
		got, ok := parseAudit(line)
		want.Time = "T"
		if !ok || got != want {
			t.Errorf("%s: %+v %v, want %+v", name, got, ok, want)
		}
	}
	for _, line := range []string{
		`{"msg":"graph call failed","page":"1"}`,
		`time=T level=INFO msg="handover of something else"`,
		`msg=handover`, // no audit record
		`not a log line`,
		`{"msg":`,
	} {
		if got, ok := parseAudit(line); ok {
			t.Errorf("%q read as an audit line: %+v", line, got)
		}
	}
	if got := parseText(`msg="a \"quoted\" value" audit=owner`); got["msg"] != `a "quoted" value` || got["audit"] != "owner" {
		t.Errorf("quoted values: %v", got)
	}
}

// The audit is read from the start of the log, then as the webhook appends to it, a line
// written in two parts included.
func TestFollowAuditReadsWhatTheWebhookAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "webhook.log")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := make(chan AuditLine)
	go followAudit(ctx, path, out) // the file does not exist yet
	write := func(s string) {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString(s); err != nil {
			t.Fatal(err)
		}
		_ = f.Close()
	}
	next := func() AuditLine {
		select {
		case l := <-out:
			return l
		case <-time.After(10 * time.Second):
			t.Fatal("no audit line")
		}
		return AuditLine{}
	}
	write("msg=started\nmsg=handover audit=decision reason=handoff\n")
	if l := next(); l.Reason != "handoff" {
		t.Fatalf("first line: %+v", l)
	}
	write("msg=handover audit=owner rea")
	time.Sleep(300 * time.Millisecond) // the reader sees half a line and waits for the rest
	write("son=done\n")
	if l := next(); l.Audit != "owner" || l.Reason != "done" {
		t.Fatalf("second line: %+v", l)
	}
}
