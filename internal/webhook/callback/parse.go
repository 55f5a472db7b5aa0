package callback

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"time"

	"github.com/messenger-operator/messenger-operator/internal/handover"
)

// The webhook payload, decoded into small structs: only what the engine needs, ids kept as the
// digits they were sent as, unknown keys skipped.
type envelope struct {
	Object string  `json:"object"`
	Entry  []entry `json:"entry"`
}

type entry struct {
	ID        jsonID     `json:"id"`
	Time      jsonMillis `json:"time"`
	Messaging []rawEvent `json:"messaging"`
	Standby   []rawEvent `json:"standby"`
	Changes   present    `json:"changes"`
}

type party struct {
	ID jsonID `json:"id"`
}

type rawEvent struct {
	Sender    *party       `json:"sender"`
	Recipient *party       `json:"recipient"`
	Timestamp jsonMillis   `json:"timestamp"`
	Message   *rawMessage  `json:"message"`
	Postback  *rawPostback `json:"postback"`
	Pass      *rawControl  `json:"pass_thread_control"`
	Take      *rawControl  `json:"take_thread_control"`
	Request   *rawControl  `json:"request_thread_control"`

	// Kinds the engine sees as KindOther; anything else is an unknown kind.
	Read              present `json:"read"`
	Delivery          present `json:"delivery"`
	Reaction          present `json:"reaction"`
	MessageEdit       present `json:"message_edit"`
	Referral          present `json:"referral"`
	Optin             present `json:"optin"`
	AccountLinking    present `json:"account_linking"`
	PolicyEnforcement present `json:"policy_enforcement"`
}

type rawMessage struct {
	MID        string   `json:"mid"`
	Text       string   `json:"text"`
	IsEcho     jsonBool `json:"is_echo"`
	AppID      jsonID   `json:"app_id"`
	Metadata   string   `json:"metadata"`
	QuickReply *struct {
		Payload string `json:"payload"`
	} `json:"quick_reply"`
	Attachments present `json:"attachments"`
}

type rawPostback struct {
	MID     string `json:"mid"`
	Title   string `json:"title"`
	Payload string `json:"payload"`
}

type rawControl struct {
	PreviousOwner  jsonID `json:"previous_owner_app_id"`
	NewOwner       jsonID `json:"new_owner_app_id"`
	RequestedOwner jsonID `json:"requested_owner_app_id"`
	Metadata       string `json:"metadata"`
}

// jsonID is an id sent as a string or a number; a number keeps its digits (PSIDs exceed 2^53,
// which a float64 would round). Anything else is empty, numbers that are not plain digits (1.5,
// -1, 1e15) included: a weird id must not fail the batch, nor become a Graph recipient.
type jsonID string

func (id *jsonID) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) == 0 || string(b) == "null":
		*id = ""
	case b[0] == '"':
		if s, ok := plainString(b); ok {
			*id = jsonID(s)
			return nil
		}
		var s string
		if json.Unmarshal(b, &s) == nil {
			*id = jsonID(s)
		}
	case allDigits(b):
		*id = jsonID(b)
	default:
		*id = ""
	}
	return nil
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

// plainString unquotes a JSON string without escapes, the common case, without a decoder.
func plainString(b []byte) (string, bool) {
	if len(b) < 2 || b[len(b)-1] != '"' {
		return "", false
	}
	for _, c := range b[1 : len(b)-1] {
		if c == '\\' || c < 0x20 {
			return "", false
		}
	}
	return string(b[1 : len(b)-1]), true
}

// jsonMillis is a Unix time in milliseconds, sent as a number or a string. Values below 1e11 are
// taken as seconds (the newer postback shape sends a seconds string).
type jsonMillis int64

func (t *jsonMillis) UnmarshalJSON(b []byte) error {
	if len(b) > 1 && b[0] == '"' {
		b = b[1 : len(b)-1]
	}
	s := string(b)
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e15 {
			*t = 0
			return nil
		}
		v = int64(f)
	}
	if v > 0 && v < 1e11 {
		v *= 1000
	}
	*t = jsonMillis(v)
	return nil
}

func (t jsonMillis) time() time.Time {
	if t <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(int64(t))
}

// jsonBool takes true or "true".
type jsonBool bool

func (v *jsonBool) UnmarshalJSON(b []byte) error {
	*v = jsonBool(string(b) == "true" || string(b) == `"true"`)
	return nil
}

// present records that a key was there (and not null) without keeping its value.
type present bool

func (p *present) UnmarshalJSON(b []byte) error {
	*p = present(string(b) != "null")
	return nil
}

var errNotObject = errors.New("body is not a JSON object")

// Reasons an event is not handed to the queue (the ignored-events metric).
const (
	ignoreObject      = "object_not_page"
	ignoreOtherPage   = "other_page"
	ignoreChanges     = "changes"
	ignoreNoSender    = "no_sender"
	ignoreUnknownKind = "unknown_kind"
)

// toEvent turns one raw event into an engine Event. It returns an ignore reason instead when the
// event cannot be handled: no sender (app_roles), no PSID, or a kind nobody knows.
func toEvent(pageID string, ch handover.Channel, entryTime jsonMillis, r *rawEvent) (handover.Event, string) {
	ev := handover.Event{Channel: ch, PageID: pageID}
	ts := r.Timestamp
	if ts <= 0 {
		ts = entryTime
	}
	ev.Timestamp = ts.time()
	if r.Sender == nil || r.Sender.ID == "" {
		return ev, ignoreNoSender // app_roles, user_ref-only senders (Chat Plugin)
	}
	ev.PSID = string(r.Sender.ID)
	switch {
	case r.Message != nil && bool(r.Message.IsEcho):
		// Echoes are what the Page sent: the user is the recipient.
		if r.Recipient == nil || r.Recipient.ID == "" {
			return ev, ignoreNoSender
		}
		ev.Kind = handover.KindEcho
		ev.PSID = string(r.Recipient.ID)
		ev.MID, ev.Text = r.Message.MID, r.Message.Text
		ev.EchoAppID = string(r.Message.AppID)
		ev.Metadata = r.Message.Metadata
		ev.HasAttachments = bool(r.Message.Attachments)
	case r.Message != nil:
		ev.Kind = handover.KindMessage
		ev.MID, ev.Text = r.Message.MID, r.Message.Text
		if qr := r.Message.QuickReply; qr != nil {
			ev.HasQuickReply, ev.QuickReplyPayload = true, qr.Payload
		}
		ev.HasAttachments = bool(r.Message.Attachments)
	case r.Postback != nil:
		ev.Kind = handover.KindPostback
		ev.MID = r.Postback.MID
		ev.PostbackTitle, ev.PostbackPayload = r.Postback.Title, r.Postback.Payload
	case r.Pass != nil:
		ev.Kind = handover.KindPassThreadControl
		ev.NewOwnerAppID, ev.PreviousOwnerAppID = string(r.Pass.NewOwner), string(r.Pass.PreviousOwner)
		ev.Metadata = r.Pass.Metadata
	case r.Take != nil:
		ev.Kind = handover.KindTakeThreadControl
		ev.NewOwnerAppID, ev.PreviousOwnerAppID = string(r.Take.NewOwner), string(r.Take.PreviousOwner)
		ev.Metadata = r.Take.Metadata
	case r.Request != nil:
		ev.Kind = handover.KindRequestThreadControl
		ev.RequestedOwnerAppID = string(r.Request.RequestedOwner)
		ev.Metadata = r.Request.Metadata
	case bool(r.Read || r.Delivery || r.Reaction || r.MessageEdit || r.Referral || r.Optin ||
		r.AccountLinking || r.PolicyEnforcement):
		ev.Kind = handover.KindOther
	default:
		return ev, ignoreUnknownKind
	}
	return ev, ""
}

// decodeBody parses a webhook body into env with encoding/json. A body that is not a JSON object
// is refused before decoding (Meta always sends one).
func decodeBody(body []byte, env *envelope) error {
	if b := bytes.TrimLeft(body, " \t\n\r"); len(b) == 0 || b[0] != '{' {
		return errNotObject
	}
	return json.Unmarshal(body, env)
}
