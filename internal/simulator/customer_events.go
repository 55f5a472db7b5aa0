package simulator

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Events a person causes besides text, quick replies and postbacks (reference §3.1, §3.6).

// stickerTransitionEnd: stickers arrive as both an image and a sticker attachment until this date,
// then as a sticker only (§3.1).
var stickerTransitionEnd = time.Date(2026, time.August, 30, 0, 0, 0, 0, time.UTC)

// maxEdits: a person may edit a message at most 5 times (§3.6, a Messenger client limit).
const maxEdits = 5

// mediaTypes are the attachment types a person can share with a URL (§3.1).
var mediaTypes = map[string]bool{"image": true, "audio": true, "video": true, "file": true}

// userMessageLocked records a message from the person (m.Text describes it in the transcript) and
// fans it out as a messages event that fill completes; the Business Suite automations may answer
// it (inbox_automations.go).
func (s *Simulator) userMessageLocked(p *page, t *thread, m Message, step Step, fill func(*evMessage)) {
	now, ms := s.stampLocked(p)
	m.Mid, m.Page, m.PSID, m.From, m.Time = s.newMid(), p.id, t.psid, "customer", now
	s.recordLocked(t, m)
	step.Actor = "customer"
	s.stepLocked(p, t, step)
	s.fanOutLocked(p, t, fieldMessages, func(a *app, standby bool) *event {
		ev := s.fromUser(p, t.psid, ms)
		ev.Message = &evMessage{Mid: m.Mid}
		if fill != nil {
			fill(ev.Message)
		}
		return ev
	})
	s.automationsLocked(p, t)
}

// SendAttachment shares a file: kind image, audio, video or file with its URL, or fallback (a link
// Messenger cannot show) without a payload (§3.1).
func (c *Customer) SendAttachment(kind, url string) error {
	var att map[string]any
	switch {
	case mediaTypes[kind] && url != "":
		att = map[string]any{"type": kind, "payload": map[string]any{"url": url}}
	case kind == "fallback":
		att = map[string]any{"type": "fallback", "title": url}
	default:
		return fmt.Errorf("simulator: attachment type must be image, audio, video or file with a url, or fallback")
	}
	raw, _ := json.Marshal(att)
	return c.s.act(func() error {
		p, t, err := c.s.customerLocked(c.page, c.psid)
		if err != nil {
			return err
		}
		text := fmt.Sprintf("[%s] %s", kind, url)
		c.s.userMessageLocked(p, t, Message{Kind: "attachment", Text: text}, Step{Kind: StepAttachment, Text: text},
			func(m *evMessage) { m.Attachments = []json.RawMessage{raw} })
		return nil
	})
}

// SendSticker sends a sticker (a numeric sticker id). Until Aug 30, 2026 on the simulator clock the
// message carries an image and a sticker attachment, afterwards the sticker only (§3.1).
func (c *Customer) SendSticker(stickerID string) error {
	id, err := strconv.ParseInt(stickerID, 10, 64)
	if err != nil || id <= 0 {
		return fmt.Errorf("simulator: a sticker id is a positive number")
	}
	return c.s.act(func() error {
		p, t, err := c.s.customerLocked(c.page, c.psid)
		if err != nil {
			return err
		}
		payload := map[string]any{"url": "https://scontent.xx.fbcdn.net/v/t39.1997-6/sticker_" + stickerID + ".png", "sticker_id": id}
		var atts []json.RawMessage
		if c.s.clock.Now().Before(stickerTransitionEnd) {
			img, _ := json.Marshal(map[string]any{"type": "image", "payload": payload})
			atts = append(atts, img)
		}
		st, _ := json.Marshal(map[string]any{"type": "sticker", "payload": payload})
		atts = append(atts, st)
		text := "[sticker] " + stickerID
		c.s.userMessageLocked(p, t, Message{Kind: "sticker", Text: text}, Step{Kind: StepAttachment, Text: text},
			func(m *evMessage) { m.Attachments = atts })
		return nil
	})
}

// pageMessagesSinceLocked returns the Page's messages after the given time (deliveries, reads).
func pageMessagesSince(t *thread, after time.Time) []Message {
	var out []Message
	for _, m := range t.messages {
		if m.From != "customer" && m.Time.After(after) {
			out = append(out, m)
		}
	}
	return out
}

// Delivered: the person's device received the Page's messages (message_deliveries, §3.6: the mids
// delivered and a watermark).
func (c *Customer) Delivered() error {
	return c.s.act(func() error {
		p, t, err := c.s.threadForLocked(c.page, c.psid)
		if err != nil {
			return err
		}
		c.s.deliveredLocked(p, t)
		return nil
	})
}

func (s *Simulator) deliveredLocked(p *page, t *thread) {
	msgs := pageMessagesSince(t, t.delivered)
	if len(msgs) == 0 {
		return
	}
	mids := make([]string, len(msgs))
	for i, m := range msgs {
		mids[i] = m.Mid
	}
	last := msgs[len(msgs)-1].Time
	t.delivered = last
	_, ms := s.stampLocked(p)
	s.stepLocked(p, t, Step{Actor: "customer", Kind: StepDelivered, Text: fmt.Sprintf("delivered %d message(s)", len(mids))})
	s.fanOutFromUserLocked(p, t, fieldDelivered, ms, func(ev *event) { ev.Delivery = &evDelivery{Mids: mids, Watermark: last.UnixMilli()} })
}

// reactionNames are the reaction names next to the emoji (message_reactions).
var reactionNames = map[string]string{"❤": "love", "❤️": "love", "😆": "smile", "😮": "wow", "😢": "sad",
	"😠": "angry", "👍": "like", "👎": "dislike"}

// React reacts to a message of the thread with an emoji; "" removes the reaction (unreact).
func (c *Customer) React(mid, emoji string) error {
	return c.s.act(func() error {
		p, t, err := c.s.threadForLocked(c.page, c.psid)
		if err != nil {
			return err
		}
		if findMessage(t, mid) < 0 {
			return fmt.Errorf("simulator: no message %s in the thread", mid)
		}
		r := &evReaction{Mid: mid, Action: "react", Emoji: emoji, Reaction: reactionNames[emoji]}
		text := "reacted " + emoji
		if emoji == "" {
			r = &evReaction{Mid: mid, Action: "unreact"}
			text = "removed a reaction"
		} else if r.Reaction == "" {
			r.Reaction = "other"
		}
		_, ms := c.s.stampLocked(p)
		c.s.stepLocked(p, t, Step{Actor: "customer", Kind: StepReact, Text: text})
		c.s.fanOutLocked(p, t, fieldReactions, func(a *app, standby bool) *event {
			ev := c.s.fromUser(p, t.psid, ms)
			rc := *r
			ev.Reaction = &rc
			return ev
		})
		return nil
	})
}

func findMessage(t *thread, mid string) int {
	for i, m := range t.messages {
		if m.Mid == mid {
			return i
		}
	}
	return -1
}

// Edit changes the text of one of the person's own messages (message_edits, at most 5 edits).
func (c *Customer) Edit(mid, text string) error {
	if text == "" {
		return fmt.Errorf("simulator: empty text")
	}
	return c.s.act(func() error {
		p, t, err := c.s.threadForLocked(c.page, c.psid)
		if err != nil {
			return err
		}
		i := findMessage(t, mid)
		if i < 0 || t.messages[i].From != "customer" || t.messages[i].Kind != "text" {
			return fmt.Errorf("simulator: %s is not a text message of the person", mid)
		}
		m := &t.messages[i]
		if m.Edits >= maxEdits {
			return fmt.Errorf("simulator: a message can be edited at most %d times", maxEdits)
		}
		m.Edits++
		m.Text = text
		n := m.Edits
		_, ms := c.s.stampLocked(p)
		c.s.stepLocked(p, t, Step{Actor: "customer", Kind: StepEdit, Text: text})
		c.s.fanOutFromUserLocked(p, t, fieldEdits, ms, func(ev *event) { ev.Edit = &evEdit{Mid: mid, Text: text, NumEdit: n} })
		return nil
	})
}

// Referral: the person opens the existing conversation from an m.me link, an ad or a QR code
// (messaging_referrals, §3.3); source is e.g. SHORTLINK (default), ADS, MESSENGER_CODE.
func (c *Customer) Referral(ref, source string) error {
	if source == "" {
		source = "SHORTLINK"
	}
	return c.s.act(func() error {
		p, t, err := c.s.customerLocked(c.page, c.psid)
		if err != nil {
			return err
		}
		_, ms := c.s.stampLocked(p)
		c.s.stepLocked(p, t, Step{Actor: "customer", Kind: StepReferral, Text: "opened the conversation from " + source, Payload: ref})
		c.s.fanOutFromUserLocked(p, t, fieldReferrals, ms, func(ev *event) { ev.Referral = &evReferral{Ref: ref, Source: source, Type: "OPEN_THREAD"} })
		return nil
	})
}

// OptIn: the person opts in through a plugin with a ref (messaging_optins).
func (c *Customer) OptIn(ref string) error {
	return c.s.act(func() error {
		p, t, err := c.s.customerLocked(c.page, c.psid)
		if err != nil {
			return err
		}
		_, ms := c.s.stampLocked(p)
		c.s.stepLocked(p, t, Step{Actor: "customer", Kind: StepOptin, Text: "opted in", Payload: ref})
		c.s.fanOutFromUserLocked(p, t, fieldOptins, ms, func(ev *event) { ev.Optin = &evOptin{Ref: ref} })
		return nil
	})
}

// StartFromPost: the person taps "Send Message" on a Page post. Meta puts the post into the
// conversation as a message of the Page, echoed to the apps without app_id: no app and no human
// sent it (§3.2 echoes "for every message the Page sends"; the missing app_id is what users
// report for this entry point). The thread's owner does not change.
func (c *Customer) StartFromPost(text string) error {
	if text == "" {
		text = "Shared a post"
	}
	return c.s.act(func() error {
		p := c.s.pages[c.page]
		if p == nil {
			return fmt.Errorf("simulator: unknown page %q", c.page)
		}
		p.userLocked(c.psid, true)
		t := p.threadLocked(c.psid)
		c.s.expireLocked(p, t)
		now, ms := c.s.stampLocked(p)
		mid := c.s.newMid()
		c.s.recordLocked(t, Message{Mid: mid, Page: p.id, PSID: t.psid, From: "page", Kind: "post", Text: text, Time: now})
		c.s.stepLocked(p, t, Step{Actor: "page", Kind: StepPostShare, Text: text})
		c.s.fanOutLocked(p, t, fieldEchoes, func(a *app, standby bool) *event {
			ev := c.s.fromPage(p, t.psid, ms)
			ev.Message = &evMessage{IsEcho: true, Mid: mid, Text: text}
			return ev
		})
		return nil
	})
}

// SetAppRoles sends the legacy app_roles event (app id or name -> roles such as
// primary_receiver) to every connected app: a Page-level event without a sender (§3.5).
func (s *Simulator) SetAppRoles(pageID string, roles map[string][]string) error {
	return s.act(func() error {
		p := s.pages[pageID]
		if p == nil {
			return fmt.Errorf("simulator: unknown page %q", pageID)
		}
		byID := map[string][]string{}
		for ref, rs := range roles {
			a := s.appByRef(ref)
			if a == nil || !p.connected(a.id) {
				return fmt.Errorf("simulator: app %q is not connected to page %s", ref, pageID)
			}
			byID[a.id] = append([]string(nil), rs...)
		}
		_, ms := s.stampLocked(p)
		s.stepLocked(p, nil, Step{Actor: "platform", Kind: StepAppRoles, Text: fmt.Sprintf("app roles changed: %v", roles)})
		for _, id := range p.apps {
			ev := &event{Recipient: party{ID: s.id(p.id, idPlain)}, Timestamp: ms, AppRoles: byID}
			s.routeLocked(p, "", s.apps[id], ChannelMessaging, fieldHandovers, ev)
		}
		return nil
	})
}
