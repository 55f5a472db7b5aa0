package simulator

import "encoding/json"

// Webhook field names (reference §7.2).
const (
	fieldMessages  = "messages"
	fieldEchoes    = "message_echoes"
	fieldPostbacks = "messaging_postbacks"
	fieldHandovers = "messaging_handovers"
	fieldStandby   = "standby"
	fieldReads     = "message_reads"
	fieldDelivered = "message_deliveries"
	fieldReactions = "message_reactions"
	fieldEdits     = "message_edits"
	fieldReferrals = "messaging_referrals"
	fieldOptins    = "messaging_optins"
)

// Delivery channels: the entry key an event is delivered under.
const (
	ChannelMessaging = "messaging"
	ChannelStandby   = "standby"
)

// The JSON shapes of webhook bodies (reference §2.1, §3).

type webhookBody struct {
	Object string   `json:"object"`
	Entry  []*entry `json:"entry"`
}

type entry struct {
	ID        idValue  `json:"id"`
	Time      int64    `json:"time"`
	Messaging []*event `json:"messaging,omitempty"`
	Standby   []*event `json:"standby,omitempty"`
}

type party struct {
	ID idValue `json:"id"`
}

type event struct {
	Sender    *party      `json:"sender,omitempty"`
	Recipient party       `json:"recipient"`
	Timestamp int64       `json:"timestamp"`
	Message   *evMessage  `json:"message,omitempty"`
	Postback  *evPostback `json:"postback,omitempty"`
	Read      *evRead     `json:"read,omitempty"`
	Delivery  *evDelivery `json:"delivery,omitempty"`
	Reaction  *evReaction `json:"reaction,omitempty"`
	Edit      *evEdit     `json:"message_edit,omitempty"`
	Referral  *evReferral `json:"referral,omitempty"`
	Optin     *evOptin    `json:"optin,omitempty"`
	Pass      *evControl  `json:"pass_thread_control,omitempty"`
	Take      *evControl  `json:"take_thread_control,omitempty"`
	Request   *evRequest  `json:"request_thread_control,omitempty"`
	// AppRoles: app id -> roles; the event has no sender (§3.5).
	AppRoles map[string][]string `json:"app_roles,omitempty"`
}

type evMessage struct {
	IsEcho      bool              `json:"is_echo,omitempty"`
	AppID       *idValue          `json:"app_id,omitempty"`
	Metadata    string            `json:"metadata,omitempty"`
	Mid         string            `json:"mid"`
	Text        string            `json:"text,omitempty"`
	QuickReply  *evQuickReply     `json:"quick_reply,omitempty"`
	Attachments []json.RawMessage `json:"attachments,omitempty"`
}

type evQuickReply struct {
	Payload string `json:"payload"`
}

type evPostback struct {
	Mid      string      `json:"mid"`
	Title    string      `json:"title"`
	Payload  string      `json:"payload,omitempty"`
	Referral *evReferral `json:"referral,omitempty"`
}

// evDelivery: message_deliveries (§3.6); mids optional, watermark always.
type evDelivery struct {
	Mids      []string `json:"mids,omitempty"`
	Watermark int64    `json:"watermark"`
}

// evReaction: message_reactions (§3.6; the reference is unsure of the keys, these are the ones it
// gives).
type evReaction struct {
	Mid      string `json:"mid"`
	Action   string `json:"action"`
	Reaction string `json:"reaction,omitempty"`
	Emoji    string `json:"emoji,omitempty"`
}

// evEdit: message_edits (§3.6).
type evEdit struct {
	Mid     string `json:"mid"`
	Text    string `json:"text"`
	NumEdit int    `json:"num_edit"`
}

// evReferral: messaging_referrals and the referral of a postback (§3.3).
type evReferral struct {
	Ref    string `json:"ref,omitempty"`
	Source string `json:"source"`
	Type   string `json:"type"`
}

// evOptin: messaging_optins (§3.6 lists the field; the shape is the plugin opt-in's ref).
type evOptin struct {
	Ref string `json:"ref"`
}

type evRead struct {
	Watermark int64 `json:"watermark"`
}

// evControl is pass_thread_control and take_thread_control; previous_owner_app_id is null when the
// thread was idle.
type evControl struct {
	PreviousOwnerAppID *idValue `json:"previous_owner_app_id"`
	NewOwnerAppID      idValue  `json:"new_owner_app_id"`
	Metadata           string   `json:"metadata,omitempty"`
}

type evRequest struct {
	RequestedOwnerAppID idValue `json:"requested_owner_app_id"`
	Metadata            string  `json:"metadata,omitempty"`
}

// kind names the event for Routed records.
func (e *event) kind() string {
	switch {
	case e.Message != nil && e.Message.IsEcho:
		return "echo"
	case e.Message != nil && e.Message.QuickReply != nil:
		return "quick_reply"
	case e.Message != nil:
		return "message"
	case e.Postback != nil:
		return "postback"
	case e.Read != nil:
		return "read"
	case e.Delivery != nil:
		return "delivery"
	case e.Reaction != nil:
		return "reaction"
	case e.Edit != nil:
		return "message_edit"
	case e.Referral != nil:
		return "referral"
	case e.Optin != nil:
		return "optin"
	case e.AppRoles != nil:
		return "app_roles"
	case e.Pass != nil:
		return "pass_thread_control"
	case e.Take != nil:
		return "take_thread_control"
	case e.Request != nil:
		return "request_thread_control"
	}
	return "unknown"
}

// fromUser builds the common part of a user->Page event.
func (s *Simulator) fromUser(p *page, psid string, ms int64) *event {
	return &event{Sender: &party{ID: s.id(psid, idPlain)}, Recipient: party{ID: s.id(p.id, idPlain)}, Timestamp: ms}
}

// fromPage builds the common part of an echo (sender and recipient swapped, reference §3.2).
func (s *Simulator) fromPage(p *page, psid string, ms int64) *event {
	return &event{Sender: &party{ID: s.id(p.id, idPlain)}, Recipient: party{ID: s.id(psid, idPlain)}, Timestamp: ms}
}
