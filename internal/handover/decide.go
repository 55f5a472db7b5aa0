package handover

import (
	"time"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// Decide decides what the bot does with one event of one thread.
//
// Who answers. Only a user's message or postback is answered; echoes, reads, deliveries,
// reactions and handover events are not, except Done (control passed to us: the Done message) and
// request_thread_control (answered by onRequest). Our own echoes are ignored; an echo from any
// other app (a person in the inbox, or another app) pauses the bot for that user: AgentActive,
// the owner is that app, and the bot stays silent until Done, a take-back trigger or the idle
// timeout.
//
// Never on another app's thread. A messaging event shows that we may send (we own the thread, or
// the Page is zero-config and nobody owns it), unless our state says another app has it: then
// (zero-config Pages deliver messaging to every app; an expired control is returned without a
// webhook) the decision waits for an ActResolveOwner, whose Action.Deferred holds the event, and
// Outcome decides it again with the owner found. A standby event shows that another app owns the
// thread: the bot says nothing there, except that a take-back trigger takes control and, only once
// the take succeeded (Action.Then), sends the take-back message.
//
// Send before pass. A handoff sends the handoff message first, while the bot still owns the
// thread, and passes in that send's Then; the thread is recorded as passed at once (PassedAt,
// owner the target) and Outcome undoes it when the pass does not happen. When the message fails,
// the webhook drops the Then and Outcome decides: the pass still runs when the failure says
// nothing against it (the user asked for a person: a lost notice must not lose the request), but
// not after FailNotOwner (another app already controls the thread), FailUnreachable or
// FailOutsideWindow (the user cannot be reached) or FailTokenInvalid (the token is broken; the
// pass would fail the same way).
//
// Business hours and trigger precedence, for a user's message or postback while the bot owns
// the thread:
//  1. payload triggers: a quick reply or postback whose payload is a handoff trigger is an
//     explicit request; in business hours it passes, outside them it gets OutsideHours.Action
//     (BotOnly: the out-of-hours message and no pass; PassAnyway: the usual pass; PassTo: the
//     usual pass, to OutsideHours.AppID);
//  2. business hours: outside them with BotOnly, keywords and patterns are not evaluated at
//     all, so typed text that mentions "agent" gets the bot's usual answer (Welcome), not the
//     out-of-hours message; with PassAnyway and PassTo they are evaluated and pass as in 3;
//  3. keywords and patterns on typed text (not on quick-reply titles or postbacks): a match is
//     a handoff, in or outside hours as in 1;
//  4. anything else gets Welcome.
//
// Take-back triggers are read only while the thread is away from the bot (another app owns it,
// or an agent is active); while the bot owns the thread, a tapped "Take From Inbox" is answered
// with Welcome like any other input. Business hours never apply to take-backs.
func Decide(p *Page, ev Event, th Thread, now time.Time) Decision {
	if p == nil || p.Policy == nil {
		return Decision{Thread: th, Ignored: IgnoredNoPolicy}
	}
	if ev.PageID != "" && ev.PageID != p.PageID {
		return Decision{Thread: th, Ignored: IgnoredOtherPage}
	}
	if ev.PSID == "" {
		return Decision{Thread: th, Ignored: IgnoredNoUser}
	}
	if stale(&ev, &th) {
		return Decision{Thread: th, Ignored: IgnoredStale}
	}
	return p.decide(&ev, th, now, false)
}

// stale: ev is stamped before the last handover applied to its thread (Meta may deliver late
// and out of order, reference §2.3): acting on it would undo newer routing.
func stale(ev *Event, th *Thread) bool {
	return !ev.Timestamp.IsZero() && ev.Timestamp.Before(th.HandoverAt)
}

// at is when ev happened: its own timestamp, or now for an event that carries none (the
// callback falls back to the entry's time first).
func at(ev *Event, now time.Time) time.Time {
	if ev.Timestamp.IsZero() {
		return now
	}
	return ev.Timestamp
}

// later is the later of a and b.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// decide: resolved says th.Owner was just read from thread_owner and is to be trusted.
func (p *Page) decide(ev *Event, th Thread, now time.Time, resolved bool) Decision {
	switch ev.Kind {
	case KindMessage, KindPostback:
		th.Unreachable = false // the user wrote: reachable again, and the window is open
		th.LastUserAt = later(th.LastUserAt, at(ev, now))
		if ev.Channel == Standby {
			return p.standbyInput(ev, th, now, resolved)
		}
		return p.messagingInput(ev, th, now, resolved)
	case KindEcho:
		return p.echo(ev, th, now)
	case KindPassThreadControl:
		th.HandoverAt = later(th.HandoverAt, ev.Timestamp)
		return p.passedTo(ev, th, now)
	case KindTakeThreadControl:
		th.HandoverAt = later(th.HandoverAt, ev.Timestamp)
		return p.takenFrom(ev, th, now)
	case KindRequestThreadControl:
		return p.requested(ev, th, now, resolved)
	}
	return Decision{Thread: th, Ignored: IgnoredNotUserInput}
}

// away reports whether our state says the thread is not the bot's: another app owns it, or we
// passed it or an agent spoke and the owner is not known since.
func away(th *Thread) bool {
	return th.Owner == OwnerOther || th.Owner != OwnerUs && (!th.PassedAt.IsZero() || th.AgentActive)
}

// ours is th owned by the bot again: handoff and agent state cleared.
func ours(th Thread) Thread {
	th.Owner, th.OwnerAppID = OwnerUs, ""
	th.PassedAt, th.LastAgentAt, th.AgentActive = time.Time{}, time.Time{}, false
	return th
}

// ownershipExpiry is how long the platform keeps a thread with an app that stays inactive.
const ownershipExpiry = 24 * time.Hour

// agentOnIdleThread: thread_owner says nobody owns the thread, and a person wrote to this user
// without any handover (no pass, no take: on a zero-config Page everyone may write on an idle
// thread) less than a day before the user's message at userAt (both the events' own
// timestamps, never the time of processing). The owner check cannot tell this from an agent's
// Done, which releases the thread without a webhook; only a thread we passed can have been
// released by a Done. When thread_owner says the bot owns the thread, no echo keeps it quiet.
func agentOnIdleThread(th Thread, userAt time.Time) bool {
	return th.Owner == OwnerIdle && th.AgentActive && th.PassedAt.IsZero() && userAt.Sub(th.LastAgentAt) < ownershipExpiry
}

// otherOwner records that another app (appID, "" when not known) owns th.
func otherOwner(th Thread, appID string) Thread {
	if th.Owner != OwnerOther || appID != "" {
		th.OwnerAppID = appID
	}
	th.Owner = OwnerOther
	return th
}

func (p *Page) messagingInput(ev *Event, th Thread, now time.Time, resolved bool) Decision {
	pol := p.Policy
	takeBack := false
	if resolved || away(&th) { // resolved: our state said away, and the owner was checked
		takeBack = pol.takeBackTriggers.tapped(ev)
		if !resolved {
			reason := ReasonOwnerCheck
			if takeBack {
				reason = ReasonTakeBack
			}
			return resolveFor(ev, th, reason)
		}
		if th.Owner != OwnerUs && th.Owner != OwnerIdle {
			// Another app has it although we hear the user on messaging (zero-config).
			if takeBack {
				return p.take(ev.PSID, th, ReasonTakeBack, takeMetadataTrigger, at(ev, now))
			}
			if th.AgentActive {
				return Decision{Thread: th, Ignored: IgnoredAgentActive}
			}
			return Decision{Thread: th, Ignored: IgnoredNotOwner}
		}
		if agentOnIdleThread(th, at(ev, now)) && !takeBack {
			return Decision{Thread: th, Ignored: IgnoredAgentActive}
		}
	}
	th = ours(th)
	if takeBack {
		// The user asked for the bot back and it has the thread already: say so.
		return p.send(ev.PSID, th, pol.takeBack, ReasonTakeBack)
	}
	if d, ok := p.handoff(ev, th, now); ok {
		return d
	}
	return p.send(ev.PSID, th, pol.welcome, ReasonWelcome)
}

// handoff applies the handoff triggers and business hours (see Decide for the precedence).
func (p *Page) handoff(ev *Event, th Thread, now time.Time) (Decision, bool) {
	pol := p.Policy
	tr := &pol.handoffTriggers
	explicit := tr.matchPayload(ev)
	if !explicit && !tr.hasText() {
		return Decision{}, false
	}
	open := pol.hours == nil || pol.hours.isOpen(now)
	if !explicit {
		if !open && pol.hours.action == v1alpha1.OutsideBotOnly {
			return Decision{}, false // outside hours, typed text is not a handoff request
		}
		if !tr.matchText(ev) {
			return Decision{}, false
		}
	}
	if open {
		return p.pass(ev.PSID, th, now, pol.target, ReasonHandoff), true
	}
	switch pol.hours.action {
	case v1alpha1.OutsidePassAnyway:
		return p.pass(ev.PSID, th, now, pol.target, ReasonOutsideHours), true
	case v1alpha1.OutsidePassTo:
		return p.pass(ev.PSID, th, now, pol.hours.appID, ReasonOutsideHours), true
	}
	return p.send(ev.PSID, th, pol.hours.message, ReasonOutsideHours), true
}

func (p *Page) standbyInput(ev *Event, th Thread, now time.Time, resolved bool) Decision {
	pol := p.Policy
	if !pol.takeBackTriggers.tapped(ev) {
		if th.Owner != OwnerOther {
			th = otherOwner(th, "") // standby: another app owns the thread
		}
		return Decision{Thread: th, Ignored: IgnoredStandby}
	}
	if resolved {
		if th.Owner == OwnerUs {
			// The standby event is older than our control of the thread: no take needed.
			return p.send(ev.PSID, ours(th), pol.takeBack, ReasonTakeBack)
		}
	} else if th.Owner == OwnerUs {
		// Our state contradicts the channel: check, as a take by the owner fails.
		return resolveFor(ev, th, ReasonTakeBack)
	}
	if th.Owner != OwnerOther {
		th = otherOwner(th, "")
	}
	return p.take(ev.PSID, th, ReasonTakeBack, takeMetadataTrigger, at(ev, now))
}

// echo: a message the Page sent. Ours is ignored; one without app_id is no person's and no
// app's (Meta sends it when a person taps "Send Message" on a Page post) and changes nothing.
// Any other is a hint that a person (or an automation of the inbox) spoke, at the echo's own
// time: the bot pauses until the next message of the user makes it ask thread_owner, whose
// answer decides (messagingInput); a late echo (older than the last handover) was ignored by
// Decide already.
func (p *Page) echo(ev *Event, th Thread, now time.Time) Decision {
	switch ev.EchoAppID {
	case p.AppID:
		return Decision{Thread: th, Ignored: IgnoredEchoOwn}
	case "":
		return Decision{Thread: th, Ignored: IgnoredEchoNoApp}
	}
	th = otherOwner(th, ev.EchoAppID)
	th.AgentActive, th.LastAgentAt = true, later(th.LastAgentAt, at(ev, now))
	return Decision{Thread: th, Ignored: IgnoredAgentEcho}
}

// passedTo: pass_thread_control. To us, it is Done: the bot has the thread back and says so
// (the Done message, inside the messaging window), unless the thread merely came from idle.
//
// Where it came from: previous_owner_app_id when the event names one: Done. Without it (null
// when the thread was idle; missing in the pre-2021 shape and in some apps' passes) our state
// decides: a thread we passed, or that our state gives to another app (the inbox after an
// agent's echo or a take), was handed back: Done; a thread we own, know idle, or know nothing of
// (a new user, or a restart: the same empty state) came from idle: nothing to say.
func (p *Page) passedTo(ev *Event, th Thread, now time.Time) Decision {
	if ev.NewOwnerAppID != p.AppID {
		return Decision{Thread: otherOwner(th, ev.NewOwnerAppID), Ignored: IgnoredControlPassed}
	}
	wasAway := away(&th) || ev.PreviousOwnerAppID != ""
	th = ours(th)
	switch {
	case !wasAway:
		return Decision{Thread: th, Ignored: IgnoredControlReceived}
	case th.Unreachable:
		return Decision{Thread: th, Ignored: IgnoredUnreachable}
	}
	return p.botSend(ev.PSID, th, p.Policy.done, ReasonDone, at(ev, now))
}

// takenFrom: take_thread_control, control taken from us. The idle timeout counts from the take
// as from a pass (PassedAt), until an agent writes.
func (p *Page) takenFrom(ev *Event, th Thread, now time.Time) Decision {
	if ev.NewOwnerAppID == p.AppID {
		return Decision{Thread: ours(th), Ignored: IgnoredControlTaken}
	}
	th = otherOwner(th, ev.NewOwnerAppID)
	if th.PassedAt.IsZero() {
		th.PassedAt = at(ev, now)
	}
	return Decision{Thread: th, Ignored: IgnoredControlTaken}
}

// requested: request_thread_control. With Pass, the bot passes to the requester when it owns the
// thread (or nobody does); when the owner is in doubt it checks first.
func (p *Page) requested(ev *Event, th Thread, now time.Time, resolved bool) Decision {
	req := ev.RequestedOwnerAppID
	switch {
	case !p.Policy.passRequest:
		return Decision{Thread: th, Ignored: IgnoredRequestIgnored}
	case req == "" || req == p.AppID:
		return Decision{Thread: th, Ignored: IgnoredRequestInvalid}
	}
	switch th.Owner {
	case OwnerUs, OwnerIdle:
	default:
		if !resolved {
			return resolveFor(ev, th, ReasonRequest)
		}
		return Decision{Thread: th, Ignored: IgnoredNotOwner}
	}
	th = passedState(th, now, req)
	return Decision{Thread: th, Actions: []Action{{
		Kind: ActPass, PSID: ev.PSID, TargetAppID: req, Metadata: p.Policy.metadata, Reason: ReasonRequest,
	}}}
}

// send is one message.
func (p *Page) send(psid string, th Thread, m *OutMessage, reason string) Decision {
	return Decision{Thread: th, Actions: []Action{{Kind: ActSend, PSID: psid, Message: m, Reason: reason}}}
}

// messagingWindow is how long after the user's last message a Page may message them without a
// tag (reference §5.2). The bot never uses a tag: HUMAN_AGENT is for people only.
const messagingWindow = v1alpha1.MessagingWindow

// windowClosed: the bot may not message th's user at t any more (as far as we know the user's
// last message; not at all when we do not: the platform then refuses with 2018278).
func windowClosed(th *Thread, t time.Time) bool {
	return !th.LastUserAt.IsZero() && t.Sub(th.LastUserAt) >= messagingWindow
}

// botSend is a message that answers no message of the user (Done, the idle take-back message):
// sent only inside the messaging window, else left out and counted (Suppressed).
func (p *Page) botSend(psid string, th Thread, m *OutMessage, reason string, t time.Time) Decision {
	if windowClosed(&th, t) {
		return Decision{Thread: th, Ignored: IgnoredWindowClosed, Suppressed: SuppressedWindowClosed}
	}
	return p.send(psid, th, m, reason)
}

// pass sends the handoff message, then (its Then) passes to target.
func (p *Page) pass(psid string, th Thread, now time.Time, target, reason string) Decision {
	acts := make([]Action, 2) // one allocation for both
	acts[1] = Action{Kind: ActPass, PSID: psid, TargetAppID: target, Metadata: p.Policy.metadata, Reason: reason}
	acts[0] = Action{Kind: ActSend, PSID: psid, Message: p.Policy.handoff, Reason: reason, Then: acts[1:2:2]}
	return Decision{Thread: passedState(th, now, target), Actions: acts[:1:1]}
}

func passedState(th Thread, now time.Time, target string) Thread {
	th.Owner, th.OwnerAppID = OwnerOther, target
	th.PassedAt, th.LastAgentAt, th.AgentActive = now, time.Time{}, false
	return th
}

// take takes control and, once that succeeded (its Then), sends the take-back message; nothing is
// sent to a user who cannot be reached, nor after the messaging window (at t).
func (p *Page) take(psid string, th Thread, reason, metadata string, t time.Time) Decision {
	acts := make([]Action, 2)
	acts[1] = Action{Kind: ActSend, PSID: psid, Message: p.Policy.takeBack, Reason: reason}
	acts[0] = Action{Kind: ActTake, PSID: psid, Metadata: metadata, Reason: reason, Then: acts[1:2:2]}
	d := Decision{Thread: th, Actions: acts[:1:1]}
	switch {
	case th.Unreachable:
		acts[0].Then = nil
	case windowClosed(&th, t):
		acts[0].Then, d.Suppressed = nil, SuppressedWindowClosed
	}
	return d
}

// resolveFor defers the decision of ev until the webhook knows the owner.
func resolveFor(ev *Event, th Thread, reason string) Decision {
	e := *ev
	return Decision{Thread: th, Actions: []Action{{Kind: ActResolveOwner, PSID: ev.PSID, Deferred: &e, Reason: reason}}}
}
