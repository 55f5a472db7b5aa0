package simulator

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Send API request and its limits (reference §5.1, §5.3). Every violation is a code 100 error and
// nothing is sent.

const (
	maxTextLen        = 2000 // text must be shorter ("< 2000 chars", the strict reading of the limit)
	maxMetadataLen    = 1000 // metadata must be shorter
	maxQuickReplies   = 13
	maxQRTitle        = 20
	maxPayload        = 1000
	maxButtonText     = 640
	maxTemplateButton = 3
	maxElements       = 10
	maxElementText    = 80
	maxButtonTitle    = 20
)

type sendRequest struct {
	recipientID      string
	messagingType    string
	tag              string
	notificationType string
	personaID        string
	message          *sendMessage
	senderAction     string
	threadControl    *threadControl
}

// media: audio and video count against the Send API's lower rate (§5.5).
func (r *sendRequest) media() bool {
	return r.message != nil && r.message.Attachment != nil &&
		(r.message.Attachment.Type == "audio" || r.message.Attachment.Type == "video")
}

type threadControl struct {
	ControlType string     `json:"control_type"`
	AppID       flexString `json:"app_id"`
}

type sendMessage struct {
	Text         *string          `json:"text"`
	Attachment   *sendAttachment  `json:"attachment"`
	QuickReplies []sendQuickReply `json:"quick_replies"`
	Metadata     *string          `json:"metadata"`
}

type sendAttachment struct {
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload"`
}

type sendQuickReply struct {
	ContentType string     `json:"content_type"`
	Title       *string    `json:"title"`
	Payload     flexString `json:"payload"`
	ImageURL    string     `json:"image_url"`
}

type templatePayload struct {
	TemplateType string        `json:"template_type"`
	Text         *string       `json:"text"`
	Buttons      []sendButton  `json:"buttons"`
	Elements     []sendElement `json:"elements"`
}

type sendButton struct {
	Type               string     `json:"type"`
	Title              *string    `json:"title"`
	Payload            flexString `json:"payload"`
	URL                string     `json:"url"`
	WebviewHeightRatio string     `json:"webview_height_ratio"`
}

type sendElement struct {
	Title         *string      `json:"title"`
	Subtitle      *string      `json:"subtitle"`
	ImageURL      string       `json:"image_url"`
	DefaultAction *sendButton  `json:"default_action"`
	Buttons       []sendButton `json:"buttons"`
}

type mediaPayload struct {
	URL          string     `json:"url"`
	AttachmentID flexString `json:"attachment_id"`
}

// outgoing is a validated message, ready to be recorded and echoed.
type outgoing struct {
	kind         string
	text         string // text, or a summary of the attachment for the transcript
	echoText     string // text as echoed (empty for attachments)
	quickReplies []QuickReply
	buttons      []Button
	cards        []Card
	attachment   json.RawMessage // the attachment as echoed
	metadata     string
}

func runes(s string) int { return utf8.RuneCountInString(s) }

var (
	messagingTypes    = map[string]bool{"RESPONSE": true, "UPDATE": true, "MESSAGE_TAG": true}
	notificationTypes = map[string]bool{"REGULAR": true, "SILENT_PUSH": true, "NO_PUSH": true}
	senderActions     = map[string]bool{"typing_on": true, "typing_off": true, "mark_seen": true, "react": true, "unreact": true}
	knownTags         = map[string]bool{"HUMAN_AGENT": true, "CUSTOMER_FEEDBACK": true,
		"CONFIRMED_EVENT_UPDATE": true, "ACCOUNT_UPDATE": true, "POST_PURCHASE_UPDATE": true}
	deprecatedTags = map[string]bool{"CONFIRMED_EVENT_UPDATE": true, "ACCOUNT_UPDATE": true, "POST_PURCHASE_UPDATE": true}
	templateTypes  = map[string]bool{"button": true, "generic": true, "media": true, "receipt": true, "customer_feedback": true}
	buttonTypes    = map[string]bool{"postback": true, "web_url": true, "phone_number": true, "account_link": true, "account_unlink": true, "game_play": true}
)

// parseSend reads a Send API request from Graph parameters.
func parseSend(p params, b Behaviour) (*sendRequest, *GraphError) {
	req := &sendRequest{}
	var recipient struct {
		ID      flexString `json:"id"`
		UserRef flexString `json:"user_ref"`
	}
	if !p.has("recipient") {
		return nil, errParam("param recipient is required")
	}
	if gerr := p.obj("recipient", &recipient); gerr != nil {
		return nil, gerr
	}
	if !recipient.ID.set || recipient.ID.v == "" {
		// user_ref, phone_number, comment_id recipients are not modelled.
		return nil, errParam("param recipient[id] is required")
	}
	req.recipientID = recipient.ID.v
	var gerr *GraphError
	for k, dst := range map[string]*string{"messaging_type": &req.messagingType, "tag": &req.tag,
		"notification_type": &req.notificationType, "persona_id": &req.personaID, "sender_action": &req.senderAction} {
		if *dst, gerr = p.str(k); gerr != nil {
			return nil, gerr
		}
	}
	if p.has("message") {
		req.message = &sendMessage{}
		if gerr := p.obj("message", req.message); gerr != nil {
			return nil, gerr
		}
	}
	if p.has("thread_control") {
		req.threadControl = &threadControl{}
		if gerr := p.obj("thread_control", req.threadControl); gerr != nil {
			return nil, gerr
		}
	}

	if req.senderAction != "" {
		// A sender action goes alone with the recipient (§5.1).
		if req.message != nil || req.threadControl != nil {
			return nil, errParam("param sender_action must be sent alone: it cannot be combined with message or thread_control")
		}
		if !senderActions[req.senderAction] {
			return nil, errParam("param sender_action must be one of {typing_on, typing_off, mark_seen, react, unreact}")
		}
		if req.senderAction == "react" || req.senderAction == "unreact" {
			var pl struct {
				MessageID string `json:"message_id"`
				Reaction  string `json:"reaction"`
			}
			if gerr := p.obj("payload", &pl); gerr != nil || pl.MessageID == "" {
				return nil, errParam("param payload[message_id] is required for %s", req.senderAction)
			}
		}
		return req, nil
	}
	if req.message == nil {
		return nil, errParam("param message or sender_action is required")
	}
	if req.messagingType == "" && !b.LenientMessagingType {
		return nil, errParam("param messaging_type is required")
	}
	if req.messagingType != "" && !messagingTypes[req.messagingType] {
		return nil, errParam("param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG}")
	}
	if req.messagingType == "MESSAGE_TAG" && req.tag == "" {
		return nil, errParam("param tag is required when messaging_type is MESSAGE_TAG")
	}
	if req.tag != "" {
		if req.messagingType != "MESSAGE_TAG" {
			return nil, errParam("param tag requires messaging_type MESSAGE_TAG")
		}
		if !knownTags[req.tag] {
			return nil, errParam("param tag must be a valid message tag")
		}
	}
	if req.notificationType != "" && !notificationTypes[req.notificationType] {
		return nil, errParam("param notification_type must be one of {REGULAR, SILENT_PUSH, NO_PUSH}")
	}
	if tc := req.threadControl; tc != nil {
		if tc.ControlType == "" {
			tc.ControlType = "release" // the doc table's default
		}
		if tc.ControlType != "pass" && tc.ControlType != "release" {
			return nil, errParam("param thread_control[control_type] must be pass or release")
		}
	}
	return req, nil
}

// validateMessage checks the limits of §5.3 and builds the outgoing message.
func validateMessage(m *sendMessage, b Behaviour) (*outgoing, *GraphError) {
	out := &outgoing{}
	if m.Metadata != nil {
		if runes(*m.Metadata) >= maxMetadataLen {
			return nil, errParam("param message[metadata] must be less than %d characters", maxMetadataLen)
		}
		out.metadata = *m.Metadata
	}
	switch {
	case m.Text != nil && m.Attachment != nil:
		return nil, errParam("message must have either text or attachment, not both")
	case m.Text != nil:
		if *m.Text == "" {
			return nil, errParam("param message[text] must be non-empty")
		}
		if runes(*m.Text) >= maxTextLen {
			return nil, errParam("param message[text] must be less than %d characters", maxTextLen)
		}
		out.kind, out.text, out.echoText = "text", *m.Text, *m.Text
	case m.Attachment != nil:
		if gerr := validateAttachment(m.Attachment, out); gerr != nil {
			return nil, gerr
		}
	default:
		return nil, errParam("param message must contain text or attachment")
	}
	if len(m.QuickReplies) > maxQuickReplies {
		return nil, errParam("param message[quick_replies] must have at most %d elements", maxQuickReplies)
	}
	for i, qr := range m.QuickReplies {
		got, gerr := validateQuickReply(i, qr, b)
		if gerr != nil {
			return nil, gerr
		}
		out.quickReplies = append(out.quickReplies, got)
	}
	if len(out.quickReplies) > 0 {
		titles := make([]string, len(out.quickReplies))
		for i, q := range out.quickReplies {
			titles[i] = q.Title
			if q.Title == "" {
				titles[i] = q.ContentType
			}
		}
		out.text += "  {" + strings.Join(titles, " | ") + "}"
	}
	return out, nil
}

func validateQuickReply(i int, qr sendQuickReply, b Behaviour) (QuickReply, *GraphError) {
	field := fmt.Sprintf("message[quick_replies][%d]", i)
	switch qr.ContentType {
	case "text":
	case "user_phone_number", "user_email":
		return QuickReply{ContentType: qr.ContentType}, nil
	default:
		// location is gone from the current reference (§5.3).
		return QuickReply{}, errParam("param %s[content_type] must be one of {text, user_phone_number, user_email}", field)
	}
	if qr.Title == nil || *qr.Title == "" {
		return QuickReply{}, errParam("param %s[title] is required", field)
	}
	title := *qr.Title
	if runes(title) > maxQRTitle {
		if b.StrictQuickReplyTitle {
			return QuickReply{}, errParam("param %s[title] must be at most %d characters", field, maxQRTitle)
		}
		title = string([]rune(title)[:maxQRTitle]) // the documented behaviour: longer titles are truncated
	}
	if !qr.Payload.set || (qr.Payload.v == "" && qr.ImageURL == "") {
		return QuickReply{}, errParam("param %s[payload] is required", field)
	}
	if runes(qr.Payload.v) > maxPayload {
		return QuickReply{}, errParam("param %s[payload] must be at most %d characters", field, maxPayload)
	}
	return QuickReply{ContentType: "text", Title: title, Payload: qr.Payload.v}, nil
}

func validateAttachment(a *sendAttachment, out *outgoing) *GraphError {
	raw, _ := json.Marshal(a)
	out.attachment = raw
	switch a.Type {
	case "image", "audio", "video", "file":
		var mp mediaPayload
		if err := json.Unmarshal(a.Payload, &mp); err != nil || (mp.URL == "" && mp.AttachmentID.v == "") {
			return errParam("param message[attachment][payload] needs url or attachment_id")
		}
		out.kind, out.text = "attachment", fmt.Sprintf("[%s] %s", a.Type, mp.URL+mp.AttachmentID.v)
		return nil
	case "template":
	default:
		return errParam("param message[attachment][type] must be one of {image, audio, video, file, template}")
	}
	var tp templatePayload
	if err := json.Unmarshal(a.Payload, &tp); err != nil {
		return errParam("param message[attachment][payload] is not a valid template: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	if !templateTypes[tp.TemplateType] {
		return errParam("param message[attachment][payload][template_type] is not supported")
	}
	out.kind = "template"
	switch tp.TemplateType {
	case "button":
		if tp.Text == nil || *tp.Text == "" {
			return errParam("param message[attachment][payload][text] is required")
		}
		if runes(*tp.Text) > maxButtonText {
			return errParam("param message[attachment][payload][text] must be at most %d characters", maxButtonText)
		}
		if len(tp.Buttons) < 1 || len(tp.Buttons) > maxTemplateButton {
			return errParam("param message[attachment][payload][buttons] must have 1 to %d buttons", maxTemplateButton)
		}
		for i, b := range tp.Buttons {
			got, gerr := validateButton(fmt.Sprintf("message[attachment][payload][buttons][%d]", i), b)
			if gerr != nil {
				return gerr
			}
			out.buttons = append(out.buttons, got)
		}
		out.text = fmt.Sprintf("%s  [%s]", *tp.Text, buttonTitles(out.buttons))
	case "generic":
		if len(tp.Elements) < 1 || len(tp.Elements) > maxElements {
			return errParam("param message[attachment][payload][elements] must have 1 to %d elements", maxElements)
		}
		var titles []string
		for i, e := range tp.Elements {
			field := fmt.Sprintf("message[attachment][payload][elements][%d]", i)
			if e.Title == nil || *e.Title == "" {
				return errParam("param %s[title] is required", field)
			}
			if runes(*e.Title) > maxElementText {
				return errParam("param %s[title] must be at most %d characters", field, maxElementText)
			}
			if e.Subtitle != nil && runes(*e.Subtitle) > maxElementText {
				return errParam("param %s[subtitle] must be at most %d characters", field, maxElementText)
			}
			if (e.Subtitle == nil || *e.Subtitle == "") && e.ImageURL == "" && e.DefaultAction == nil && len(e.Buttons) == 0 {
				return errParam("param %s must have at least one property besides title", field)
			}
			if da := e.DefaultAction; da != nil {
				if da.Type != "web_url" || da.URL == "" {
					return errParam("param %s[default_action] must be a web_url with a url", field)
				}
				if da.Title != nil {
					return errParam("param %s[default_action] must not have a title", field)
				}
			}
			if len(e.Buttons) > maxTemplateButton {
				return errParam("param %s[buttons] must have at most %d buttons", field, maxTemplateButton)
			}
			for j, b := range e.Buttons {
				got, gerr := validateButton(fmt.Sprintf("%s[buttons][%d]", field, j), b)
				if gerr != nil {
					return gerr
				}
				got.Card = *e.Title
				out.buttons = append(out.buttons, got)
			}
			titles = append(titles, *e.Title)
			c := Card{Title: *e.Title, ImageURL: e.ImageURL}
			if e.Subtitle != nil {
				c.Subtitle = *e.Subtitle
			}
			out.cards = append(out.cards, c)
		}
		out.text = fmt.Sprintf("[cards] %s  [%s]", strings.Join(titles, " / "), buttonTitles(out.buttons))
	default:
		out.text = "[" + tp.TemplateType + " template]"
	}
	return nil
}

func buttonTitles(bs []Button) string {
	t := make([]string, len(bs))
	for i, b := range bs {
		t[i] = b.Title
	}
	return strings.Join(t, " | ")
}

func validateButton(field string, b sendButton) (Button, *GraphError) {
	if !buttonTypes[b.Type] {
		return Button{}, errParam("param %s[type] is not a valid button type", field)
	}
	title := ""
	if b.Title != nil {
		title = *b.Title
	}
	needTitle := b.Type != "account_link" && b.Type != "account_unlink"
	if needTitle && title == "" {
		return Button{}, errParam("param %s[title] is required", field)
	}
	if runes(title) > maxButtonTitle {
		return Button{}, errParam("param %s[title] must be at most %d characters", field, maxButtonTitle)
	}
	switch b.Type {
	case "postback":
		if !b.Payload.set || b.Payload.v == "" {
			return Button{}, errParam("param %s[payload] is required", field)
		}
		if runes(b.Payload.v) > maxPayload {
			return Button{}, errParam("param %s[payload] must be at most %d characters", field, maxPayload)
		}
	case "web_url", "account_link":
		if b.URL == "" {
			return Button{}, errParam("param %s[url] is required", field)
		}
		if r := b.WebviewHeightRatio; r != "" && r != "compact" && r != "tall" && r != "full" {
			return Button{}, errParam("param %s[webview_height_ratio] must be compact, tall or full", field)
		}
	case "phone_number":
		if !strings.HasPrefix(b.Payload.v, "+") {
			return Button{}, errParam("param %s[payload] must be a phone number starting with +", field)
		}
	}
	return Button{Type: b.Type, Title: title, Payload: b.Payload.v, URL: b.URL}, nil
}
