package simulator

import (
	"fmt"
	"strings"
	"time"
)

// StepKind classifies a transcript step.
type StepKind string

// Transcript step kinds.
const (
	StepSay        StepKind = "say"         // customer typed text
	StepTap        StepKind = "tap"         // customer tapped a quick reply
	StepPostback   StepKind = "postback"    // customer pressed a postback button
	StepGetStarted StepKind = "get_started" // customer pressed Get Started
	StepRead       StepKind = "read"        // customer read the thread
	StepSend       StepKind = "send"        // an app (or the inbox agent) sent a message
	StepAction     StepKind = "sender_action"
	StepPass       StepKind = "pass"
	StepTake       StepKind = "take"
	StepRequest    StepKind = "request"
	StepRelease    StepKind = "release"
	StepExtend     StepKind = "extend"
	StepExpire     StepKind = "expire" // ownership expired after 24 h of inactivity (no webhook)
	StepDone       StepKind = "done"   // the inbox agent marked the conversation done
	StepRefused    StepKind = "refused"
	StepDisabled   StepKind = "webhooks_disabled"
	// StepDeliveryAlert: deliveries to an app failed for 15 minutes; Meta alerts the developer.
	StepDeliveryAlert StepKind = "delivery_alert"
	StepAttachment    StepKind = "attachment" // customer shared a file or a sticker
	StepDelivered     StepKind = "delivered"  // the customer's device received the Page's messages
	StepReact         StepKind = "react"
	StepEdit          StepKind = "edit"
	StepReferral      StepKind = "referral"
	StepOptin         StepKind = "optin"
	StepPostShare     StepKind = "post" // "Send Message" on a Page post: the post as a Page message
	StepAutomation    StepKind = "automation"
	StepAppRoles      StepKind = "app_roles"
	StepProfile       StepKind = "profile" // a messenger_profile write
	StepMenu          StepKind = "menu"    // customer tapped a persistent menu item
	StepIceBreaker    StepKind = "ice_breaker"
)

// Step is one line of the transcript: who did what on which thread, and who owned the thread
// afterwards.
type Step struct {
	Seq      int
	Time     time.Time
	Page     string
	PSID     string
	Actor    string // "customer", "platform", or an app's readable name ("bot", "inbox", ...)
	Kind     StepKind
	Text     string // message text, button title, or a description of the platform event
	Payload  string // quick-reply / postback payload
	Metadata string // message or handover metadata
	Code     int    // Graph error code of a refused call
	Subcode  int
	Owner    string // owner after the step: app name or "none"
}

// Transcript is the ordered list of steps.
type Transcript []Step

// Line renders the step, e.g. `customer  > hi                     [owner: bot]`.
func (st Step) Line() string {
	text := oneLine(st.Text)
	var body string
	switch st.Kind {
	case StepSay:
		body = "> " + text
	case StepTap:
		body = fmt.Sprintf("> [quick reply] %s (%s)", text, st.Payload)
	case StepPostback, StepGetStarted, StepMenu, StepIceBreaker:
		if st.Payload != "" {
			body = fmt.Sprintf("> [postback] %s (%s)", text, st.Payload)
		} else {
			body = "> [postback] " + text
		}
	case StepRead:
		body = "> [read]"
	case StepAttachment, StepReact, StepEdit, StepReferral, StepOptin, StepDelivered:
		body = "> [" + string(st.Kind) + "] " + text
	case StepPostShare, StepAutomation:
		body = "< [" + string(st.Kind) + "] " + text
	case StepSend:
		body = "< " + text
	case StepAction:
		body = "< [" + text + "]"
	case StepRefused:
		body = "! " + text
	default:
		body = "~ " + text
	}
	return strings.TrimRight(fmt.Sprintf("%-9s %-48s [owner: %s]", st.Actor, body, st.Owner), " ")
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if r := []rune(s); len(r) > 60 {
		s = string(r[:59]) + "…"
	}
	return s
}

// For keeps the steps of one thread.
func (t Transcript) For(pageID, psid string) Transcript {
	var out Transcript
	for _, st := range t {
		if st.Page == pageID && st.PSID == psid {
			out = append(out, st)
		}
	}
	return out
}

// Kinds keeps the steps of the given kinds.
func (t Transcript) Kinds(kinds ...StepKind) Transcript {
	var out Transcript
	for _, st := range t {
		for _, k := range kinds {
			if st.Kind == k {
				out = append(out, st)
				break
			}
		}
	}
	return out
}

// String renders one line per step; lines carry "page/psid" when several threads are present.
func (t Transcript) String() string {
	threads := map[string]bool{}
	for _, st := range t {
		threads[st.Page+"/"+st.PSID] = true
	}
	var b strings.Builder
	for _, st := range t {
		if len(threads) > 1 {
			fmt.Fprintf(&b, "%s/%s  ", st.Page, st.PSID)
		}
		b.WriteString(st.Line())
		b.WriteByte('\n')
	}
	return b.String()
}

// Transcript returns a copy of every step so far.
func (s *Simulator) Transcript() Transcript {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked()
	return append(Transcript(nil), s.steps...)
}

// stepLocked appends a step; Owner is filled from the thread unless set.
func (s *Simulator) stepLocked(p *page, t *thread, st Step) {
	st.Seq = len(s.steps) + 1
	if st.Time.IsZero() {
		st.Time = s.clock.Now()
	}
	st.Page = p.id
	if t != nil {
		st.PSID = t.psid
		if st.Owner == "" {
			st.Owner = s.appName(t.owner)
		}
	}
	if st.Owner == "" {
		st.Owner = "none"
	}
	s.steps = append(s.steps, st)
	stc := st
	s.timelineLocked(TimelineEvent{Kind: TimelineStep, Time: st.Time, Page: st.Page, PSID: st.PSID, Step: &stc})
	s.logf("%s/%s %s", p.id, st.PSID, st.Line())
	s.changes.notify()
}

// refusedLocked records a refused call (so the transcript shows e.g. a 2018300).
func (s *Simulator) refusedLocked(p *page, t *thread, a *app, what string, e *GraphError) {
	s.stepLocked(p, t, Step{Actor: a.name, Kind: StepRefused, Code: e.Code, Subcode: e.Subcode,
		Text: fmt.Sprintf("%s refused (#%d%s)", what, e.Code, subcodeSuffix(e.Subcode))})
}

func subcodeSuffix(sub int) string {
	if sub == 0 {
		return ""
	}
	return fmt.Sprintf("/%d", sub)
}
