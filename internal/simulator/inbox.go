package simulator

import "fmt"

// Inbox is the Page Inbox (Meta Business Suite, app 263902037430900) with a human agent
// (reference §0, §4.2).
type Inbox struct {
	s    *Simulator
	page string
}

// Inbox returns the Page Inbox of a Page.
func (s *Simulator) Inbox(pageID string) *Inbox { return &Inbox{s: s, page: pageID} }

func (s *Simulator) threadForLocked(pageID, psid string) (*page, *thread, error) {
	p := s.pages[pageID]
	if p == nil {
		return nil, nil, fmt.Errorf("simulator: unknown page %q", pageID)
	}
	if p.users[psid] == nil {
		return nil, nil, errNoUser()
	}
	t := p.threadLocked(psid)
	s.expireLocked(p, t)
	return p, t, nil
}

// Reply: the agent answers. If the inbox does not own the thread it takes control first (implicit
// take, §4.2); the message is echoed with the inbox app id to every app.
func (i *Inbox) Reply(psid, text string) error {
	return i.s.act(func() error {
		p, t, err := i.s.threadForLocked(i.page, psid)
		if err != nil {
			return err
		}
		inbox := i.s.apps[InboxAppID]
		req := &sendRequest{recipientID: psid, messagingType: "RESPONSE", message: &sendMessage{Text: &text}}
		if t.lastUser.IsZero() || i.s.clock.Now().Sub(t.lastUser) > messagingWindow {
			// Business Suite answers late replies with the human agent tag.
			req.messagingType, req.tag = "MESSAGE_TAG", "HUMAN_AGENT"
		}
		if gerr := i.s.windowLocked(inbox, t, req); gerr != nil {
			i.s.refusedLocked(p, t, inbox, "reply", gerr)
			return gerr
		}
		if t.owner != InboxAppID {
			if gerr := i.s.takeLocked(p, t, inbox, "", true); gerr != nil {
				return gerr
			}
		}
		if _, gerr := i.s.sendLocked(p, inbox, req); gerr != nil {
			i.s.refusedLocked(p, t, inbox, "reply", gerr)
			return gerr
		}
		return nil
	})
}

// Take: the agent moves the conversation to the Main folder; the inbox takes control (§4.2).
func (i *Inbox) Take(psid string) error {
	return i.s.act(func() error {
		p, t, err := i.s.threadForLocked(i.page, psid)
		if err != nil {
			return err
		}
		if t.owner == InboxAppID {
			return nil
		}
		if gerr := i.s.takeLocked(p, t, i.s.apps[InboxAppID], "", true); gerr != nil {
			return gerr
		}
		return nil
	})
}

// Done: the agent marks the conversation done; control passes to the default app (which gets
// pass_thread_control), or the thread is released when there is no other app to return to.
func (i *Inbox) Done(psid string) error {
	return i.s.act(func() error {
		p, t, err := i.s.threadForLocked(i.page, psid)
		if err != nil {
			return err
		}
		if t.owner != InboxAppID {
			return fmt.Errorf("simulator: the inbox does not own the thread (owner: %s)", i.s.appName(t.owner))
		}
		inbox := i.s.apps[InboxAppID]
		target := p.inboxDone
		if target == "" {
			target = p.defaultApp
		}
		i.s.stepLocked(p, t, Step{Actor: InboxName, Kind: StepDone, Text: "agent marked the conversation done"})
		if target == "" || target == InboxAppID {
			// No app to hand back to (zero-config, or the inbox is the default app): release.
			return gerrOrNil(i.s.releaseLocked(p, t, inbox))
		}
		return gerrOrNil(i.s.passLocked(p, t, inbox, target, ""))
	})
}

// Pass: the agent hands the conversation to an app (id or name).
func (i *Inbox) Pass(psid, target, metadata string) error {
	return i.s.App(InboxAppID).PassControl(i.page, psid, target, metadata)
}

func gerrOrNil(g *GraphError) error {
	if g == nil {
		return nil
	}
	return g
}
