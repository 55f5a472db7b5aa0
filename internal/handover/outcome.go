package handover

import (
	"time"
)

// Outcome updates the thread after an action ran and returns follow-ups:
//   - send: success clears Unreachable; FailNotOwner means another app owns the thread (silent,
//     no retry, no pass); FailUnreachable and FailOutsideWindow mark the user Unreachable; after
//     a failed handoff message the pass runs anyway unless one of those (or FailTokenInvalid)
//     says it cannot help (see Decide);
//   - pass: a failure undoes the passed state (owner us), except FailNotOwner (we were not the
//     owner: unknown) and an ambiguous failure (it may have happened: unknown, the idle timer
//     still runs and resolves);
//   - take: success makes the thread ours (the webhook then runs the take-back message); a
//     refusal (TakeRefused: Conversation Routing, or a missing permission) leaves the thread with
//     the other owner and the bot silent; FailUnreachable marks the user Unreachable; "already
//     the owner" makes it ours and sends the take-back message all the same;
//   - resolve owner: records the owner and resumes the deferred decision (Action.Deferred, or the
//     idle timeout or error message its Reason names); FailNotOwner (the owner is hidden from
//     us) counts as another app.
//
// The error message (the policy's errorMessage) answers a user's message or postback (welcome,
// handoff, outside_hours, take_back) whose reply failed after a transient error or a 5xx that
// retries did not overcome (FailInternal), or whose template the Send API rejected
// (FailRejected); only while the bot owns the thread (an unknown owner is checked first), inside
// the messaging window, at most once per thread per minute; never after 551 (FailUnreachable),
// 2018278 (FailOutsideWindow), 2018300 (FailNotOwner) or 190 (FailTokenInvalid), nor after any
// other refusal.
func Outcome(p *Page, th Thread, r Result, now time.Time) Decision {
	if p == nil || p.Policy == nil {
		return Decision{Thread: th, Ignored: IgnoredNoPolicy}
	}
	switch r.Action.Kind {
	case ActSend:
		return p.sendOutcome(th, &r, now)
	case ActPass:
		return p.passOutcome(th, &r, now)
	case ActTake:
		return p.takeOutcome(th, &r)
	case ActResolveOwner:
		return p.resolveOutcome(th, &r, now)
	}
	return Decision{Thread: th}
}

// TakeRefused reports whether a take was refused for the Page's set-up: Conversation Routing
// refuses it (FailTakeRefused) or the app lacks a permission (FailNotAuthorized: code 200).
func TakeRefused(r Result) bool {
	return r.Action.Kind == ActTake && !r.OK && (r.Failure == FailTakeRefused || r.Failure == FailNotAuthorized)
}

// failed reports whether r failed with f.
func (r *Result) failed(f Failure) bool { return !r.OK && r.Failure == f }

// unreachable: the user cannot get our messages (unavailable, or outside the window).
func unreachable(r *Result) bool {
	return r.failed(FailUnreachable) || r.failed(FailOutsideWindow)
}

func handoffSend(a *Action) bool {
	return a.Kind == ActSend && len(a.Then) > 0 && a.Then[0].Kind == ActPass
}

func (p *Page) sendOutcome(th Thread, r *Result, now time.Time) Decision {
	a := &r.Action
	handoff := handoffSend(a)
	switch {
	case r.OK:
		th.Unreachable = false
		return Decision{Thread: th}
	case r.failed(FailNotOwner):
		th = otherOwner(th, "")
		if handoff {
			th.PassedAt = time.Time{} // we did not pass: another app had the thread already
		}
		return Decision{Thread: th, Ignored: IgnoredNotOwner}
	case unreachable(r):
		if handoff {
			th = ours(th)
		}
		th.Unreachable = true
		return Decision{Thread: th, Ignored: IgnoredUnreachable}
	case r.failed(FailTokenInvalid):
		if handoff {
			th = ours(th)
		}
		return Decision{Thread: th}
	case handoff:
		// The user asked for a person: pass although the notice did not go out.
		return Decision{Thread: th, Actions: a.Then}
	}
	return p.errorReply(th, r, now)
}

func (p *Page) passOutcome(th Thread, r *Result, now time.Time) Decision {
	a := &r.Action
	switch {
	case r.OK:
		th = otherOwner(th, a.TargetAppID)
		if th.PassedAt.IsZero() {
			th.PassedAt = now
		}
		return Decision{Thread: th}
	case r.failed(FailNotOwner):
		th.Owner, th.OwnerAppID, th.PassedAt = OwnerUnknown, "", time.Time{}
		return Decision{Thread: th, Ignored: IgnoredNotOwner}
	case r.failed(FailAmbiguous):
		th.Owner, th.OwnerAppID = OwnerUnknown, ""
		return Decision{Thread: th}
	}
	return p.errorReply(ours(th), r, now)
}

func (p *Page) takeOutcome(th Thread, r *Result) Decision {
	switch {
	case r.OK:
		return Decision{Thread: ours(th)}
	case TakeRefused(*r):
		if th.Owner != OwnerOther {
			th = otherOwner(th, "")
		}
		return Decision{Thread: th, Ignored: IgnoredTakeRefused}
	case r.failed(FailUnreachable):
		th.Unreachable = true
		return Decision{Thread: th, Ignored: IgnoredUnreachable}
	case r.failed(FailAlreadyOwner):
		return Decision{Thread: ours(th), Actions: r.Action.Then}
	case r.failed(FailAmbiguous):
		th.Owner, th.OwnerAppID = OwnerUnknown, ""
	}
	return Decision{Thread: th}
}

func (p *Page) resolveOutcome(th Thread, r *Result, now time.Time) Decision {
	a := &r.Action
	owner, appID := r.Owner, r.OwnerAppID
	switch {
	case r.OK:
	case r.failed(FailNotOwner):
		owner, appID = OwnerOther, ""
	default:
		return Decision{Thread: th, Ignored: IgnoredOwnerUnknown}
	}
	if owner == OwnerOther {
		th = otherOwner(th, appID)
	} else {
		th.Owner, th.OwnerAppID = owner, ""
	}
	if a.Deferred != nil {
		ev := *a.Deferred
		if ev.PSID == "" {
			ev.PSID = a.PSID
		}
		return p.decide(&ev, th, now, true)
	}
	switch a.Reason {
	case ReasonIdleTimeout:
		return p.idleTakeBack(a.PSID, th, now)
	case ReasonError:
		if th.Owner == OwnerUs {
			return p.errorMessage(a.PSID, th, now)
		}
		return Decision{Thread: th, Ignored: IgnoredNotOwner}
	}
	return Decision{Thread: th}
}

// errorReply answers a failed action with the error message when the rules allow (see Outcome).
func (p *Page) errorReply(th Thread, r *Result, now time.Time) Decision {
	a := &r.Action
	switch {
	case r.OK || r.Failure != FailInternal && r.Failure != FailRejected:
		return Decision{Thread: th} // a refusal (unreachable, window, not owner, token) never gets it
	case a.Kind != ActSend && a.Kind != ActPass || !userOriginated(a.Reason) || th.Unreachable:
		return Decision{Thread: th}
	}
	switch th.Owner {
	case OwnerUs:
		return p.errorMessage(a.PSID, th, now)
	case OwnerUnknown:
		return Decision{Thread: th, Actions: []Action{{Kind: ActResolveOwner, PSID: a.PSID, Reason: ReasonError}}}
	}
	return Decision{Thread: th, Ignored: IgnoredNotOwner}
}

// errorInterval is the least time between two error messages on one thread.
const errorInterval = time.Minute

func (p *Page) errorMessage(psid string, th Thread, now time.Time) Decision {
	switch {
	case th.Unreachable:
		return Decision{Thread: th, Ignored: IgnoredUnreachable}
	case !th.ErrorAt.IsZero() && now.Sub(th.ErrorAt) < errorInterval:
		return Decision{Thread: th, Ignored: IgnoredErrorLimited}
	case windowClosed(&th, now):
		return Decision{Thread: th, Ignored: IgnoredWindowClosed, Suppressed: SuppressedWindowClosed}
	}
	th.ErrorAt = now
	return p.send(psid, th, p.Policy.errorMsg, ReasonError)
}
