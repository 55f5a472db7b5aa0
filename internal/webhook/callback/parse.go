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

// decodeBody parses a webhook body with the scanner (the hot path); it fills env as
// json.Unmarshal would with the struct tags above, which the tests use as the reference. Wrong
// shapes of known keys fail like encoding/json's type errors; unknown keys are validated and
// skipped.
func decodeBody(body []byte, env *envelope) error {
	s := scanner{b: body}
	if s.peek() != '{' {
		return errNotObject
	}
	if err := s.envelope(env); err != nil {
		return err
	}
	return s.end()
}

func (s *scanner) envelope(env *envelope) error {
	ok, err := s.open('{')
	for first := true; ok && err == nil; first = false {
		if ok, err = s.more('}', first); !ok || err != nil {
			break
		}
		var k []byte
		if k, err = s.key(); err != nil {
			break
		}
		switch keyName(k, envelopeKeys) {
		case "object":
			env.Object, err = s.str()
		case "entry":
			err = s.entries(env)
		default:
			err = s.skip()
		}
	}
	return err
}

var (
	envelopeKeys = []string{"object", "entry"}
	entryKeys    = []string{"id", "time", "messaging", "standby", "changes"}
	partyKeys    = []string{"id"}
	eventKeys    = []string{"sender", "recipient", "timestamp", "message", "postback", "pass_thread_control",
		"take_thread_control", "request_thread_control", "read", "delivery", "reaction", "message_edit",
		"referral", "optin", "account_linking", "policy_enforcement"}
	messageKeys  = []string{"mid", "text", "is_echo", "app_id", "metadata", "quick_reply", "attachments"}
	payloadKeys  = []string{"payload"}
	postbackKeys = []string{"mid", "title", "payload"}
	controlKeys  = []string{"previous_owner_app_id", "new_owner_app_id", "requested_owner_app_id", "metadata"}
)

// keyName maps a key to its known name: exactly, or case-insensitively as encoding/json does;
// "" when unknown.
func keyName(k []byte, known []string) string {
	for _, n := range known {
		if string(k) == n {
			return n
		}
	}
	for _, n := range known {
		if bytes.EqualFold(k, []byte(n)) {
			return n
		}
	}
	return ""
}

func (s *scanner) entries(env *envelope) error {
	ok, err := s.open('[')
	if ok {
		env.Entry = []entry{} // [] is an empty, non-nil slice, as encoding/json makes it
	}
	for first := true; ok && err == nil; first = false {
		if ok, err = s.more(']', first); !ok || err != nil {
			break
		}
		env.Entry = append(env.Entry, entry{})
		err = s.entry(&env.Entry[len(env.Entry)-1])
	}
	return err
}

func (s *scanner) entry(e *entry) error {
	ok, err := s.open('{')
	for first := true; ok && err == nil; first = false {
		if ok, err = s.more('}', first); !ok || err != nil {
			break
		}
		var k []byte
		if k, err = s.key(); err != nil {
			break
		}
		switch keyName(k, entryKeys) {
		case "id":
			e.ID, err = s.id()
		case "time":
			e.Time, err = s.millis()
		case "messaging":
			e.Messaging, err = s.events(e.Messaging[:0])
		case "standby":
			e.Standby, err = s.events(e.Standby[:0])
		case "changes":
			var p bool
			p, err = s.present()
			e.Changes = present(p)
		default:
			err = s.skip()
		}
	}
	return err
}

func (s *scanner) events(list []rawEvent) ([]rawEvent, error) {
	ok, err := s.open('[')
	if !ok && err == nil {
		return nil, nil
	}
	if list == nil {
		list = []rawEvent{}
	}
	for first := true; ok && err == nil; first = false {
		if ok, err = s.more(']', first); !ok || err != nil {
			break
		}
		list = append(list, rawEvent{})
		err = s.event(&list[len(list)-1])
	}
	return list, err
}

func (s *scanner) party() (*party, error) {
	if s.null() {
		return nil, nil
	}
	p := &party{}
	ok, err := s.open('{')
	for first := true; ok && err == nil; first = false {
		if ok, err = s.more('}', first); !ok || err != nil {
			break
		}
		var k []byte
		if k, err = s.key(); err != nil {
			break
		}
		if keyName(k, partyKeys) == "id" {
			p.ID, err = s.id()
		} else {
			err = s.skip()
		}
	}
	return p, err
}

func (s *scanner) event(ev *rawEvent) error {
	ok, err := s.open('{')
	for first := true; ok && err == nil; first = false {
		if ok, err = s.more('}', first); !ok || err != nil {
			break
		}
		var k []byte
		if k, err = s.key(); err != nil {
			break
		}
		var p bool
		switch keyName(k, eventKeys) {
		case "sender":
			ev.Sender, err = s.party()
		case "recipient":
			ev.Recipient, err = s.party()
		case "timestamp":
			ev.Timestamp, err = s.millis()
		case "message":
			ev.Message, err = s.message()
		case "postback":
			ev.Postback, err = s.postback()
		case "pass_thread_control":
			ev.Pass, err = s.control()
		case "take_thread_control":
			ev.Take, err = s.control()
		case "request_thread_control":
			ev.Request, err = s.control()
		case "read":
			p, err = s.present()
			ev.Read = present(p)
		case "delivery":
			p, err = s.present()
			ev.Delivery = present(p)
		case "reaction":
			p, err = s.present()
			ev.Reaction = present(p)
		case "message_edit":
			p, err = s.present()
			ev.MessageEdit = present(p)
		case "referral":
			p, err = s.present()
			ev.Referral = present(p)
		case "optin":
			p, err = s.present()
			ev.Optin = present(p)
		case "account_linking":
			p, err = s.present()
			ev.AccountLinking = present(p)
		case "policy_enforcement":
			p, err = s.present()
			ev.PolicyEnforcement = present(p)
		default:
			err = s.skip()
		}
	}
	return err
}

func (s *scanner) message() (*rawMessage, error) {
	if s.null() {
		return nil, nil
	}
	m := &rawMessage{}
	ok, err := s.open('{')
	for first := true; ok && err == nil; first = false {
		if ok, err = s.more('}', first); !ok || err != nil {
			break
		}
		var k []byte
		if k, err = s.key(); err != nil {
			break
		}
		switch keyName(k, messageKeys) {
		case "mid":
			m.MID, err = s.str()
		case "text":
			m.Text, err = s.str()
		case "is_echo":
			m.IsEcho, err = s.boolean()
		case "app_id":
			m.AppID, err = s.id()
		case "metadata":
			m.Metadata, err = s.str()
		case "quick_reply":
			m.QuickReply, err = s.quickReply()
		case "attachments":
			var p bool
			p, err = s.present()
			m.Attachments = present(p)
		default:
			err = s.skip()
		}
	}
	return m, err
}

func (s *scanner) quickReply() (*struct {
	Payload string `json:"payload"`
}, error) {
	if s.null() {
		return nil, nil
	}
	qr := &struct {
		Payload string `json:"payload"`
	}{}
	ok, err := s.open('{')
	for first := true; ok && err == nil; first = false {
		if ok, err = s.more('}', first); !ok || err != nil {
			break
		}
		var k []byte
		if k, err = s.key(); err != nil {
			break
		}
		if keyName(k, payloadKeys) == "payload" {
			qr.Payload, err = s.str()
		} else {
			err = s.skip()
		}
	}
	return qr, err
}

func (s *scanner) postback() (*rawPostback, error) {
	if s.null() {
		return nil, nil
	}
	pb := &rawPostback{}
	ok, err := s.open('{')
	for first := true; ok && err == nil; first = false {
		if ok, err = s.more('}', first); !ok || err != nil {
			break
		}
		var k []byte
		if k, err = s.key(); err != nil {
			break
		}
		switch keyName(k, postbackKeys) {
		case "mid":
			pb.MID, err = s.str()
		case "title":
			pb.Title, err = s.str()
		case "payload":
			pb.Payload, err = s.str()
		default:
			err = s.skip()
		}
	}
	return pb, err
}

func (s *scanner) control() (*rawControl, error) {
	if s.null() {
		return nil, nil
	}
	c := &rawControl{}
	ok, err := s.open('{')
	for first := true; ok && err == nil; first = false {
		if ok, err = s.more('}', first); !ok || err != nil {
			break
		}
		var k []byte
		if k, err = s.key(); err != nil {
			break
		}
		switch keyName(k, controlKeys) {
		case "previous_owner_app_id":
			c.PreviousOwner, err = s.id()
		case "new_owner_app_id":
			c.NewOwner, err = s.id()
		case "requested_owner_app_id":
			c.RequestedOwner, err = s.id()
		case "metadata":
			c.Metadata, err = s.str()
		default:
			err = s.skip()
		}
	}
	return c, err
}
