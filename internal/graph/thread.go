package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
)

type controlRequest struct {
	Recipient   recipient `json:"recipient"`
	TargetAppID string    `json:"target_app_id,omitempty"`
	Metadata    string    `json:"metadata,omitempty"`
}

type successAnswer struct {
	Success flexBool `json:"success"`
}

// decodeSuccess checks Graph's {"success":true}.
func decodeSuccess(b []byte) error {
	var a successAnswer
	if err := json.Unmarshal(b, &a); err != nil {
		return err
	}
	if !a.Success {
		return errors.New(`no "success":true`)
	}
	return nil
}

func (c *Client) control(ctx context.Context, ep Endpoint, u *url.URL, psid, target, metadata string) error {
	if err := c.needPage(ep); err != nil {
		return err
	}
	if psid == "" {
		return errors.New("graph " + string(ep) + ": empty recipient")
	}
	body, _ := json.Marshal(controlRequest{Recipient: recipient{psid}, TargetAppID: target, Metadata: metadata})
	return c.call(ctx, c.postJSON(ep, u, body, decodeSuccess))
}

// PassThreadControl passes the thread of psid to targetAppID (the Page Inbox is
// 263902037430900); the target gets a pass_thread_control webhook.
func (c *Client) PassThreadControl(ctx context.Context, psid, targetAppID, metadata string) error {
	if targetAppID == "" {
		return errors.New("graph pass_thread_control: empty target app id")
	}
	return c.control(ctx, EndpointPass, c.passURL, psid, targetAppID, metadata)
}

// TakeThreadControl takes the thread of psid for this app.
func (c *Client) TakeThreadControl(ctx context.Context, psid, metadata string) error {
	return c.control(ctx, EndpointTake, c.takeURL, psid, "", metadata)
}

// ThreadOwner is the answer of thread_owner.
type ThreadOwner struct {
	// Idle: nobody owns the thread (empty data).
	Idle bool
	// AppID of the owner; empty when Graph hides it (Conversation Routing shows it only to the
	// owner and the default app).
	AppID string
}

// ThreadOwner asks who owns psid's thread.
func (c *Client) ThreadOwner(ctx context.Context, psid string) (ThreadOwner, error) {
	var res ThreadOwner
	if err := c.needPage(EndpointThreadOwner); err != nil {
		return res, err
	}
	if psid == "" {
		return res, errors.New("graph thread_owner: empty recipient")
	}
	u, err := c.url(c.pageID+"/thread_owner", "recipient="+url.QueryEscape(psid))
	if err != nil {
		return res, err
	}
	err = c.call(ctx, c.get(EndpointThreadOwner, u, func(b []byte) error {
		var a struct {
			Data []struct {
				ThreadOwner *struct {
					AppID idString `json:"app_id"`
				} `json:"thread_owner"`
			} `json:"data"`
		}
		if err := json.Unmarshal(b, &a); err != nil {
			return err
		}
		res = ThreadOwner{Idle: true}
		for _, d := range a.Data {
			if d.ThreadOwner != nil {
				res = ThreadOwner{AppID: string(d.ThreadOwner.AppID)}
				break
			}
		}
		return nil
	}))
	return res, err
}

// idString takes an id as a JSON string or number, keeping a number's digits as they are
// (ids may exceed 2^53, which a float would round).
type idString string

func (s *idString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) > 0 && b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = idString(v)
	case string(b) == "null":
		*s = ""
	default:
		if _, err := strconv.ParseUint(string(b), 10, 64); err != nil && !isID(string(b)) {
			return errors.New("id is neither a string nor an integer")
		}
		*s = idString(b)
	}
	return nil
}
