package simulator

import (
	"encoding/json"
	"fmt"
	"time"
)

// deprecatedTagsEnd: CONFIRMED_EVENT_UPDATE, ACCOUNT_UPDATE, POST_PURCHASE_UPDATE fail with code 100
// from this date (reference §4.3, §5.1).
var deprecatedTagsEnd = time.Date(2026, time.April, 27, 0, 0, 0, 0, time.UTC)

type sendResult struct {
	RecipientID string `json:"recipient_id"`
	MessageID   string `json:"message_id,omitempty"`
}

// sendLocked is the Send API: checks (limits, user, exclusive control, window), then the message
// is recorded, echoed to every app, and the inline thread_control applied.
func (s *Simulator) sendLocked(p *page, from *app, req *sendRequest) (*sendResult, *GraphError) {
	var out *outgoing
	if req.message != nil {
		var gerr *GraphError
		if out, gerr = validateMessage(req.message, s.opts.Behaviour); gerr != nil {
			return nil, gerr
		}
	}
	u := p.users[req.recipientID]
	if u == nil {
		return nil, errNoUser()
	}
	t := p.threadLocked(req.recipientID)
	s.expireLocked(p, t)
	if !u.reachable(from) {
		return nil, errNotReviewed()
	}
	if u.cfg.Unavailable {
		return nil, errUnavailable()
	}
	claim, gerr := s.mayTalkLocked(p, t, from)
	if gerr != nil {
		return nil, gerr
	}
	if gerr := s.windowLocked(from, t, req); gerr != nil {
		return nil, gerr
	}
	var passTarget *app
	if tc := req.threadControl; tc != nil && tc.ControlType == "pass" {
		if passTarget, gerr = s.passTargetLocked(p, from, tc.AppID.v); gerr != nil {
			return nil, gerr
		}
	}

	now, ms := s.stampLocked(p)
	if claim {
		s.setOwnerLocked(p, t, from.id, now, "idle thread claimed by "+from.name+" (it sent)")
		s.stepLocked(p, t, Step{Actor: "platform", Kind: StepPass, Text: "idle thread claimed by " + from.name + " (it sent)"})
	}
	s.touchLocked(t, now)
	if req.senderAction != "" {
		s.stepLocked(p, t, Step{Actor: from.name, Kind: StepAction, Text: req.senderAction})
		return &sendResult{RecipientID: t.psid}, nil
	}
	mid := s.newMid()
	s.recordLocked(t, Message{Mid: mid, Page: p.id, PSID: t.psid, From: from.name, AppID: from.id, Kind: out.kind,
		Text: out.text, Metadata: out.metadata, QuickReplies: out.quickReplies, Buttons: out.buttons, Cards: out.cards,
		Tag: req.tag, PersonaID: req.personaID, Time: now})
	text := out.text
	if req.personaID != "" {
		text = fmt.Sprintf("(persona %s) %s", req.personaID, text)
	}
	s.stepLocked(p, t, Step{Actor: from.name, Kind: StepSend, Text: text, Metadata: out.metadata})
	s.fanOutLocked(p, t, fieldEchoes, func(a *app, standby bool) *event {
		ev := s.fromPage(p, t.psid, ms)
		ev.Message = &evMessage{IsEcho: true, AppID: s.idPtr(from.id, idEchoApp), Metadata: out.metadata, Mid: mid, Text: out.echoText}
		if out.attachment != nil {
			ev.Message.Attachments = []json.RawMessage{out.attachment}
		}
		return ev
	})
	if s.opts.DeliveryReceipts {
		s.deliveredLocked(p, t)
	}
	if tc := req.threadControl; tc != nil {
		if tc.ControlType == "pass" {
			_ = s.passLocked(p, t, from, passTarget.id, "") // validated above
		} else if t.owner == from.id {
			_ = s.releaseLocked(p, t, from)
		}
	}
	return &sendResult{RecipientID: t.psid, MessageID: mid}, nil
}

// mayTalkLocked applies exclusive control (§3.4, §4.2): the owner may send; on an idle thread only
// the default app (and then it becomes the owner); in zero-config mode anyone while idle.
func (s *Simulator) mayTalkLocked(p *page, t *thread, from *app) (claim bool, gerr *GraphError) {
	switch {
	case t.owner == from.id:
		return false, nil
	case t.owner != "":
		if p.zeroConfig() && s.opts.Behaviour.ZeroConfigSharedSend {
			return false, nil
		}
		return false, errNotOwnerSend()
	case p.zeroConfig():
		return false, nil
	case from.id == p.defaultApp || s.opts.Behaviour.IdleSendByAnyApp:
		return true, nil
	}
	return false, errNotOwnerSend()
}

// windowLocked applies the messaging window (§5.2): 24 h after the user's last message, 7 days
// with HUMAN_AGENT (apps with the permission), none at all for a user who never wrote.
func (s *Simulator) windowLocked(from *app, t *thread, req *sendRequest) *GraphError {
	now := s.clock.Now()
	within := func(d time.Duration) bool { return !t.lastUser.IsZero() && now.Sub(t.lastUser) <= d }
	switch {
	case req.tag == "HUMAN_AGENT":
		if !from.humanAgent {
			return errHumanAgentPermission()
		}
		if !within(humanAgentWindow) {
			return errOutsideWindow()
		}
	case req.tag == "CUSTOMER_FEEDBACK":
		if !within(humanAgentWindow) {
			return errOutsideWindow()
		}
	case deprecatedTags[req.tag]:
		if !now.Before(deprecatedTagsEnd) {
			return errParam("The message tag %s is no longer supported", req.tag)
		}
	default:
		if !within(messagingWindow) {
			return errOutsideWindow()
		}
	}
	return nil
}
