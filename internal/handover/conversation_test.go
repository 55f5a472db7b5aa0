package handover

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// Random conversations against the platform model: users, agents, Done, takes by the inbox,
// requests, time passing and webhook restarts (state lost). Whatever happens, the engine never
// sends on a thread another app owns, never takes a thread it owns (the model fails the test on
// both), answers every message the user sends it while it owns the thread, and says nothing on
// standby unless the user asks for the bot back.
func TestRandomConversations(t *testing.T) {
	spec := businessSpec(v1alpha1.OutsidePassAnyway)
	spec.AgentIdleTimeout = durationPtr(20 * time.Minute)
	spec.TakeBack.Triggers = v1alpha1.Triggers{QuickReplyPayloads: []string{"take_from_inbox"}, Keywords: []string{"bot please"}}
	p := page(t, spec)

	for _, zeroConfig := range []bool{false, true} {
		for seed := range uint64(200) {
			rng := rand.New(rand.NewPCG(seed, 7))
			pl := newPlatform(t, p)
			if zeroConfig {
				pl.defaultApp = ""
			}
			var trail []string
			for step := 0; step < 60 && !t.Failed(); step++ {
				trail = append(trail, pl.randomStep(rng, zeroConfig))
			}
			if t.Failed() {
				t.Fatalf("zero-config %v, seed %d:\n%s", zeroConfig, seed, strings.Join(trail, "\n"))
			}
		}
	}
}

func (pl *platform) randomStep(rng *rand.Rand, zeroConfig bool) string {
	pl.t.Helper()
	before := pl.owner
	bot := pl.p.AppID
	userEv := func(ev Event, what string) string {
		ch := pl.channelAfterRouting()
		n := len(pl.sends)
		pl.log = nil
		pl.user(ev)
		sent := len(pl.sends) - n
		calls := pl.calls()
		if ch == Messaging && before == bot && sent == 0 {
			pl.t.Errorf("%s on messaging while the bot owns the thread got no answer (calls %q)", what, calls)
		}
		asksForBot := strings.Contains(what, "take") || strings.Contains(what, "bot please")
		if ch == Standby && !asksForBot && calls != "" {
			pl.t.Errorf("%s on standby made calls %q", what, calls)
		}
		return fmt.Sprintf("%s [%s] owner %q->%q: %s", what, channelName(ch), before, pl.owner, calls)
	}
	switch n := rng.IntN(100); {
	case n < 25:
		texts := []string{"hello", "I want an agent", "help me", "prices?", "bot please", "agents"}
		s := texts[rng.IntN(len(texts))]
		return userEv(text(0, s), "text "+s)
	case n < 35:
		return userEv(quick(0, "Pass to Inbox", "pass_to_inbox"), "quick pass")
	case n < 45:
		payload := "take_from_inbox"
		if rng.IntN(2) == 0 && pl.channelAfterRouting() == Standby {
			payload = "" // dropped on standby
		}
		return userEv(quick(0, "Take From Inbox", payload), "quick take")
	case n < 50:
		return userEv(postback(0, "Human", "HUMAN"), "postback")
	case n < 62:
		pl.agentWrites()
		return fmt.Sprintf("agent writes, owner %q->%q: %s", before, pl.owner, pl.calls())
	case n < 70:
		if pl.owner != inbox {
			return "no Done: the inbox does not own the thread"
		}
		pl.agentDone()
		return fmt.Sprintf("agent Done, owner %q: %s", pl.owner, pl.calls())
	case n < 75:
		// The inbox takes control (the conversation moved to the Main folder).
		if pl.owner == inbox {
			return "inbox already owns"
		}
		pl.inboxTakes()
		return fmt.Sprintf("inbox takes from %q: %s", before, pl.calls())
	case n < 80:
		// The inbox asks the owner for control.
		if pl.owner != bot {
			return "no request: the bot does not own the thread"
		}
		pl.deliver(requestEv(inbox))
		return fmt.Sprintf("inbox requests: owner %q: %s", pl.owner, pl.calls())
	case n < 83 && !zeroConfig:
		// The webhook restarts: thread state lost. (Zero-config Pages deliver messaging to every
		// app, so there a restart may cost one refused send, which the model would flag.)
		pl.th = Thread{}
		return "restart"
	}
	d := time.Duration(1+rng.IntN(30)) * time.Minute
	pl.advance(d)
	return fmt.Sprintf("%v pass, owner %q->%q: %s", d, before, pl.owner, pl.calls())
}

// channelAfterRouting is the channel the next user event takes (an idle thread goes to the
// default app first).
func (pl *platform) channelAfterRouting() Channel {
	saved := pl.owner
	if pl.owner == "" && pl.defaultApp != "" {
		pl.owner = pl.defaultApp
	}
	ch := pl.channel()
	pl.owner = saved
	return ch
}

func channelName(c Channel) string {
	if c == Standby {
		return "standby"
	}
	return "messaging"
}
