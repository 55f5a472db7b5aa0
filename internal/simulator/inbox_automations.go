package simulator

import "fmt"

// Business Suite automations (reference §10.38): the instant reply and the away message are sent
// by Meta's inbox on its own, independently of the apps, and reach every app as echoes with the
// inbox app id. They are no human reply: the inbox does not take control.

// SetInstantReply sets the instant reply sent after a person's first message ("" turns it off).
func (i *Inbox) SetInstantReply(text string) error {
	return i.s.setPage(i.page, func(p *page) { p.instantReply = text })
}

// SetAwayMessage sets the away message ("" turns it off); it goes out while the Page is away.
func (i *Inbox) SetAwayMessage(text string) error {
	return i.s.setPage(i.page, func(p *page) { p.awayMessage = text })
}

// SetAway marks the Page away (the away message answers each thread once per away period) or
// back.
func (i *Inbox) SetAway(away bool) error {
	return i.s.setPage(i.page, func(p *page) {
		if away && !p.away {
			for _, t := range p.threads {
				t.awaySent = false
			}
		}
		p.away = away
	})
}

// AutoReply sends an automated inbox message on the thread now, as an automation would.
func (i *Inbox) AutoReply(psid, text string) error {
	if text == "" {
		return fmt.Errorf("simulator: empty text")
	}
	return i.s.act(func() error {
		p, t, err := i.s.threadForLocked(i.page, psid)
		if err != nil {
			return err
		}
		i.s.automationLocked(p, t, "automated reply", text)
		return nil
	})
}

func (s *Simulator) setPage(pageID string, f func(p *page)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pages[pageID]
	if p == nil {
		return fmt.Errorf("simulator: unknown page %q", pageID)
	}
	f(p)
	return nil
}

// automationsLocked runs after each message of the person.
func (s *Simulator) automationsLocked(p *page, t *thread) {
	if p.instantReply != "" && !t.instantSent {
		t.instantSent = true
		s.automationLocked(p, t, "instant reply", p.instantReply)
	}
	if p.away && p.awayMessage != "" && !t.awaySent {
		t.awaySent = true
		s.automationLocked(p, t, "away message", p.awayMessage)
	}
}

// automationLocked sends one automated message as the inbox: recorded, echoed with the inbox app
// id, owner unchanged.
func (s *Simulator) automationLocked(p *page, t *thread, what, text string) {
	now, ms := s.stampLocked(p)
	mid := s.newMid()
	s.recordLocked(t, Message{Mid: mid, Page: p.id, PSID: t.psid, From: InboxName, AppID: InboxAppID, Kind: "automation", Text: text, Time: now})
	s.stepLocked(p, t, Step{Actor: InboxName, Kind: StepAutomation, Text: what + ": " + text})
	s.fanOutLocked(p, t, fieldEchoes, func(a *app, standby bool) *event {
		ev := s.fromPage(p, t.psid, ms)
		ev.Message = &evMessage{IsEcho: true, AppID: s.idPtr(InboxAppID, idEchoApp), Mid: mid, Text: text}
		return ev
	})
	if s.opts.DeliveryReceipts {
		s.deliveredLocked(p, t)
	}
}
