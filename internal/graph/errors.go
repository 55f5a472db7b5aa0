package graph

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// apiError is the Graph API's answer to a failed call: `{"error":{"message","type","code",
// "error_subcode"}}` with its HTTP status. Unexported: callers see its text and, through
// MeaningOf, what it means, never its codes. Its text never holds a secret of the client.
type apiError struct {
	Endpoint  Endpoint
	Status    int // HTTP status
	Code      int
	Subcode   int
	Type      string // e.g. OAuthException
	Message   string
	Transient bool // is_transient
	TraceID   string
}

func (e *apiError) Error() string {
	s := fmt.Sprintf("graph %s: HTTP %d", e.Endpoint, e.Status)
	if e.Code != 0 {
		s += fmt.Sprintf(", code %d", e.Code)
	}
	if e.Subcode != 0 {
		s += fmt.Sprintf("/%d", e.Subcode)
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// transportError is a call that got no HTTP answer.
type transportError struct {
	Endpoint Endpoint
	// Sent is true when the whole request was written before the failure: the server may have
	// acted on it.
	Sent bool
	// Idempotent calls (GETs) may be repeated even when Sent.
	Idempotent bool
	Timeout    bool
	Err        error // already scrubbed of the URL and secrets
}

func (e *transportError) Error() string {
	state := "not sent"
	if e.Sent {
		state = "sent, no answer"
	}
	return fmt.Sprintf("graph %s: %s: %v", e.Endpoint, state, e.Err)
}

func (e *transportError) Unwrap() error { return e.Err }

// errorBody is Meta's error envelope; codes may come as numbers or strings.
type errorBody struct {
	Error *struct {
		Message   string   `json:"message"`
		Type      string   `json:"type"`
		Code      flexInt  `json:"code"`
		Subcode   flexInt  `json:"error_subcode"`
		Transient flexBool `json:"is_transient"`
		TraceID   string   `json:"fbtrace_id"`
	} `json:"error"`
}

// maxMessage bounds the part of Meta's message an error keeps.
const maxMessage = 300

func (c *Client) parseError(r *request, status int, body []byte) error {
	e := &apiError{Endpoint: r.ep, Status: status}
	var eb errorBody
	if json.Unmarshal(body, &eb) == nil && eb.Error != nil {
		e.Code, e.Subcode = int(eb.Error.Code), int(eb.Error.Subcode)
		e.Type, e.TraceID = c.scrub(eb.Error.Type, r.secrets), c.scrub(eb.Error.TraceID, r.secrets)
		e.Transient = bool(eb.Error.Transient)
		// Scrubbed whole, then cut: cut first, a secret straddling the cut would survive in part.
		e.Message = truncate(c.scrub(eb.Error.Message, r.secrets), maxMessage)
	}
	return e
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 { // do not cut a UTF-8 sequence
		n--
	}
	return s[:n] + "..."
}

// scrub replaces every copy of the client's secrets, and of extra, in s.
func (c *Client) scrub(s string, extra []string) string {
	for _, list := range [][]string{c.secrets, extra} {
		for _, secret := range list {
			if strings.Contains(s, secret) {
				s = strings.ReplaceAll(s, secret, "[redacted]")
			}
		}
	}
	return s
}

// flexInt takes a JSON number or a string of digits; anything else is 0.
type flexInt int

func (f *flexInt) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if json.Unmarshal(b, &s) != nil {
			return nil
		}
		b = []byte(s)
	}
	if n, err := strconv.Atoi(string(b)); err == nil {
		*f = flexInt(n)
	}
	return nil
}

// flexBool takes true/false or "true"/"false".
type flexBool bool

func (f *flexBool) UnmarshalJSON(b []byte) error {
	s := string(b)
	*f = flexBool(s == "true" || s == `"true"`)
	return nil
}
