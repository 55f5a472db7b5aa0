package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

type recipient struct {
	ID string `json:"id"`
}

type sendRequest struct {
	Recipient     recipient `json:"recipient"`
	MessagingType string    `json:"messaging_type"`
	Message       any       `json:"message"`
}

// Send sends a message object (the Send API's "message": text, quick_replies, attachment) to
// psid as a RESPONSE. Its answer (recipient and message ids) is only checked to be JSON: nothing
// uses it.
func (c *Client) Send(ctx context.Context, psid string, message any) error {
	if err := c.needPage(EndpointSend); err != nil {
		return err
	}
	if psid == "" {
		return errors.New("graph messages: empty recipient")
	}
	body, err := json.Marshal(sendRequest{Recipient: recipient{psid}, MessagingType: "RESPONSE", Message: message})
	if err != nil {
		return fmt.Errorf("graph messages: the message cannot be encoded: %w", err)
	}
	if err := c.waitSend(ctx); err != nil {
		return err
	}
	return c.call(ctx, c.postJSON(EndpointSend, c.sendURL, body, func(b []byte) error {
		if !json.Valid(b) {
			return errors.New("not JSON")
		}
		return nil
	}))
}

func (c *Client) waitSend(ctx context.Context) error {
	if c.limiter == nil {
		return nil
	}
	if err := c.limiter.wait(ctx, c.now); err != nil {
		return &transportError{Endpoint: EndpointSend, Err: fmt.Errorf("waiting for the send rate limit: %w", err)}
	}
	return nil
}
