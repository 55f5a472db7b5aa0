package webhooktest

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/messenger-operator/messenger-operator/internal/handover"
)

// Engine is a tiny runner.Engine, independent of the real one's texts: it answers every user
// message or postback with one text send. The On* functions, when set before the first event,
// replace its decisions; it records what it was given.
type Engine struct {
	OnDecide   func(ev handover.Event, th handover.Thread) handover.Decision
	OnOutcome  func(th handover.Thread, r handover.Result) handover.Decision
	OnTick     func(th handover.Thread, now time.Time) handover.Decision
	OnNextTick func(th handover.Thread) time.Time
	OnRefused  func(r handover.Result) bool

	mu      sync.Mutex
	decided []handover.Event
	results []handover.Result
}

func (e *Engine) Decide(p *handover.Page, ev handover.Event, th handover.Thread, now time.Time) handover.Decision {
	e.mu.Lock()
	e.decided = append(e.decided, ev)
	f := e.OnDecide
	e.mu.Unlock()
	if f != nil {
		return f(ev, th)
	}
	if ev.Kind == handover.KindMessage || ev.Kind == handover.KindPostback {
		return handover.Decision{Thread: th, Actions: []handover.Action{{
			Kind: handover.ActSend, PSID: ev.PSID, Reason: "welcome",
			Message: &handover.OutMessage{Text: "reply to " + ev.MID},
		}}}
	}
	return handover.Decision{Thread: th, Ignored: "not_user_input"}
}

func (e *Engine) Outcome(p *handover.Page, th handover.Thread, r handover.Result, now time.Time) handover.Decision {
	e.mu.Lock()
	e.results = append(e.results, r)
	f := e.OnOutcome
	e.mu.Unlock()
	if f != nil {
		return f(th, r)
	}
	return handover.Decision{Thread: th}
}

func (e *Engine) Tick(p *handover.Page, th handover.Thread, now time.Time) handover.Decision {
	if f := e.OnTick; f != nil {
		return f(th, now)
	}
	return handover.Decision{Thread: th}
}

func (e *Engine) NextTick(p *handover.Page, th handover.Thread) time.Time {
	if e.OnNextTick != nil {
		return e.OnNextTick(th)
	}
	return time.Time{}
}

func (e *Engine) Render(m *handover.OutMessage, firstName, businessName string) map[string]any {
	if m.Buttons != nil {
		return map[string]any{"attachment": map[string]any{"type": "template", "payload": map[string]any{"template_type": "button", "text": m.Buttons.Text}}}
	}
	return map[string]any{"text": strings.ReplaceAll(m.Text, "{{first_name}}", firstName)}
}

func (e *Engine) RenderFallback(m *handover.OutMessage, firstName, businessName string) map[string]any {
	return map[string]any{"text": "fallback: " + m.Text}
}

func (e *Engine) TakeRefused(r handover.Result) bool {
	if e.OnRefused != nil {
		return e.OnRefused(r)
	}
	return r.Action.Kind == handover.ActTake && !r.OK && r.Failure == handover.FailTakeRefused
}

// Events returns the events Decide was given.
func (e *Engine) Events() []handover.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]handover.Event(nil), e.decided...)
}

// Outcomes returns the results Outcome was given.
func (e *Engine) Outcomes() []handover.Result {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]handover.Result(nil), e.results...)
}

// Reporter records the condition changes it is given.
type Reporter struct {
	mu      sync.Mutex
	auth    []string
	permits []string
	acts    []string
}

func (r *Reporter) GraphAuthorized(ok bool, msg string) {
	r.mu.Lock()
	r.auth = append(r.auth, fmt.Sprintf("%v: %s", ok, msg))
	r.mu.Unlock()
}

func (r *Reporter) HandoverPermitted(ok bool, msg string) {
	r.mu.Lock()
	r.permits = append(r.permits, fmt.Sprintf("%v: %s", ok, msg))
	r.mu.Unlock()
}

// CanAct records the report.
func (r *Reporter) CanAct(ok bool, msg string) {
	r.mu.Lock()
	r.acts = append(r.acts, fmt.Sprintf("%v: %s", ok, msg))
	r.mu.Unlock()
}

// Acts returns the CanAct reports so far, as "ok: message".
func (r *Reporter) Acts() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.acts...)
}

// Get returns the GraphAuthorized and HandoverPermitted reports so far, as "ok: message".
func (r *Reporter) Get() (auth, permits []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.auth...), append([]string(nil), r.permits...)
}
