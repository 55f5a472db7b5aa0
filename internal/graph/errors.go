package graph

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Error is the Graph API's answer to a failed call: `{"error":{"message","type","code",
// "error_subcode"}}` with its HTTP status. Its text never holds the token.
type Error struct {
	Endpoint  Endpoint
	Status    int // HTTP status
	Code      int
	Subcode   int
	Type      string // e.g. OAuthException
	Message   string
	Transient bool // is_transient
	TraceID   string
}

func (e *Error) Error() string {
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

// TransportError is a call that got no HTTP answer.
type TransportError struct {
	Endpoint Endpoint
	// Sent is true when the whole request was written before the failure: the server may have
	// acted on it.
	Sent bool
	// Idempotent calls (GETs) may be repeated even when Sent.
	Idempotent bool
	Timeout    bool
	Err        error // already scrubbed of the URL and token
}

func (e *TransportError) Error() string {
	state := "not sent"
	if e.Sent {
		state = "sent, no answer"
	}
	return fmt.Sprintf("graph %s: %s: %v", e.Endpoint, state, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

// Class is what a call's outcome means for the caller (and the label of the calls metric).
type Class string

const (
	ClassOK Class = "ok"
	// ClassNotSent: the request certainly did not reach Graph (dial error, connection refused);
	// safe to retry.
	ClassNotSent Class = "not_sent"
	// ClassAmbiguous: sent, then timed out or was reset; it may have taken effect. Never retried.
	ClassAmbiguous Class = "ambiguous"
	// ClassServerError: HTTP 5xx or a transient error code (1, 2, is_transient); retried.
	ClassServerError Class = "server_error"
	// ClassThrottled: a rate limit (4, 17, 32, 341, 613, 80001-style); retried after backoff.
	ClassThrottled Class = "throttled"
	// ClassTokenInvalid: 190, the page token is invalid or expired; never retried.
	ClassTokenInvalid Class = "token_invalid"
	// ClassRefused: any other error answer (551, 10/2018278, 10/2018300, 100/...); never retried.
	ClassRefused Class = "refused"
)

// Classify sorts an error of this package into a Class (ClassOK for nil).
func Classify(err error) Class {
	if err == nil {
		return ClassOK
	}
	var te *TransportError
	if errors.As(err, &te) {
		if te.Sent && !te.Idempotent {
			return ClassAmbiguous
		}
		return ClassNotSent
	}
	var ge *Error
	if !errors.As(err, &ge) {
		// Not ours (e.g. a cancelled context before the call): nothing was sent.
		return ClassNotSent
	}
	switch {
	case ge.Code == 190:
		return ClassTokenInvalid
	case isThrottle(ge.Code, ge.Subcode):
		return ClassThrottled
	case ge.Code == 1 || ge.Code == 2 || ge.Subcode == 2018321:
		return ClassServerError
	case isPermanentCode(ge.Code):
		return ClassRefused
	case ge.Status >= 500 || ge.Transient:
		return ClassServerError
	}
	return ClassRefused
}

// isThrottle: app (4), user (17), page (32), application request limit (341), calls exceeded
// (613) and Business-Use-Case throttles (80001-80099).
func isThrottle(code, _ int) bool {
	switch code {
	case 4, 17, 32, 341, 613:
		return true
	}
	return code >= 80001 && code <= 80099
}

// isPermanentCode lists codes that stay refused whatever the HTTP status: token (190), user
// unavailable (551), permission/window (10), bad parameter (100), permission (200).
func isPermanentCode(code int) bool {
	switch code {
	case 190, 551, 10, 100, 200:
		return true
	}
	return false
}

// Retryable reports whether err certainly had no effect and is worth repeating: not sent, HTTP
// 5xx, transient codes 1 and 2, rate limits.
func Retryable(err error) bool {
	switch Classify(err) {
	case ClassNotSent, ClassServerError, ClassThrottled:
		return true
	}
	return false
}

// Permanent reports whether Graph refused the call for a reason a retry does not change: 190,
// 551, 10/2018278, 10/2534022, 10/2018300, 100/..., and other non-transient error answers.
func Permanent(err error) bool {
	switch Classify(err) {
	case ClassTokenInvalid, ClassRefused:
		return true
	}
	return false
}

// Ambiguous reports whether a non-idempotent call was sent but not answered: it may have taken
// effect, so it must not be repeated (at most once).
func Ambiguous(err error) bool { return Classify(err) == ClassAmbiguous }

// TokenInvalid reports a 190 answer.
func TokenInvalid(err error) bool { return Classify(err) == ClassTokenInvalid }

// AsError returns the Graph error answer in err, if any.
func AsError(err error) (*Error, bool) {
	var ge *Error
	ok := errors.As(err, &ge)
	return ge, ok
}

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

func (c *Client) parseError(ep Endpoint, status int, body []byte) error {
	e := &Error{Endpoint: ep, Status: status}
	var eb errorBody
	if json.Unmarshal(body, &eb) == nil && eb.Error != nil {
		e.Code, e.Subcode = int(eb.Error.Code), int(eb.Error.Subcode)
		e.Type, e.TraceID = eb.Error.Type, eb.Error.TraceID
		e.Transient = bool(eb.Error.Transient)
		// Scrubbed whole, then cut: cut first, a token straddling the cut would survive in part.
		e.Message = truncate(c.scrubString(eb.Error.Message), 300)
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
