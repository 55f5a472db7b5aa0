package simulator

import (
	"fmt"
	"time"
)

// Conversation Routing (reference §4): thread ownership, the handover calls and who receives what.

const (
	// ownershipTTL: ownership expires after 24 h of inactivity unless extended (§4.2).
	ownershipTTL = 24 * time.Hour
	// maxExtend: extend_thread_control accepts at most 7 days (§4.1).
	maxExtend = 7 * 24 * time.Hour
	// messagingWindow: standard window after the user's last message (§5.2).
	messagingWindow = 24 * time.Hour
	// humanAgentWindow: HUMAN_AGENT tag window (§5.1).
	humanAgentWindow = 7 * 24 * time.Hour
)

// Routed records one event routed to one app, whether or not it went to a callback.
type Routed struct {
	App     string // readable name
	Page    string
	PSID    string
	Channel string // ChannelMessaging or ChannelStandby
	Field   string // the event's webhook field (messages, message_echoes, ...)
	Kind    string // message, quick_reply, echo, postback, read, pass_thread_control, ...
	// ToCallback is true when the event was queued for the app's callback; Reason says why not
	// (no callback, not subscribed to the field at app or Page level).
	ToCallback bool
	Reason     string
	Event      []byte // the event JSON as the app receives it
}

// Routed returns the events routed to an app (by id or name), including apps without a callback.
func (s *Simulator) Routed(appRef string) []Routed {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.appByRef(appRef)
	if a == nil {
		return nil
	}
	return append([]Routed(nil), s.routed[a.id]...)
}

// routeLocked hands one event to one app: queued for its callback when the app has one and is
// subscribed to the field at both app and Page level (§7.2), recorded in any case.
func (s *Simulator) routeLocked(p *page, psid string, a *app, channel, field string, ev *event) {
	need := field
	if channel == ChannelStandby {
		need = fieldStandby
	}
	raw, _ := metaJSON(ev, !s.opts.Behaviour.NoSlashEscaping)
	r := Routed{App: a.name, Page: p.id, PSID: psid, Channel: channel, Field: field, Kind: ev.kind(), Event: raw}
	switch {
	case a.builtin:
		r.Reason = "Meta's own inbox (no callback)"
	case psid != "" && !p.users[psid].reachable(a):
		r.Reason = "Standard Access: the person has no role on the app"
	case a.sub == nil:
		r.Reason = "no callback URL"
	case a.sub.fields[need] == "":
		r.Reason = "app subscription lacks field " + need
	case !p.pageSubscribed(a.id, need):
		r.Reason = "app not subscribed to field " + need + " on the Page"
	default:
		r.ToCallback = true
		q := s.dq.enqueueLocked(a.id, p.id, channel, psid, ev)
		if s.collect != nil {
			s.collect = append(s.collect, q)
		}
	}
	s.routed[a.id] = append(s.routed[a.id], r)
}

// fanOutLocked routes a thread event to every connected app: the owner (every app in zero-config
// mode, the default app while idle) on messaging, the others on standby (§3.4).
func (s *Simulator) fanOutLocked(p *page, t *thread, field string, build func(a *app, standby bool) *event) {
	for _, id := range p.apps {
		a := s.apps[id]
		messaging := p.zeroConfig() || t.owner == id || (t.owner == "" && id == p.defaultApp)
		standby := !messaging
		ch := ChannelMessaging
		if standby {
			ch = ChannelStandby
		}
		s.routeLocked(p, t.psid, a, ch, field, build(a, standby))
	}
}

// handoverToLocked sends a messaging_handovers event to one app (always on messaging, §3.5).
func (s *Simulator) handoverToLocked(p *page, t *thread, a *app, ms int64, fill func(*event)) {
	ev := s.fromUser(p, t.psid, ms)
	fill(ev)
	s.routeLocked(p, t.psid, a, ChannelMessaging, fieldHandovers, ev)
}

// setOwnerLocked changes the owner; a new owner gets a fresh 24 h. cause names the change on the
// timeline.
func (s *Simulator) setOwnerLocked(p *page, t *thread, owner string, now time.Time, cause string) {
	prev := t.owner
	t.owner = owner
	if owner != "" {
		t.expires = now.Add(ownershipTTL)
	}
	s.ownerChangedLocked(p, t, prev, cause, now)
}

// touchLocked records activity on the thread: the owner's control lasts 24 h from now at least.
func (s *Simulator) touchLocked(t *thread, now time.Time) {
	if t.owner != "" {
		if e := now.Add(ownershipTTL); e.After(t.expires) {
			t.expires = e
		}
	}
}

// expireLocked drops an owner whose control expired; no webhook is sent (§3.5).
func (s *Simulator) expireLocked(p *page, t *thread) {
	if t.owner == "" || s.clock.Now().Before(t.expires) {
		return
	}
	prev := t.owner
	t.owner = ""
	s.ownerChangedLocked(p, t, prev, "expired", t.expires)
	s.stepLocked(p, t, Step{Time: t.expires, Actor: "platform", Kind: StepExpire,
		Text: fmt.Sprintf("control of %s expired after inactivity", s.appName(prev))})
}

// sweepLocked expires every thread due.
func (s *Simulator) sweepLocked() {
	for _, pid := range s.pageOrder {
		p := s.pages[pid]
		for _, t := range p.threads {
			s.expireLocked(p, t)
		}
	}
}

func (s *Simulator) prevOwnerID(prev string) *idValue {
	return s.idPtr(prev, idPlain)
}

// passLocked: pass_thread_control (also the inline Send-API pass and the inbox's Done).
// targetID "" means the default app.
func (s *Simulator) passLocked(p *page, t *thread, from *app, targetID, metadata string) *GraphError {
	if t.owner != "" && t.owner != from.id {
		return errNotThreadOwner()
	}
	target, gerr := s.passTargetLocked(p, from, targetID)
	if gerr != nil {
		return gerr
	}
	now, ms := s.stampLocked(p)
	prev := t.owner
	s.setOwnerLocked(p, t, target.id, now, "pass_thread_control by "+from.name)
	text := "pass control to " + target.name
	if metadata != "" {
		text += fmt.Sprintf(" (%q)", metadata)
	}
	s.stepLocked(p, t, Step{Actor: from.name, Kind: StepPass, Text: text, Metadata: metadata})
	s.handoverToLocked(p, t, target, ms, func(ev *event) {
		ev.Pass = &evControl{PreviousOwnerAppID: s.prevOwnerID(prev), NewOwnerAppID: s.id(target.id, idPlain), Metadata: metadata}
		if s.opts.Behaviour.PassWithoutPreviousOwner {
			ev.Pass.PreviousOwnerAppID = nil
		}
	})
	return nil
}

// passTargetLocked validates a pass target before anything happens (§4.1, Botkit #1530).
func (s *Simulator) passTargetLocked(p *page, from *app, targetID string) (*app, *GraphError) {
	if targetID == "" {
		if p.zeroConfig() {
			return nil, errParam("target_app_id is required: this Page has no default app")
		}
		targetID = p.defaultApp
	}
	target, ok := s.apps[targetID]
	if !ok || !p.connected(targetID) {
		return nil, errParam("Invalid target_app_id %s: no app with this id is connected to the Page", targetID)
	}
	if target.id == from.id {
		return nil, errParam("An app cannot pass thread control to itself (use extend_thread_control)")
	}
	return target, nil
}

// takeLocked: take_thread_control; implicit is the inbox taking over because an agent acted (§4.2).
func (s *Simulator) takeLocked(p *page, t *thread, by *app, metadata string, implicit bool) *GraphError {
	if !implicit {
		switch {
		case p.hopDisabled:
			return errHOPDisabled()
		case p.zeroConfig():
			return errTakeNotAllowed("the Page has no default app (zero-config)")
		case !by.canTake:
			return errTakeNotAllowed("the Page does not allow this app to take control of conversations")
		}
		if gerr := s.mayGainControlLocked(p, t, by); gerr != nil {
			return gerr
		}
	}
	if t.owner == by.id {
		return errAlreadyOwner()
	}
	now, ms := s.stampLocked(p)
	prev := t.owner
	cause := "take_thread_control by " + by.name
	if implicit {
		cause = "the inbox took control (agent acted)"
	}
	s.setOwnerLocked(p, t, by.id, now, cause)
	text := "take control"
	if prev != "" {
		text += " from " + s.appName(prev)
	}
	if implicit {
		text += " (agent acted in the inbox)"
	}
	s.stepLocked(p, t, Step{Actor: by.name, Kind: StepTake, Text: text, Metadata: metadata})
	if implicit && s.opts.Behaviour.InboxTakeWithoutWebhook {
		return nil
	}
	fill := func(ev *event) {
		ev.Take = &evControl{PreviousOwnerAppID: s.prevOwnerID(prev), NewOwnerAppID: s.id(by.id, idPlain), Metadata: metadata}
	}
	if prev != "" {
		s.handoverToLocked(p, t, s.apps[prev], ms, fill)
		return nil
	}
	if s.opts.Behaviour.NoTakeWebhookFromIdle {
		return nil
	}
	for _, id := range p.apps {
		if id != by.id {
			s.handoverToLocked(p, t, s.apps[id], ms, fill)
		}
	}
	return nil
}

// requestLocked: request_thread_control, delivered to the owner, who decides (§4.1).
// Conversation Routing accepts it only in zero-config mode (§4.1, §10.10).
func (s *Simulator) requestLocked(p *page, t *thread, by *app, metadata string) *GraphError {
	if p.hopDisabled {
		return errHOPDisabled()
	}
	if !p.zeroConfig() && !s.opts.Behaviour.RequestWithDefaultApp {
		return errRequestNotAllowed()
	}
	if t.owner == by.id {
		return errAlreadyOwner()
	}
	if gerr := s.mayGainControlLocked(p, t, by); gerr != nil {
		return gerr
	}
	now, ms := s.stampLocked(p)
	if t.owner == "" {
		s.stepLocked(p, t, Step{Actor: by.name, Kind: StepRequest, Text: "request control (thread idle)", Metadata: metadata})
		if s.opts.Behaviour.RequestOnIdleDoesNothing {
			return nil
		}
		s.setOwnerLocked(p, t, by.id, now, "request_thread_control on an idle thread by "+by.name)
		s.stepLocked(p, t, Step{Actor: "platform", Kind: StepPass, Text: "idle thread given to " + by.name})
		s.handoverToLocked(p, t, by, ms, func(ev *event) {
			ev.Pass = &evControl{PreviousOwnerAppID: nil, NewOwnerAppID: s.id(by.id, idPlain), Metadata: metadata}
		})
		return nil
	}
	owner := s.apps[t.owner]
	s.stepLocked(p, t, Step{Actor: by.name, Kind: StepRequest, Text: "request control from " + owner.name, Metadata: metadata})
	s.handoverToLocked(p, t, owner, ms, func(ev *event) {
		ev.Request = &evRequest{RequestedOwnerAppID: s.id(by.id, idRequestApp), Metadata: metadata}
	})
	if owner.honourRequests || (owner.builtin && p.inboxHonours) {
		return s.passLocked(p, t, owner, by.id, "")
	}
	return nil
}

// mayGainControlLocked: take and request on the thread of a person the app cannot reach fail as
// sends do: 200/2018028 for a Standard Access app and a person without a role on it, 551 for a
// person who blocked the Page (§4.3; Behaviour.HandoverIgnoresUnavailable).
func (s *Simulator) mayGainControlLocked(p *page, t *thread, by *app) *GraphError {
	u := p.users[t.psid]
	if !u.reachable(by) {
		return errNotReviewed()
	}
	if u != nil && u.cfg.Unavailable && !s.opts.Behaviour.HandoverIgnoresUnavailable {
		return errUnavailable()
	}
	return nil
}

// releaseLocked: release_thread_control; the thread goes idle, no webhook (§3.5).
func (s *Simulator) releaseLocked(p *page, t *thread, by *app) *GraphError {
	if t.owner != by.id {
		return errNotThreadOwner()
	}
	t.owner = ""
	s.ownerChangedLocked(p, t, by.id, "release_thread_control by "+by.name, s.clock.Now())
	s.stepLocked(p, t, Step{Actor: by.name, Kind: StepRelease, Text: "release control"})
	return nil
}

// extendLocked: extend_thread_control by the owner, up to 7 days.
func (s *Simulator) extendLocked(p *page, t *thread, by *app, seconds int64) *GraphError {
	if p.hopDisabled {
		return errHOPDisabled()
	}
	if seconds <= 0 || time.Duration(seconds)*time.Second > maxExtend {
		return errParam("duration must be between 1 and %d seconds", int64(maxExtend/time.Second))
	}
	if t.owner != by.id {
		return errNotThreadOwner()
	}
	if e := s.clock.Now().Add(time.Duration(seconds) * time.Second); e.After(t.expires) {
		t.expires = e
	}
	s.stepLocked(p, t, Step{Actor: by.name, Kind: StepExtend, Text: fmt.Sprintf("extend control by %s", time.Duration(seconds)*time.Second)})
	return nil
}

// fanOutFromUserLocked delivers an event of the person, the same for every app: fill sets its
// kind.
func (s *Simulator) fanOutFromUserLocked(p *page, t *thread, field string, ms int64, fill func(*event)) {
	s.fanOutLocked(p, t, field, func(*app, bool) *event {
		ev := s.fromUser(p, t.psid, ms)
		fill(ev)
		return ev
	})
}
