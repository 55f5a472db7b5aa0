package handover

import (
	"time"
)

// Outcome updates the thread after an action ran and returns follow-ups:
//   - send: success clears ErrorSent (unless it was the error message) and Unreachable;
//     FailNotOwner means another app owns the thread (silent, no retry, no pass);
//     FailUnreachable and FailOutsideWindow mark the user Unreachable; after a failed handoff
//     message the pass runs anyway unless one of those (or FailTokenInvalid) says it cannot help
//     (see Decide);
//   - pass: a failure undoes the passed state (owner us), except FailNotOwner (we were not the
//     owner: unknown) and an ambiguous failure (it may have happened: unknown, the idle timer
//     still runs and resolves);
//   - take: success makes the thread ours (the webhook then runs the take-back message); a refusal
//     (TakeRefused) leaves the thread with the other owner and the bot silent; "already the owner"
//     makes it ours and sends the take-back message all the same;
//   - resolve owner: records the owner and resumes the deferred decision (Action.Deferred, or the
//     idle timeout or error message its Reason names); FailNotOwner (the owner is hidden from
//     us) counts as another app.
//
// The error message answers a user's message or postback (welcome, handoff, outside_hours,
// take_back) whose send or pass failed inside the webhook (FailInternal): once (ErrorSent; any
// other successful send clears it), never on a thread another app owns (an unknown owner is
// checked first), never to an Unreachable user, never after a Graph refusal (unreachable user,
// closed window, invalid token).
func Outcome(p *Page, th Thread, r Result, now time.Time) Decision {
	if p == nil || p.Policy == nil {
		return Decision{Thread: th, Ignored: IgnoredNoPolicy}
	}
	switch r.Action.Kind {
	case ActSend:
		return p.sendOutcome(th, &r)
	case ActPass:
		return p.passOutcome(th, &r, now)
	case ActTake:
		return p.takeOutcome(th, &r)
	case ActResolveOwner:
		return p.resolveOutcome(th, &r, now)
	}
	return Decision{Thread: th}
}

// TakeRefused reports whether Conversation Routing refused a take.
func TakeRefused(r Result) bool {
	return r.Action.Kind == ActTake && !r.OK && r.Failure == FailTakeRefused
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

func (p *Page) sendOutcome(th Thread, r *Result) Decision {
	a := &r.Action
	handoff := handoffSend(a)
	switch {
	case r.OK:
		th.ErrorSent = a.Reason == ReasonError
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
	return p.errorReply(th, r)
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
	return p.errorReply(ours(th), r)
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
		return p.idleTakeBack(a.PSID, th)
	case ReasonError:
		if th.Owner == OwnerUs {
			return p.errorMessage(a.PSID, th)
		}
		return Decision{Thread: th, Ignored: IgnoredNotOwner}
	}
	return Decision{Thread: th}
}

// errorReply answers a failed action with the error message when the rules allow (see Outcome).
func (p *Page) errorReply(th Thread, r *Result) Decision {
	a := &r.Action
	switch {
	case !r.failed(FailInternal) || a.Kind != ActSend && a.Kind != ActPass || !userOriginated(a.Reason):
		return Decision{Thread: th} // a Graph refusal (unreachable, window, token) never gets it
	case th.Unreachable:
		return Decision{Thread: th}
	case th.ErrorSent:
		return Decision{Thread: th}
	}
	switch th.Owner {
	case OwnerUs:
		return p.errorMessage(a.PSID, th)
	case OwnerUnknown:
		return Decision{Thread: th, Actions: []Action{{Kind: ActResolveOwner, PSID: a.PSID, Reason: ReasonError}}}
	}
	return Decision{Thread: th, Ignored: IgnoredNotOwner}
}

func (p *Page) errorMessage(psid string, th Thread) Decision {
	if th.ErrorSent || th.Unreachable {
		return Decision{Thread: th}
	}
	th.ErrorSent = true
	return p.send(psid, th, p.Policy.errorMsg, ReasonError)
}
