package simulator

import (
	"fmt"
	"time"
)

// Control API actions of the people on the platform: the customer, the inbox agent and other
// apps. Each answers once the webhooks it caused were delivered, with the thread's owner.

func (s *Simulator) controlCustomer(action string, req controlRequest) (any, error) {
	if req.PSID == "" {
		return nil, fmt.Errorf("psid is required")
	}
	c := s.Customer(req.Page, req.PSID)
	var err error
	switch action {
	case "say":
		err = c.Say(req.Text)
	case "tap":
		if req.Payload != "" {
			err = c.TapPayload(req.Title, req.Payload)
		} else {
			err = c.Tap(req.Title)
		}
	case "press":
		err = c.PressCard(req.Card, req.Title)
	case "postback":
		err = c.Postback(req.Title, req.Payload)
	case "get_started":
		err = c.GetStarted()
	case "menu":
		err = c.TapMenu(req.Title)
	case "ice_breaker":
		err = c.TapIceBreaker(req.Title)
	case "read":
		err = c.Read()
	case "delivered":
		err = c.Delivered()
	case "attachment":
		err = c.SendAttachment(req.Kind, req.URL)
	case "sticker":
		err = c.SendSticker(req.Sticker)
	case "react":
		err = c.React(req.Mid, req.Emoji)
	case "edit":
		err = c.Edit(req.Mid, req.Text)
	case "referral":
		err = c.Referral(req.Ref, req.Source)
	case "optin":
		err = c.OptIn(req.Ref)
	case "post":
		err = c.StartFromPost(req.Text)
	case "unavailable":
		err = c.SetUnavailable(req.Away == nil || *req.Away)
	default:
		return nil, notFound{path: "customer/" + action}
	}
	if err != nil {
		return nil, err
	}
	return map[string]any{"ok": true, "owner": s.Owner(req.Page, req.PSID)}, nil
}

func (s *Simulator) controlInbox(action string, req controlRequest) (any, error) {
	in := s.Inbox(req.Page)
	var err error
	switch action {
	case "away":
		return ok(), in.SetAway(req.Away != nil && *req.Away)
	case "instant_reply":
		return ok(), in.SetInstantReply(req.Text)
	case "away_message":
		return ok(), in.SetAwayMessage(req.Text)
	}
	if req.PSID == "" {
		return nil, fmt.Errorf("psid is required")
	}
	switch action {
	case "reply":
		err = in.Reply(req.PSID, req.Text)
	case "done":
		err = in.Done(req.PSID)
	case "take":
		err = in.Take(req.PSID)
	case "pass":
		err = in.Pass(req.PSID, req.Target, req.Metadata)
	case "auto_reply":
		err = in.AutoReply(req.PSID, req.Text)
	default:
		return nil, notFound{path: "inbox/" + action}
	}
	if err != nil {
		return nil, err
	}
	return map[string]any{"ok": true, "owner": s.Owner(req.Page, req.PSID)}, nil
}

func (s *Simulator) controlApp(ref, action string, req controlRequest) (any, error) {
	if req.PSID == "" {
		return nil, fmt.Errorf("psid is required")
	}
	a := s.App(ref)
	var err error
	switch action {
	case "send":
		err = a.Send(req.Page, req.PSID, req.Text, req.Metadata)
	case "request":
		err = a.RequestControl(req.Page, req.PSID, req.Metadata)
	case "take":
		err = a.TakeControl(req.Page, req.PSID, req.Metadata)
	case "pass":
		err = a.PassControl(req.Page, req.PSID, req.Target, req.Metadata)
	case "release":
		err = a.ReleaseControl(req.Page, req.PSID)
	case "extend":
		d, perr := time.ParseDuration(req.Duration)
		if perr != nil {
			return nil, fmt.Errorf("duration must be a Go duration such as 48h")
		}
		err = a.ExtendControl(req.Page, req.PSID, d)
	default:
		return nil, notFound{path: "app/" + ref + "/" + action}
	}
	if err != nil {
		return nil, err
	}
	return map[string]any{"ok": true, "owner": s.Owner(req.Page, req.PSID)}, nil
}
