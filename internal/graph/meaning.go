package graph

import (
	"errors"
	"strings"
)

// Meaning is what the outcome of a call means for the caller. This file is the one place that
// reads Meta's error codes (reference §4.3, §6, §7); callers see meanings only. The values are
// also the result label of the calls metric.
type Meaning string

const (
	OK Meaning = "ok"
	// NotSent: the call certainly had no effect (it never reached Graph, or it was a GET that got
	// no answer): safe to repeat.
	NotSent Meaning = "not_sent"
	// Ambiguous: a call with an effect was sent and got no answer; it may have taken effect and
	// is never repeated.
	Ambiguous Meaning = "ambiguous"
	// Transient: HTTP 5xx, codes 1 and 2, is_transient, 2018321 (an automated flow holds the
	// thread): repeat later.
	Transient Meaning = "transient"
	// Throttled: a rate limit (4, 17, 32, 341, 613, 80001-80099): repeat after a backoff.
	Throttled Meaning = "throttled"
	// TokenInvalid: the access token is invalid, expired or revoked (190, 102).
	TokenInvalid Meaning = "token_invalid"
	// NotAuthorized: the app may not make the call: a missing or wrong appsecret_proof (100 with
	// that message), a missing permission (200-299; 10 on the subscription and messenger_profile endpoints).
	NotAuthorized Meaning = "not_authorized"
	// NotOwner: another app controls the thread (10/2018300 on a send), the app is not the
	// thread's owner (100/2534037), or the owner is hidden from it (100/2018234).
	NotOwner Meaning = "not_owner"
	// TakeRefused: Conversation Routing refuses take_thread_control: a permission error (10) or
	// not-owner answer (100/2534037) to a take, or "Handover Protocol APIs disabled" on any
	// handover call.
	TakeRefused Meaning = "take_refused"
	// AlreadyOwner: a take or request by the app that owns the thread already.
	AlreadyOwner Meaning = "already_owner"
	// Unreachable: the person is not available (551): blocked the Page, or deactivated.
	Unreachable Meaning = "unreachable"
	// OutsideWindow: sent outside the messaging window (10/2018278, 10/2534022).
	OutsideWindow Meaning = "outside_window"
	// BadRequest: the request's content was refused (100 invalid parameter, e.g. a template the
	// Send API does not take), not the user (100/2018001 is Refused) nor the app.
	BadRequest Meaning = "bad_request"
	// CallbackUnverified: Meta could not verify the callback URL of an app subscription (2200).
	CallbackUnverified Meaning = "callback_unverified"
	// Refused: any other error answer; repeating it changes nothing.
	Refused Meaning = "refused"
)

// Retry reports whether a call with this outcome had no effect and is worth repeating.
func (m Meaning) Retry() bool { return m == NotSent || m == Transient || m == Throttled }

// MeaningOf says what err, returned by this package (nil included), means.
func MeaningOf(err error) Meaning {
	if err == nil {
		return OK
	}
	var te *transportError
	if errors.As(err, &te) {
		if te.Sent && !te.Idempotent {
			return Ambiguous
		}
		return NotSent
	}
	var ge *apiError
	if !errors.As(err, &ge) {
		// Not an answer (bad input refused before the call, a cancelled context): nothing was sent.
		return NotSent
	}
	return ge.meaning()
}

// Meta's codes and subcodes that change what an answer means.
const (
	codeUnknown       = 1
	codeService       = 2
	codeAppLimit      = 4
	codePermission    = 10
	codeUserLimit     = 17
	codePageLimit     = 32
	codeParam         = 100
	codeSession       = 102
	codeToken         = 190
	codeAppCallLimit  = 341
	codeUnavailable   = 551
	codeCallsExceeded = 613
	codeCallback      = 2200

	subNotOwnerSend   = 2018300 // 10: another app controls the thread
	subOutsideWindow  = 2018278 // 10: outside the messaging window
	subOutsideWindow2 = 2534022 // 10: outside the messaging window (newer subcode)
	subCannotReceive  = 2018108 // 10: the user cannot receive messages now
	subNotThreadOwner = 2534037 // 100: not the thread owner
	subDenyVisibility = 2018234 // 100: thread_owner hidden: another app owns it
	subAutomatedFlow  = 2018321 // Messenger runs an automated flow on the thread: later

	msgProof       = "appsecret_proof"
	msgHOPDisabled = "handover protocol apis disabled"
)

func (e *apiError) meaning() Meaning {
	msg := strings.ToLower(e.Message)
	take := e.Endpoint == EndpointTake
	switch {
	case e.Code == codeToken || e.Code == codeSession:
		return TokenInvalid
	case e.Code == codeParam && strings.Contains(msg, msgProof):
		return NotAuthorized
	case e.Code >= 200 && e.Code <= 299:
		return NotAuthorized
	case e.Code == codePermission && (e.Endpoint == EndpointSubscribedApps || e.Endpoint == EndpointSubscriptions || e.Endpoint == EndpointMessengerProfile):
		return NotAuthorized
	case throttle(e.Code):
		return Throttled
	case e.Code == codeUnknown || e.Code == codeService || e.Subcode == subAutomatedFlow:
		return Transient
	case strings.Contains(msg, msgHOPDisabled):
		return TakeRefused
	case take && e.Code == codeParam && e.Subcode == subNotThreadOwner:
		return TakeRefused
	case e.Code == codePermission && e.Subcode == subNotOwnerSend,
		e.Code == codeParam && (e.Subcode == subNotThreadOwner || e.Subcode == subDenyVisibility):
		return NotOwner
	case e.Code == codePermission && (e.Subcode == subOutsideWindow || e.Subcode == subOutsideWindow2):
		return OutsideWindow
	case take && e.Code == codePermission && e.Subcode != subCannotReceive:
		return TakeRefused
	case e.Code == codeUnavailable:
		return Unreachable
	case e.Code == codeParam && strings.Contains(msg, "already") && strings.Contains(msg, "owner"):
		return AlreadyOwner
	case e.Code == codeParam && e.Subcode != 2018001: // 2018001: no matching user
		return BadRequest
	case e.Code == codeCallback:
		return CallbackUnverified
	case e.Code == codePermission || e.Code == codeParam:
		return Refused // whatever the HTTP status
	case e.Status >= 500 || e.Transient:
		return Transient
	}
	return Refused
}

// throttle: app (4), user (17), page (32), application request limit (341), calls exceeded
// (613) and Business-Use-Case throttles (80001-80099).
func throttle(code int) bool {
	switch code {
	case codeAppLimit, codeUserLimit, codePageLimit, codeAppCallLimit, codeCallsExceeded:
		return true
	}
	return code >= 80001 && code <= 80099
}
