package simulator

import "fmt"

// Scripted actors (the customer here, the inbox agent in inbox.go, apps in app_actor.go): every
// action returns after the webhooks it caused were delivered (or given up).

// Customer is a person writing to a Page.
type Customer struct {
	s          *Simulator
	page, psid string
}

// Customer returns the person psid on the Page; unknown PSIDs are created with a default profile.
func (s *Simulator) Customer(pageID, psid string) *Customer {
	return &Customer{s: s, page: pageID, psid: psid}
}

// PSID is the customer's page-scoped id.
func (c *Customer) PSID() string { return c.psid }

// customerLocked resolves the page and thread and records the user's activity: the 24 h window
// opens, the profile becomes available, an idle thread goes to the default app (social routing,
// §4.2) and the owner's control is renewed.
func (s *Simulator) customerLocked(pageID, psid string) (*page, *thread, error) {
	p := s.pages[pageID]
	if p == nil {
		return nil, nil, fmt.Errorf("simulator: unknown page %q", pageID)
	}
	if psid == "" {
		return nil, nil, fmt.Errorf("simulator: empty PSID")
	}
	u := p.userLocked(psid, true)
	t := p.threadLocked(psid)
	s.expireLocked(p, t)
	now := s.clock.Now()
	t.lastUser = now
	u.interacted = true
	if t.owner == "" && !p.zeroConfig() {
		s.setOwnerLocked(p, t, p.defaultApp, now, "the person wrote: idle thread routed to the default app")
	}
	s.touchLocked(t, now)
	return p, t, nil
}

// Say sends a text message.
func (c *Customer) Say(text string) error {
	if text == "" {
		return fmt.Errorf("simulator: empty text")
	}
	return c.s.act(func() error {
		p, t, err := c.s.customerLocked(c.page, c.psid)
		if err != nil {
			return err
		}
		now, ms := c.s.stampLocked(p)
		mid := c.s.newMid()
		c.s.recordLocked(t, Message{Mid: mid, Page: p.id, PSID: t.psid, From: "customer", Kind: "text", Text: text, Time: now})
		c.s.stepLocked(p, t, Step{Actor: "customer", Kind: StepSay, Text: text})
		c.s.fanOutFromUserLocked(p, t, fieldMessages, ms, func(ev *event) { ev.Message = &evMessage{Mid: mid, Text: text} })
		c.s.automationsLocked(p, t)
		return nil
	})
}

// Tap taps the quick reply titled title on the latest message, which must come from the Page and
// offer it (quick replies disappear once anything else is said).
func (c *Customer) Tap(title string) error {
	return c.s.act(func() error {
		payload, err := c.s.offeredQuickReplyLocked(c.page, c.psid, title)
		if err != nil {
			return err
		}
		return c.s.tapLocked(c.page, c.psid, title, payload)
	})
}

// TapPayload sends a quick-reply tap with an explicit title and payload.
func (c *Customer) TapPayload(title, payload string) error {
	return c.s.act(func() error { return c.s.tapLocked(c.page, c.psid, title, payload) })
}

func (s *Simulator) offeredQuickReplyLocked(pageID, psid, title string) (string, error) {
	p := s.pages[pageID]
	if p == nil || p.threads[psid] == nil || len(p.threads[psid].messages) == 0 {
		return "", fmt.Errorf("simulator: no quick replies offered to %s", psid)
	}
	last := p.threads[psid].messages[len(p.threads[psid].messages)-1]
	for _, q := range last.QuickReplies {
		if q.Title == title && q.ContentType == "text" {
			return q.Payload, nil
		}
	}
	return "", fmt.Errorf("simulator: the latest message does not offer a quick reply titled %q", title)
}

// tapLocked: a quick-reply tap is a messages event with text = title and quick_reply.payload
// (§3.1); on standby the payload is kept unless the Behaviour switch drops it (§3.4).
func (s *Simulator) tapLocked(pageID, psid, title, payload string) error {
	p, t, err := s.customerLocked(pageID, psid)
	if err != nil {
		return err
	}
	now, ms := s.stampLocked(p)
	mid := s.newMid()
	s.recordLocked(t, Message{Mid: mid, Page: p.id, PSID: t.psid, From: "customer", Kind: "quick_reply", Text: title, Payload: payload, Time: now})
	s.stepLocked(p, t, Step{Actor: "customer", Kind: StepTap, Text: title, Payload: payload})
	s.fanOutLocked(p, t, fieldMessages, func(a *app, standby bool) *event {
		ev := s.fromUser(p, t.psid, ms)
		ev.Message = &evMessage{Mid: mid, Text: title}
		if !standby || !s.opts.Behaviour.StandbyQuickReplyWithoutPayload {
			ev.Message.QuickReply = &evQuickReply{Payload: payload}
		}
		return ev
	})
	s.automationsLocked(p, t)
	return nil
}

// Press presses the postback button titled title on the most recent Page message that has one.
// The payload goes only to the app that sent the button (§3.3).
func (c *Customer) Press(title string) error { return c.PressCard("", title) }

// PressCard presses the postback button titled title on the carousel card titled card ("" for
// any card or a button template).
func (c *Customer) PressCard(card, title string) error {
	return c.s.act(func() error {
		p := c.s.pages[c.page]
		if p == nil || p.threads[c.psid] == nil {
			return fmt.Errorf("simulator: no buttons offered to %s", c.psid)
		}
		msgs := p.threads[c.psid].messages
		for i := len(msgs) - 1; i >= 0; i-- {
			for _, b := range msgs[i].Buttons {
				if b.Type == "postback" && b.Title == title && (card == "" || b.Card == card) {
					return c.s.postbackLocked(c.page, c.psid, StepPostback, title, b.Payload, msgs[i].AppID)
				}
			}
		}
		if card != "" {
			return fmt.Errorf("simulator: no postback button titled %q on a card titled %q was offered", title, card)
		}
		return fmt.Errorf("simulator: no postback button titled %q was offered", title)
	})
}

// Postback sends a postback with an explicit title and payload (e.g. from the persistent menu).
func (c *Customer) Postback(title, payload string) error {
	return c.s.act(func() error { return c.s.postbackLocked(c.page, c.psid, StepPostback, title, payload, "") })
}

// postbackLocked: messaging_postbacks; standby gets no payload (§3.3, §3.4;
// Behaviour.StandbyPostbackPayload); on messaging the payload goes to the app that sent the button
// (origin) or to anyone when the origin is the Page itself (Get Started, the menu).
func (s *Simulator) postbackLocked(pageID, psid string, kind StepKind, title, payload, origin string) error {
	p, t, err := s.customerLocked(pageID, psid)
	if err != nil {
		return err
	}
	now, ms := s.stampLocked(p)
	mid := s.newMid()
	s.recordLocked(t, Message{Mid: mid, Page: p.id, PSID: t.psid, From: "customer", Kind: "postback", Text: title, Payload: payload, Time: now})
	s.stepLocked(p, t, Step{Actor: "customer", Kind: kind, Text: title, Payload: payload})
	s.fanOutLocked(p, t, fieldPostbacks, func(a *app, standby bool) *event {
		ev := s.fromUser(p, t.psid, ms)
		ev.Postback = &evPostback{Mid: mid, Title: title}
		if (!standby || s.opts.Behaviour.StandbyPostbackPayload) && (origin == "" || origin == a.id) {
			ev.Postback.Payload = payload
		}
		return ev
	})
	return nil
}

// Read marks everything the Page sent so far as read (message_reads).
func (c *Customer) Read() error {
	return c.s.act(func() error {
		p := c.s.pages[c.page]
		if p == nil {
			return fmt.Errorf("simulator: unknown page %q", c.page)
		}
		t := p.threadLocked(c.psid)
		c.s.expireLocked(p, t)
		_, ms := c.s.stampLocked(p)
		c.s.stepLocked(p, t, Step{Actor: "customer", Kind: StepRead, Text: "read"})
		c.s.fanOutFromUserLocked(p, t, fieldReads, ms, func(ev *event) { ev.Read = &evRead{Watermark: ms} })
		return nil
	})
}

// SetUnavailable makes the person unreachable (blocked the Page): sends fail with 551.
func (c *Customer) SetUnavailable(unavailable bool) error {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	p := c.s.pages[c.page]
	if p == nil {
		return fmt.Errorf("simulator: unknown page %q", c.page)
	}
	p.userLocked(c.psid, true).cfg.Unavailable = unavailable
	return nil
}
