package simulator

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"
)

func TestEveryDeliveryIsSignedWithTheAppsOwnSecret(t *testing.T) {
	e := newEnv(t, nil)
	e.say("hi")
	e.idle()
	for _, r := range []*receiver{e.bot, e.crm} {
		posts := r.allPosts()
		if len(posts) == 0 {
			t.Fatalf("%s: no delivery", r.secret)
		}
		for _, p := range posts {
			if !p.valid {
				t.Fatalf("invalid signature %q for %s", p.sig256, p.body)
			}
			if !strings.HasPrefix(p.sig1, "sha1=") {
				t.Fatalf("legacy sha1 signature missing: %q", p.sig1)
			}
		}
	}
	// The bot's body signed with crm's secret does not match: secrets are per app.
	p := e.bot.allPosts()[0]
	mac := hmac.New(sha256.New, []byte(crmSec))
	mac.Write(p.body)
	if p.sig256 == "sha256="+hex.EncodeToString(mac.Sum(nil)) {
		t.Fatal("bot delivery verifies with crm's secret")
	}
}

func TestSHA1SignatureCanBeSwitchedOff(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Behaviour.NoSHA1Signature = true })
	e.say("hi")
	if p := e.bot.allPosts(); len(p) != 1 || p[0].sig1 != "" || !p[0].valid {
		t.Fatalf("posts = %+v", p)
	}
}

func TestBodyIsWrittenLikeMeta(t *testing.T) {
	e := newEnv(t, nil)
	e.say("äöå 👍 https://example.com/x")
	body := e.bot.allPosts()[0].body
	for _, want := range []string{`\u00e4\u00f6\u00e5`, `\ud83d\udc4d`, `https:\/\/example.com\/x`} {
		if !bytes.Contains(body, []byte(want)) {
			t.Fatalf("body lacks %s: %s", want, body)
		}
	}
	if bytes.ContainsAny(body, "äöå") {
		t.Fatalf("raw non-ASCII in body: %s", body)
	}
	got := e.bot.ofKind("message")[0]
	if got.ev.Message.Text != "äöå 👍 https://example.com/x" {
		t.Fatalf("text decodes to %q", got.ev.Message.Text)
	}
	// Ids are strings, timestamps Unix ms from the simulator clock.
	if _, ok := got.ev.Sender.ID.(string); !ok || idOf(got.ev.Sender.ID) != psid {
		t.Fatalf("sender id = %#v", got.ev.Sender.ID)
	}
	if got.ev.Timestamp/1000 != t0.Unix() {
		t.Fatalf("timestamp = %d, want ms around %d", got.ev.Timestamp, t0.UnixMilli())
	}
}

func TestIDsAsNumbers(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.IDs = IDNumbers })
	e.say("hi")
	body := string(e.bot.allPosts()[0].body)
	if !strings.Contains(body, `"sender":{"id":`+psid+`}`) || !strings.Contains(body, `"id":`+pageID+`,`) {
		t.Fatalf("ids not numbers: %s", body)
	}
	e2 := newEnv(t, func(o *Options) { o.IDs = IDAsDocumented })
	e2.say("hi")
	e2.wantOK(e2.send(botName, "yo"))
	e2.idle()
	echo := e2.bot.ofKind("echo")[0]
	if !strings.Contains(string(echo.ev.raw), `"app_id":`+botID+`,`) || !strings.Contains(string(echo.ev.raw), `"id":"`+psid+`"`) {
		t.Fatalf("documented id form: %s", echo.ev.raw)
	}
}

func TestRedeliveryAfterSlowCallback(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.DeliveryTimeout = 200 * time.Millisecond })
	// First POST answers after the timeout, the next ones at once.
	e.bot.setAnswer(func(n int) (int, time.Duration) {
		if n == 0 {
			return 200, time.Second
		}
		return 200, 0
	})
	e.say("hi")
	posts := e.bot.allPosts()
	if len(posts) != 2 {
		t.Fatalf("posts = %d, want 2 (one late, one redelivery)", len(posts))
	}
	if !bytes.Equal(posts[0].body, posts[1].body) || posts[0].sig256 != posts[1].sig256 {
		t.Fatal("redelivery is not the same body")
	}
	d := e.sim.Deliveries(botName)
	if len(d) != 2 || d[0].OK || d[0].Status != 0 || d[0].Attempt != 1 || !d[1].OK || d[1].Attempt != 2 || !d[1].Final {
		t.Fatalf("deliveries = %+v", d)
	}
}

func TestImmediateRetriesThenALaterAttempt(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxDeliveryAttempts = 3 })
	e.bot.setAnswer(func(n int) (int, time.Duration) { return 500, 0 })
	e.crm.setAnswer(func(n int) (int, time.Duration) {
		if n < 2 {
			return 503, 0
		}
		return 200, 0
	})
	e.say("hi")
	if n := len(e.bot.allPosts()); n != 3 {
		t.Fatalf("bot posts = %d, want 3 (the first burst)", n)
	}
	if n := len(e.crm.allPosts()); n != 3 {
		t.Fatalf("crm posts = %d, want 3 (2 failures + success)", n)
	}
	d := e.sim.Deliveries(botName)
	last := d[len(d)-1]
	if last.OK || last.Final || last.Status != 500 || !last.NextAttempt.Equal(t0.Add(time.Minute)) || !last.At.Equal(t0) {
		t.Fatalf("last bot delivery = %+v", last)
	}
	if c := e.sim.Deliveries(crmName); !c[2].OK || !c[2].Final || !c[2].NextAttempt.IsZero() {
		t.Fatalf("crm deliveries = %+v", c)
	}
	if n := e.sim.PendingRetries(botName); n != 1 {
		t.Fatalf("pending retries = %d, want 1", n)
	}
	// A 2xx other than 200 is not an acknowledgement either.
	e.bot.setAnswer(func(n int) (int, time.Duration) { return 204, 0 })
	e.say("again")
	if d := e.sim.Deliveries(botName); d[len(d)-1].OK {
		t.Fatal("204 counted as acknowledged")
	}
}

func TestExplicitBatchHoldFlush(t *testing.T) {
	e := newEnv(t, nil)
	e.sim.Hold()
	c := e.sim.Customer(pageID, psid)
	for _, s := range []string{"one", "two", "three"} {
		if err := c.Say(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.sim.Customer(pageID, psid2).Say("other thread"); err != nil {
		t.Fatal(err)
	}
	if n := len(e.bot.allPosts()); n != 0 {
		t.Fatalf("held events were sent: %d", n)
	}
	e.sim.Flush()
	e.idle()
	posts := e.bot.allPosts()
	if len(posts) != 1 {
		t.Fatalf("posts = %d, want 1 batch", len(posts))
	}
	evs := decodeEvents(t, posts[0].body)
	if len(evs) != 4 || evs[0].ev.Message.Text != "one" || evs[2].ev.Message.Text != "three" || idOf(evs[3].ev.Sender.ID) != psid2 {
		t.Fatalf("batch = %s", posts[0].body)
	}
	// crm got the same four as standby in one POST.
	if p := e.crm.allPosts(); len(p) != 1 || len(decodeEvents(t, p[0].body)) != 4 {
		t.Fatalf("crm posts = %d", len(p))
	}
}

func TestBatchWindowMixesMessagingAndStandbyEntries(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.BatchWindow = 50 * time.Millisecond })
	e.say("hi")
	before := len(e.bot.allPosts())
	// The agent replies: the bot loses control (take, messaging) and sees the echo (standby).
	if err := e.sim.Inbox(pageID).Reply(psid, "Hi, Anna here"); err != nil {
		t.Fatal(err)
	}
	posts := e.bot.allPosts()[before:]
	if len(posts) != 1 {
		t.Fatalf("posts = %d, want one batch", len(posts))
	}
	evs := decodeEvents(t, posts[0].body)
	if len(evs) != 2 || evs[0].channel != "messaging" || kindOf(evs[0].ev) != "take" || evs[1].channel != "standby" || kindOf(evs[1].ev) != "echo" {
		t.Fatalf("batch = %s", posts[0].body)
	}
}
