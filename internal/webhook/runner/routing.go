package runner

import (
	"sync"

	"github.com/messenger-operator/messenger-operator/internal/handover"
)

// standbyThreadsToDecide is how many threads in a row must show that another app gets the
// page's new conversations before the page reports it cannot act: one could be a thread the
// inbox took before this process started.
const standbyThreadsToDecide = 3

// routingWatch infers from traffic whether the app receives the page's new conversations (the
// Graph API does not say which app is the Page's default app): a user's message on messaging
// says yes; users' messages on standby on threads nobody passed away, and sends refused with
// 2018300 on threads the bot believed its own, on standbyThreadsToDecide threads in a row with
// no messaging in between, say no. Each page served has its own: one page's traffic says nothing
// of another's routing.
type routingWatch struct {
	mu   sync.Mutex
	seen map[string]bool // PSIDs of the observations since the last messaging event
}

// freshThread reports whether th is a thread we know nothing about: not passed, not taken, no agent.
func freshThread(th *handover.Thread) bool {
	return th.Owner == handover.OwnerUnknown && th.OwnerAppID == "" && th.PassedAt.IsZero() &&
		th.HandoverAt.IsZero() && !th.AgentActive
}

// noteRouting looks at a user's event of the page and the thread state it found.
func (l *livePage) noteRouting(ev *handover.Event, th *handover.Thread) {
	if l.routing == nil || (ev.Kind != handover.KindMessage && ev.Kind != handover.KindPostback) {
		return
	}
	if ev.Channel == handover.Messaging {
		l.routing.mu.Lock()
		clear(l.routing.seen)
		l.routing.mu.Unlock()
		l.status.act(true, "users' messages reach this app on messaging: it receives the page's conversations")
		return
	}
	if freshThread(th) {
		l.routingAgainst(ev.PSID, "users' messages on threads nobody passed away reach this app only on standby")
	}
}

// routingAgainst records one thread of the page that shows another app gets its new
// conversations.
func (l *livePage) routingAgainst(psid, what string) {
	if l.routing == nil {
		return // a page no longer served
	}
	l.routing.mu.Lock()
	if l.routing.seen == nil {
		l.routing.seen = map[string]bool{}
	}
	l.routing.seen[psid] = true
	n := len(l.routing.seen)
	l.routing.mu.Unlock()
	if n >= standbyThreadsToDecide {
		l.status.act(false, what+": another app is the Page's default app under Conversation Routing, "+
			"so this app cannot answer new conversations (its sends are refused with 2018300); make it the default app "+
			"(Page settings, Advanced Messaging, Conversation Routing)")
	}
}
