// Package handover decides what the bot does with a Messenger event: answer, pass the thread to
// people, take it back, or stay silent. It is a pure function of (event, policy, thread state,
// now): it never calls out (no HTTP, no Graph API, no clock of its own). The webhook turns
// requests into Events, runs the Actions it returns against the Graph API, and feeds the
// outcomes back through Outcome.
//
// This file is the contract between the engine and the webhook; the rest of the package
// implements it.
package handover

import (
	"time"
)

// Channel is the webhook array an event came in: messaging (we own the thread, or the Page has no
// default app) or standby (another app owns it).
type Channel int

const (
	Messaging Channel = iota
	Standby
)

// EventKind is what an event is.
type EventKind int

const (
	KindOther                EventKind = iota // reads, deliveries, reactions, edits, referrals, unknown kinds
	KindMessage                               // a user's message (text, quick-reply tap, attachment)
	KindEcho                                  // message_echoes: something the Page sent, from any app or a person
	KindPostback                              // a postback button, Get Started, persistent menu
	KindPassThreadControl                     // messaging_handovers: control passed to an app
	KindTakeThreadControl                     // messaging_handovers: control taken from us
	KindRequestThreadControl                  // messaging_handovers: another app asks us for control
)

// Event is one parsed webhook event, with every id normalised to a string.
type Event struct {
	Kind      EventKind
	Channel   Channel
	PageID    string // entry.id
	PSID      string // the user: sender.id, or recipient.id on echoes
	Timestamp time.Time

	MID               string // message or postback mid; empty for handover events
	Text              string // message text; the button title on a quick-reply tap
	HasQuickReply     bool
	QuickReplyPayload string // may be empty on standby (unverified platform behaviour)
	HasAttachments    bool

	PostbackTitle   string
	PostbackPayload string // never present on standby

	EchoAppID string // the app that sent an echo
	Metadata  string // echo metadata, or handover metadata

	NewOwnerAppID       string // pass/take: who owns the thread now
	PreviousOwnerAppID  string // pass/take: who owned it (empty when idle)
	RequestedOwnerAppID string // request: who asks
}

// Owner is who owns a thread as far as the webhook knows.
type Owner int

const (
	OwnerUnknown Owner = iota // after a restart, or after a not-owner answer: ask thread_owner
	OwnerUs
	OwnerOther // OwnerAppID says which app
	OwnerIdle  // nobody: released, or expired
)

// Thread is what the webhook remembers of one conversation (page, PSID). The engine returns the
// new state with every decision; the store keeps it.
type Thread struct {
	Owner      Owner
	OwnerAppID string

	// PassedAt is when we passed the thread to people; zero when we own it. A take of the thread
	// by another app sets it too: the idle timeout counts from it until an agent writes.
	PassedAt time.Time
	// AgentActive is set when an echo from another app shows a person replying; the bot then stays
	// silent for this user until Done, a take-back trigger or the idle timeout.
	AgentActive bool
	// LastAgentAt is the time of the last agent echo.
	LastAgentAt time.Time
	// Unreachable is set after FailUnreachable or FailOutsideWindow: no error message, no retries.
	Unreachable bool
	// HandoverAt is the platform's timestamp of the last pass_thread_control or
	// take_thread_control applied to the thread: an event stamped before it is older than the
	// thread's current routing and is not acted on (it never re-runs a handover, and a late echo
	// never pauses the bot).
	HandoverAt time.Time
	// LastUserAt is the timestamp of the user's last message or postback: the bot's own messages
	// (Done, the idle take-back message, the error message) go out only within the messaging
	// window after it. Zero when not known (the platform then decides).
	LastUserAt time.Time
	// ErrorAt is when the error message was last sent: at most one a minute per thread.
	ErrorAt time.Time
}

// Page is the compiled configuration of one page: what the engine needs of the MessengerPage and
// its HandoverPolicy. Build it with Compile; swap it atomically on every change.
type Page struct {
	PageID       string
	AppID        string
	BusinessName string
	Policy       *Policy
}

// ActionKind is what the webhook must do.
type ActionKind int

const (
	ActSend         ActionKind = iota // Send API call with Message
	ActPass                           // pass_thread_control to TargetAppID with Metadata
	ActTake                           // take_thread_control with Metadata
	ActResolveOwner                   // GET thread_owner, then call Outcome with the result
)

// Action is one Graph call to make for a thread. Then runs only after this action succeeded
// (take, then send), in order; a failed action drops its Then.
type Action struct {
	Kind ActionKind
	PSID string

	Message *OutMessage // ActSend

	TargetAppID string // ActPass
	Metadata    string // ActPass, ActTake

	Then []Action

	// Deferred is the event whose decision waits for an ActResolveOwner: Outcome decides it again
	// with the owner the webhook found. Nil on other actions (an ActResolveOwner without it resumes
	// the decision its Reason names: "idle_timeout" or "error").
	Deferred *Event

	// Reason names why the engine chose this (for metrics and logs): "welcome", "handoff",
	// "take_back", "done", "request", "idle_timeout", "outside_hours", "error"; and
	// "owner_check" on an ActResolveOwner for a user's message (the Reason* constants).
	Reason string
}

// OutMessage is a policy message to send, before its placeholders are filled. Render turns it into
// the Send API's message object.
type OutMessage struct {
	Text         string // may hold {{first_name}} and {{business_name}}
	QuickReplies []QuickReply
	Buttons      *ButtonTemplate
	Cards        []Card
	// NeedsFirstName is true when Text uses {{first_name}}: the webhook looks the profile up
	// (cached per PSID) and falls back to FirstNameFallback.
	NeedsFirstName    bool
	FirstNameFallback string
}

// QuickReply, ButtonTemplate, Button and Card mirror the API types in a form free of Kubernetes.
type QuickReply struct{ Title, Payload string }
type ButtonTemplate struct {
	Text    string
	Buttons []Button
}
type Button struct{ Type, Title, Payload, URL string }
type Card struct {
	Title, Subtitle, ImageURL string
	Buttons                   []Button
}

// Decision is the engine's answer: the thread's new state and what to do. No actions means stay
// silent.
type Decision struct {
	Thread  Thread
	Actions []Action
	// Ignored says why nothing was done, for metrics: "echo_own", "agent_active", "standby",
	// "not_user_input", "other_page", ...
	Ignored string
	// Suppressed names a message of the bot the decision left out although the rules called for
	// it ("window_closed": the 24 h messaging window is over), for metrics; the rest of the
	// decision (a take, say) still runs.
	Suppressed string
}

// Result is the outcome of one action as the webhook saw it.
type Result struct {
	Action Action
	OK     bool
	// Failure says what went wrong when !OK.
	Failure Failure
	// Owner and OwnerAppID answer ActResolveOwner.
	Owner      Owner
	OwnerAppID string
}

// Failure is what a failed action means to the engine. The webhook derives it from the Graph
// API's answer; the engine never sees Meta's codes.
type Failure int

const (
	// FailRefused: refused for a reason no other Failure names (also the zero value).
	FailRefused Failure = iota
	// FailInternal: handling failed inside the webhook (retries exhausted, a bug); the engine
	// may answer with the error message.
	FailInternal
	// FailAmbiguous: sent, no answer: the call may have taken effect.
	FailAmbiguous
	// FailNotOwner: another app controls the thread, or this app is not its owner.
	FailNotOwner
	// FailTakeRefused: Conversation Routing refuses take_thread_control.
	FailTakeRefused
	// FailAlreadyOwner: a take by the app that owns the thread already.
	FailAlreadyOwner
	// FailUnreachable: the user cannot get the Page's messages (blocked, unavailable).
	FailUnreachable
	// FailOutsideWindow: the messaging window is closed.
	FailOutsideWindow
	// FailTokenInvalid: the page access token is invalid, expired or revoked.
	FailTokenInvalid
	// FailNotAuthorized: the app may not make the call (appsecret_proof, permissions).
	FailNotAuthorized
	// FailRejected: the Send API refused the message's content (a template it does not take,
	// and its text fallback too).
	FailRejected
)

// The functions of the contract, implemented in this package:
//
//	Compile(page, appID, businessName string, spec *v1alpha1.HandoverPolicySpec) (*Policy, error)
//	    validates what the schema cannot (patterns, time zone) and precompiles triggers.
//	Decide(p *Page, ev Event, th Thread, now time.Time) Decision
//	    for one event of one thread.
//	Outcome(p *Page, th Thread, r Result, now time.Time) Decision
//	    after an action ran: updates the thread (not owner => owner other/unknown, take refused =>
//	    silent and TakeRefused, unreachable or outside the window => unreachable) and may return follow-up actions
//	    (after ActResolveOwner, the decision deferred on it; after a failure, the error message).
//	Tick(p *Page, th Thread, now time.Time) Decision
//	    for timers: the idle timeout taking the thread back. NextTick(p, th) says when to call it.
//	Render(m *OutMessage, firstName, businessName string) map[string]any
//	    the Send API "message" object, placeholders filled, text cut safely to the limits.
//	TakeRefused(r Result) bool
//	    Conversation Routing refused a take (FailTakeRefused) - the page gets a
//	    HandoverPermitted=False warning.
