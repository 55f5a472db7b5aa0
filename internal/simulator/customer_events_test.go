package simulator

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// withKey returns the events (as JSON objects) received by r that carry key, with their channel.
func withKey(t *testing.T, r *receiver, key string) (evs []map[string]any, channels []string) {
	t.Helper()
	for _, g := range r.events() {
		var m map[string]any
		dec := json.NewDecoder(bytes.NewReader(g.ev.raw))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		if _, ok := m[key]; ok {
			evs = append(evs, m)
			channels = append(channels, g.channel)
		}
	}
	return evs, channels
}

func obj(v any) map[string]any { m, _ := v.(map[string]any); return m }

func TestAttachmentsAndStickerTransition(t *testing.T) {
	e := newEnv(t, nil)
	c := e.sim.Customer(pageID, psid)
	if err := c.SendAttachment("image", "https://example.com/cat.jpg"); err != nil {
		t.Fatal(err)
	}
	if err := c.SendAttachment("fallback", "A shared link"); err != nil {
		t.Fatal(err)
	}
	if err := c.SendAttachment("pdf", "x"); err == nil {
		t.Fatal("unknown attachment type accepted")
	}
	if err := c.SendSticker("369239263222822"); err != nil {
		t.Fatal(err)
	}
	m := e.bot.ofKind("message")
	if len(m) != 3 || m[0].ev.Message.Text != "" || m[0].ev.Message.Attachments[0]["type"] != "image" ||
		obj(m[0].ev.Message.Attachments[0]["payload"])["url"] != "https://example.com/cat.jpg" {
		t.Fatalf("image = %s", m[0].ev.raw)
	}
	if fb := m[1].ev.Message.Attachments[0]; fb["type"] != "fallback" || fb["payload"] != nil {
		t.Fatalf("fallback = %s", m[1].ev.raw)
	}
	// Before Aug 30, 2026 a sticker comes as an image and a sticker.
	if a := m[2].ev.Message.Attachments; len(a) != 2 || a[0]["type"] != "image" || a[1]["type"] != "sticker" ||
		obj(a[1]["payload"])["sticker_id"] != json.Number("369239263222822") {
		t.Fatalf("sticker during the transition = %s", m[2].ev.raw)
	}
	e.clock.Set(time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC))
	if err := c.SendSticker("369239263222822"); err != nil {
		t.Fatal(err)
	}
	m = e.bot.ofKind("message")
	if a := m[3].ev.Message.Attachments; len(a) != 1 || a[0]["type"] != "sticker" {
		t.Fatalf("sticker after the transition = %s", m[3].ev.raw)
	}
	if ms := e.sim.Messages(pageID, psid); len(ms) != 4 || ms[2].Kind != "sticker" || ms[0].Kind != "attachment" {
		t.Fatalf("messages = %+v", ms)
	}
}

func TestDeliveriesReactionsEdits(t *testing.T) {
	e := newEnv(t, nil)
	c := e.sim.Customer(pageID, psid)
	e.say("hi")
	g := e.send(botName, "Hello")
	e.wantOK(g)
	e.wantOK(e.send(botName, "How can I help?"))
	if err := c.Delivered(); err != nil {
		t.Fatal(err)
	}
	d, ch := withKey(t, e.bot, "delivery")
	if len(d) != 1 || ch[0] != "messaging" || len(obj(d[0]["delivery"])["mids"].([]any)) != 2 || obj(d[0]["delivery"])["watermark"] == nil {
		t.Fatalf("delivery = %v", d)
	}
	if _, ch := withKey(t, e.crm, "delivery"); len(ch) != 1 || ch[0] != "standby" {
		t.Fatal("no standby delivery for crm")
	}
	// Nothing new: no second delivery event.
	_ = c.Delivered()
	if d, _ := withKey(t, e.bot, "delivery"); len(d) != 1 {
		t.Fatal("a delivery with nothing new")
	}
	mid := g.body["message_id"].(string)
	if err := c.React(mid, "❤"); err != nil {
		t.Fatal(err)
	}
	if err := c.React(mid, ""); err != nil {
		t.Fatal(err)
	}
	r, _ := withKey(t, e.bot, "reaction")
	if len(r) != 2 || obj(r[0]["reaction"])["action"] != "react" || obj(r[0]["reaction"])["reaction"] != "love" ||
		obj(r[0]["reaction"])["mid"] != mid || obj(r[1]["reaction"])["action"] != "unreact" {
		t.Fatalf("reactions = %v", r)
	}
	if err := c.React("m_nope", "👍"); err == nil {
		t.Fatal("reaction to an unknown message accepted")
	}
	own := e.sim.Messages(pageID, psid)[0].Mid
	for i := 1; i <= maxEdits; i++ {
		if err := c.Edit(own, "hi there"); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Edit(own, "sixth"); err == nil {
		t.Fatal("a sixth edit accepted")
	}
	if err := c.Edit(mid, "not mine"); err == nil {
		t.Fatal("edited the Page's message")
	}
	ed, _ := withKey(t, e.bot, "message_edit")
	if len(ed) != 5 || obj(ed[4]["message_edit"])["num_edit"] != json.Number("5") || obj(ed[4]["message_edit"])["mid"] != own {
		t.Fatalf("edits = %v", ed)
	}
	if m := e.sim.Messages(pageID, psid)[0]; m.Text != "hi there" || m.Edits != 5 {
		t.Fatalf("edited message = %+v", m)
	}
}

func TestDeliveryReceiptsOption(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.DeliveryReceipts = true })
	e.say("hi")
	e.wantOK(e.send(botName, "Hello"))
	if d, _ := withKey(t, e.bot, "delivery"); len(d) != 1 {
		t.Fatalf("deliveries = %v", d)
	}
}

func TestReferralsOptinsAndAppRoles(t *testing.T) {
	e := newEnv(t, nil)
	c := e.sim.Customer(pageID, psid)
	if err := c.Referral("summer-sale", ""); err != nil {
		t.Fatal(err)
	}
	if err := c.OptIn("newsletter"); err != nil {
		t.Fatal(err)
	}
	ref, _ := withKey(t, e.bot, "referral")
	if len(ref) != 1 || obj(ref[0]["referral"])["ref"] != "summer-sale" || obj(ref[0]["referral"])["source"] != "SHORTLINK" ||
		obj(ref[0]["referral"])["type"] != "OPEN_THREAD" {
		t.Fatalf("referral = %v", ref)
	}
	if o, _ := withKey(t, e.bot, "optin"); len(o) != 1 || obj(o[0]["optin"])["ref"] != "newsletter" {
		t.Fatalf("optin = %v", o)
	}
	if err := e.sim.SetAppRoles(pageID, map[string][]string{botName: {"primary_receiver"}}); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*receiver{e.bot, e.crm} {
		ar, ch := withKey(t, r, "app_roles")
		if len(ar) != 1 || ch[0] != "messaging" || ar[0]["sender"] != nil || obj(ar[0]["app_roles"])[botID] == nil {
			t.Fatalf("app_roles = %v", ar)
		}
	}
	if err := e.sim.SetAppRoles(pageID, map[string][]string{"nope": nil}); err == nil {
		t.Fatal("roles of an unknown app accepted")
	}
}

// A person taps "Send Message" on a Page post: an echo without app_id reaches the apps; nobody
// took control (the inbox did not act).
func TestEchoWithoutAppIDFromAPagePost(t *testing.T) {
	e := newEnv(t, nil)
	e.say("hi")
	if err := e.sim.Customer(pageID, psid).StartFromPost("Our summer collection"); err != nil {
		t.Fatal(err)
	}
	echoes := e.bot.ofKind("echo")
	last := echoes[len(echoes)-1]
	if last.ev.Message.AppID != nil || strings.Contains(string(last.ev.raw), "app_id") || last.ev.Message.Text != "Our summer collection" {
		t.Fatalf("echo = %s", last.ev.raw)
	}
	e.wantOwner(botName)
	if m := e.sim.Messages(pageID, psid); m[len(m)-1].From != "page" || m[len(m)-1].Kind != "post" {
		t.Fatalf("messages = %+v", m)
	}
}

// Business Suite instant and away replies are inbox echoes that do not move the thread.
func TestInboxAutomations(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Pages[0].InstantReply = "Thanks for your message!" })
	in := e.sim.Inbox(pageID)
	if err := in.SetAwayMessage("We are away until Monday."); err != nil {
		t.Fatal(err)
	}
	e.say("hi")
	e.say("anyone?")
	echoes := e.bot.ofKind("echo")
	if len(echoes) != 1 || idOf(echoes[0].ev.Message.AppID) != InboxAppID || echoes[0].ev.Message.Text != "Thanks for your message!" || echoes[0].channel != "messaging" {
		t.Fatalf("instant reply echoes = %+v", echoes)
	}
	e.wantOwner(botName)
	if err := in.SetAway(true); err != nil {
		t.Fatal(err)
	}
	e.say("hello?")
	e.say("hello??")
	echoes = e.bot.ofKind("echo")
	if len(echoes) != 2 || echoes[1].ev.Message.Text != "We are away until Monday." {
		t.Fatalf("away echoes = %+v", echoes)
	}
	e.wantOwner(botName)
	// A new away period answers again.
	_ = in.SetAway(false)
	_ = in.SetAway(true)
	e.say("again")
	if n := len(e.bot.ofKind("echo")); n != 3 {
		t.Fatalf("echoes after a new away period = %d", n)
	}
	if err := in.AutoReply(psid, "Keyword reply"); err != nil {
		t.Fatal(err)
	}
	if steps := e.sim.Transcript().Kinds(StepAutomation); len(steps) != 4 || steps[0].Actor != InboxName {
		t.Fatalf("automation steps = %+v", steps)
	}
	e.wantOwner(botName)
}
