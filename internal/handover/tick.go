package handover

import "time"

// NextTick says when Tick is due for th: the policy's agent idle timeout after the last agent
// message, or after the pass (or the take by another app) when no agent has written. Zero when
// there is no timer: the timeout is off, or the bot owns the thread, or nobody does.
func NextTick(p *Page, th Thread) time.Time {
	if p == nil || p.Policy == nil || p.Policy.idleTimeout <= 0 {
		return time.Time{}
	}
	if th.Owner == OwnerUs || th.Owner == OwnerIdle {
		return time.Time{}
	}
	base := th.PassedAt
	if th.LastAgentAt.After(base) {
		base = th.LastAgentAt
	}
	if base.IsZero() {
		return time.Time{}
	}
	return base.Add(p.Policy.idleTimeout)
}

// Tick runs the idle timeout: when it is due, the bot takes the thread back and, once the take
// succeeded (Then), sends the take-back message if the messaging window is still open (else it
// is left out and counted: Decision.Suppressed). The timer state (PassedAt, LastAgentAt,
// AgentActive) is cleared at once so that a refused or failed take does not fire again and again;
// the thread then stays with its owner until Done or a take-back trigger. With an unknown owner
// the webhook checks it first (ActResolveOwner, Reason idle_timeout). The actions carry no PSID:
// the webhook addresses them to the thread's user.
func Tick(p *Page, th Thread, now time.Time) Decision {
	due := NextTick(p, th)
	if due.IsZero() || now.Before(due) {
		return Decision{Thread: th, Ignored: IgnoredNotDue}
	}
	th.PassedAt, th.LastAgentAt, th.AgentActive = time.Time{}, time.Time{}, false
	if th.Owner == OwnerUnknown {
		return Decision{Thread: th, Actions: []Action{{Kind: ActResolveOwner, Reason: ReasonIdleTimeout}}}
	}
	return p.take("", th, ReasonIdleTimeout, takeMetadataIdle, now)
}

// idleTakeBack resumes a due idle timeout once the owner is known.
func (p *Page) idleTakeBack(psid string, th Thread, now time.Time) Decision {
	th.PassedAt, th.LastAgentAt, th.AgentActive = time.Time{}, time.Time{}, false
	switch th.Owner {
	case OwnerUs:
		if th.Unreachable {
			return Decision{Thread: th, Ignored: IgnoredUnreachable}
		}
		return p.botSend(psid, th, p.Policy.takeBack, ReasonIdleTimeout, now)
	case OwnerIdle:
		return Decision{Thread: th, Ignored: IgnoredIdle}
	}
	return p.take(psid, th, ReasonIdleTimeout, takeMetadataIdle, now)
}
