package simulator

import (
	"fmt"
	"time"
)

// App acts as one app (by id or name) without HTTP: for scripted other apps, or to drive ours
// directly. The same rules as the Graph endpoints apply.
type App struct {
	s   *Simulator
	ref string
}

// App returns the scripted actor for an app (id or readable name).
func (s *Simulator) App(ref string) *App { return &App{s: s, ref: ref} }

func (a *App) threadOp(pageID, psid, what string, f func(p *page, t *thread, ap *app) *GraphError) error {
	return a.s.act(func() error {
		ap := a.s.appByRef(a.ref)
		if ap == nil {
			return fmt.Errorf("simulator: unknown app %q", a.ref)
		}
		p, t, err := a.s.threadForLocked(pageID, psid)
		if err != nil {
			return err
		}
		if !p.connected(ap.id) {
			return fmt.Errorf("simulator: app %s is not connected to page %s", ap.name, pageID)
		}
		if gerr := f(p, t, ap); gerr != nil {
			a.s.refusedLocked(p, t, ap, what, gerr)
			return gerr
		}
		return nil
	})
}

// Send sends a text message (messaging_type RESPONSE) with optional metadata.
func (a *App) Send(pageID, psid, text, metadata string) error {
	return a.threadOp(pageID, psid, "send", func(p *page, t *thread, ap *app) *GraphError {
		m := &sendMessage{Text: &text}
		if metadata != "" {
			m.Metadata = &metadata
		}
		_, gerr := a.s.sendLocked(p, ap, &sendRequest{recipientID: psid, messagingType: "RESPONSE", message: m})
		return gerr
	})
}

// RequestControl calls request_thread_control.
func (a *App) RequestControl(pageID, psid, metadata string) error {
	return a.threadOp(pageID, psid, "request_thread_control", func(p *page, t *thread, ap *app) *GraphError {
		return a.s.requestLocked(p, t, ap, metadata)
	})
}

// TakeControl calls take_thread_control.
func (a *App) TakeControl(pageID, psid, metadata string) error {
	return a.threadOp(pageID, psid, "take_thread_control", func(p *page, t *thread, ap *app) *GraphError {
		return a.s.takeLocked(p, t, ap, metadata, false)
	})
}

// PassControl calls pass_thread_control to target (id or name; "" = the default app).
func (a *App) PassControl(pageID, psid, target, metadata string) error {
	return a.threadOp(pageID, psid, "pass_thread_control", func(p *page, t *thread, ap *app) *GraphError {
		id := ""
		if target != "" {
			if ta := a.s.appByRef(target); ta != nil {
				id = ta.id
			} else {
				id = target
			}
		}
		return a.s.passLocked(p, t, ap, id, metadata)
	})
}

// ReleaseControl calls release_thread_control.
func (a *App) ReleaseControl(pageID, psid string) error {
	return a.threadOp(pageID, psid, "release_thread_control", func(p *page, t *thread, ap *app) *GraphError {
		return a.s.releaseLocked(p, t, ap)
	})
}

// ExtendControl calls extend_thread_control with a duration.
func (a *App) ExtendControl(pageID, psid string, d time.Duration) error {
	return a.threadOp(pageID, psid, "extend_thread_control", func(p *page, t *thread, ap *app) *GraphError {
		return a.s.extendLocked(p, t, ap, int64(d/time.Second))
	})
}
