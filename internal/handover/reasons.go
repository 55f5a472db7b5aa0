package handover

// Action reasons (Action.Reason), for metrics and logs.
const (
	ReasonWelcome      = "welcome"       // a user's message or postback no trigger claims
	ReasonHandoff      = "handoff"       // a handoff trigger in business hours
	ReasonOutsideHours = "outside_hours" // a handoff trigger outside business hours
	ReasonTakeBack     = "take_back"     // a take-back trigger
	ReasonDone         = "done"          // control passed back to us
	ReasonRequest      = "request"       // another app asked for control
	ReasonIdleTimeout  = "idle_timeout"  // no agent wrote for the policy's idle timeout
	ReasonError        = "error"         // handling a user's message failed
	ReasonOwnerCheck   = "owner_check"   // a user's message on messaging while our state says another app owns the thread
)

// Ignored reasons (Decision.Ignored), for metrics.
const (
	IgnoredNoPolicy        = "no_policy"
	IgnoredOtherPage       = "other_page"
	IgnoredNoUser          = "no_user"          // an event without a PSID
	IgnoredNotUserInput    = "not_user_input"   // reads, deliveries, reactions, edits, ...
	IgnoredEchoOwn         = "echo_own"         // our own message
	IgnoredAgentEcho       = "agent_echo"       // a person or another app wrote: the bot pauses
	IgnoredStandby         = "standby"          // the user talks to another app
	IgnoredAgentActive     = "agent_active"     // an agent talks to the user
	IgnoredNotOwner        = "not_owner"        // another app owns the thread
	IgnoredControlPassed   = "control_passed"   // control went to another app
	IgnoredControlTaken    = "control_taken"    // control was taken from us
	IgnoredControlReceived = "control_received" // control came to us from idle: nothing to say
	IgnoredRequestIgnored  = "request_ignored"  // onRequest: Ignore
	IgnoredRequestInvalid  = "request_invalid"  // a request without a requester, or from us
	IgnoredUnreachable     = "unreachable"      // the user cannot receive messages (unavailable, window closed)
	IgnoredTakeRefused     = "take_refused"     // Conversation Routing refused our take
	IgnoredOwnerUnknown    = "owner_unknown"    // thread_owner failed: the deferred decision is dropped
	IgnoredIdle            = "idle"             // the thread went idle: nothing to take back
	IgnoredNotDue          = "not_due"          // a tick before the idle timeout
	IgnoredStale           = "stale"            // stamped before the last handover applied to the thread
	IgnoredEchoNoApp       = "echo_no_app"      // an echo without app_id: no person or app wrote (a Page post shared)
	IgnoredWindowClosed    = "window_closed"    // the bot's message would be outside the 24 h window
	IgnoredErrorLimited    = "error_limited"    // the error message went out less than a minute ago
)

// IgnoredReasons is every Decision.Ignored value, for metrics that register their children up
// front.
var IgnoredReasons = []string{IgnoredNoPolicy, IgnoredOtherPage, IgnoredNoUser, IgnoredNotUserInput,
	IgnoredEchoOwn, IgnoredAgentEcho, IgnoredStandby, IgnoredAgentActive, IgnoredNotOwner,
	IgnoredControlPassed, IgnoredControlTaken, IgnoredControlReceived, IgnoredRequestIgnored,
	IgnoredRequestInvalid, IgnoredUnreachable, IgnoredTakeRefused, IgnoredOwnerUnknown, IgnoredIdle,
	IgnoredNotDue, IgnoredStale, IgnoredEchoNoApp, IgnoredWindowClosed, IgnoredErrorLimited}

// Suppressed reasons (Decision.Suppressed), for metrics.
const (
	SuppressedWindowClosed = "window_closed" // the 24 h messaging window is over
)

// Metadata of our takes, read by the app that loses control (no personal data).
const (
	takeMetadataTrigger = "take_back"
	takeMetadataIdle    = "idle_timeout"
)

// userOriginated reports whether an action answers a user's message or postback: only those get
// the error message when they fail.
func userOriginated(reason string) bool {
	switch reason {
	case ReasonWelcome, ReasonHandoff, ReasonOutsideHours, ReasonTakeBack:
		return true
	}
	return false
}
