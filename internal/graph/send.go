package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// SendResult is the Send API's answer.
type SendResult struct {
	RecipientID string `json:"recipient_id"`
	MessageID   string `json:"message_id"`
}

// Sender actions.
const (
	TypingOn  = "typing_on"
	TypingOff = "typing_off"
	MarkSeen  = "mark_seen"
)

type recipient struct {
	ID string `json:"id"`
}

type sendRequest struct {
	Recipient     recipient       `json:"recipient"`
	MessagingType string          `json:"messaging_type,omitempty"`
	Message       json.RawMessage `json:"message,omitempty"`
	SenderAction  string          `json:"sender_action,omitempty"`
}

// Send sends a message object (the Send API's "message": text, quick_replies, attachment) to
// psid as a RESPONSE. metadata, when set, is added to the message and comes back on its echo.
func (c *Client) Send(ctx context.Context, psid string, message any, metadata string) (SendResult, error) {
	var res SendResult
	if psid == "" {
		return res, errors.New("graph messages: empty recipient")
	}
	msg, err := appendJSON(make([]byte, 0, 256), message)
	if err != nil || len(msg) < 2 || msg[0] != '{' {
		return res, fmt.Errorf("graph messages: message is not a JSON object")
	}
	if metadata != "" {
		msg = withMetadata(msg, metadata)
	}
	body := appendSendBody(make([]byte, 0, len(msg)+len(psid)+64), psid, msg)
	if err := c.waitSend(ctx); err != nil {
		return res, err
	}
	err = c.call(ctx, EndpointSend, "POST", c.sendURL, body, false, func(b []byte) error {
		if flatString(b, `"message_id":"`, &res.MessageID) && flatString(b, `"recipient_id":"`, &res.RecipientID) {
			return nil
		}
		return json.Unmarshal(b, &res)
	})
	return res, err
}

// SendAction sends a sender action (typing_on, typing_off, mark_seen) alone, as the API wants.
func (c *Client) SendAction(ctx context.Context, psid, action string) error {
	if psid == "" || action == "" {
		return errors.New("graph messages: empty recipient or action")
	}
	body, _ := json.Marshal(sendRequest{Recipient: recipient{psid}, SenderAction: action})
	if err := c.waitSend(ctx); err != nil {
		return err
	}
	return c.call(ctx, EndpointSend, "POST", c.sendURL, body, false, nil)
}

// appendSendBody writes {"recipient":{"id":psid},"messaging_type":"RESPONSE","message":msg}
// without a second pass of the encoder over msg, which json.Marshal already produced.
func appendSendBody(b []byte, psid string, msg []byte) []byte {
	b = append(b, `{"recipient":{"id":`...)
	b = appendJSONString(b, psid)
	b = append(b, `},"messaging_type":"RESPONSE","message":`...)
	b = append(b, msg...)
	return append(b, '}')
}

// appendJSONString quotes s; ids are plain digits, anything else goes through the encoder.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x7f || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// flatString reads the string after key in a small flat answer when it holds no escapes, to
// spare the decoder on every send; false sends the caller to the decoder.
func flatString(b []byte, key string, out *string) bool {
	i := bytes.Index(b, []byte(key))
	if i < 0 || bytes.Count(b, []byte(key)) != 1 {
		return false
	}
	rest := b[i+len(key):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 || bytes.IndexByte(rest[:j], '\\') >= 0 {
		return false
	}
	*out = string(rest[:j])
	return true
}

// withMetadata adds "metadata" to a JSON object, replacing none of its keys' values but a
// previous metadata (JSON keeps the last duplicate).
func withMetadata(obj []byte, metadata string) []byte {
	m, _ := json.Marshal(metadata)
	obj = bytes.TrimSpace(obj)
	out := make([]byte, 0, len(obj)+len(m)+13)
	out = append(out, obj[:len(obj)-1]...)
	if len(bytes.TrimSpace(obj[1:len(obj)-1])) > 0 {
		out = append(out, ',')
	}
	out = append(out, `"metadata":`...)
	out = append(out, m...)
	return append(out, '}')
}

func (c *Client) waitSend(ctx context.Context) error {
	if c.limiter == nil {
		return nil
	}
	if err := c.limiter.wait(ctx, c.now); err != nil {
		return &TransportError{Endpoint: EndpointSend, Err: fmt.Errorf("waiting for the send rate limit: %w", err)}
	}
	return nil
}
