package runner

import (
	"time"

	"github.com/messenger-operator/messenger-operator/internal/handover"
)

// Engine is the decision side of the contract in internal/handover/contract.go. The runner
// calls it for one thread at a time; it never calls out.
type Engine interface {
	Decide(p *handover.Page, ev handover.Event, th handover.Thread, now time.Time) handover.Decision
	Outcome(p *handover.Page, th handover.Thread, r handover.Result, now time.Time) handover.Decision
	Tick(p *handover.Page, th handover.Thread, now time.Time) handover.Decision
	// NextTick says when Tick is due for th; the zero time means never.
	NextTick(p *handover.Page, th handover.Thread) time.Time
	Render(m *handover.OutMessage, firstName, businessName string) map[string]any
	// RenderFallback is the plain-text form of a template message, sent when the Send API
	// rejects the template.
	RenderFallback(m *handover.OutMessage, firstName, businessName string) map[string]any
	TakeRefused(r handover.Result) bool
}

// HandoverEngine is the Engine of the handover package, the default.
type HandoverEngine struct{}

func (HandoverEngine) Decide(p *handover.Page, ev handover.Event, th handover.Thread, now time.Time) handover.Decision {
	return handover.Decide(p, ev, th, now)
}

func (HandoverEngine) Outcome(p *handover.Page, th handover.Thread, r handover.Result, now time.Time) handover.Decision {
	return handover.Outcome(p, th, r, now)
}

func (HandoverEngine) Tick(p *handover.Page, th handover.Thread, now time.Time) handover.Decision {
	return handover.Tick(p, th, now)
}

func (HandoverEngine) NextTick(p *handover.Page, th handover.Thread) time.Time {
	return handover.NextTick(p, th)
}

func (HandoverEngine) Render(m *handover.OutMessage, firstName, businessName string) map[string]any {
	return handover.Render(m, firstName, businessName)
}

func (HandoverEngine) RenderFallback(m *handover.OutMessage, firstName, businessName string) map[string]any {
	return handover.RenderFallback(m, firstName, businessName)
}

func (HandoverEngine) TakeRefused(r handover.Result) bool { return handover.TakeRefused(r) }
