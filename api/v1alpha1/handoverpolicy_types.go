package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The defaults give the Messenger handover tutorial's conversation, in the order the platform
// needs: the bot sends before it passes, and takes control before it speaks again.
const (
	DefaultWelcomeText  = "Welcome! The bot is currently in control.\n\n Tap \"Pass to Inbox\" to pass control to the Page Inbox."
	DefaultHandoffText  = "The bot is passing control to the Page Inbox.\n\n Tap \"Take From Inbox\" to have the bot take control back."
	DefaultTakeBackText = "The bot is taking control back.\n\n Tap \"Pass to Inbox\" to pass thread control to the Page Inbox."
	DefaultDoneText     = "You passed control back to the bot by marking \"Done\" in the Page Inbox.\n\n Tap \"Pass to Inbox\" to pass control to the Page Inbox."
	DefaultErrorText    = "Sorry, something went wrong on our side. Please try again in a moment."
	DefaultClosedText   = "We are closed right now. The bot can still help, and our team will be back during business hours."

	PassToInboxTitle     = "Pass to Inbox"
	PassToInboxPayload   = "pass_to_inbox"
	TakeFromInboxTitle   = "Take From Inbox"
	TakeFromInboxPayload = "take_from_inbox"
)

// HandoverPolicySpec says how conversations move between the bot and people. An empty spec gives
// the tutorial's conversation.
// +kubebuilder:validation:XValidation:rule="!has(self.agentIdleTimeout) || duration(self.agentIdleTimeout) <= duration('24h') || (has(self.agentIdleTimeoutBeyondWindow) && self.agentIdleTimeoutBeyondWindow)",fieldPath=".agentIdleTimeout",message="an agentIdleTimeout over 24h ends after the messaging window: set agentIdleTimeoutBeyondWindow: true to allow it (the take-back then happens without the take-back message)"
type HandoverPolicySpec struct {
	// Welcome answers a user's message or postback that no trigger claims.
	// +kubebuilder:default={text: "Welcome! The bot is currently in control.\n\n Tap \"Pass to Inbox\" to pass control to the Page Inbox.", quickReplies: {{title: "Pass to Inbox", payload: "pass_to_inbox"}}}
	// +optional
	Welcome Message `json:"welcome,omitzero"`

	// Handoff passes the conversation to people.
	// +kubebuilder:default={}
	// +optional
	Handoff HandoffSpec `json:"handoff,omitzero"`

	// TakeBack takes the conversation back from people.
	// +kubebuilder:default={}
	// +optional
	TakeBack TakeBackSpec `json:"takeBack,omitzero"`

	// Done greets the user again when an agent marks the conversation Done (the inbox passes
	// control back to us).
	// +kubebuilder:default={text: "You passed control back to the bot by marking \"Done\" in the Page Inbox.\n\n Tap \"Pass to Inbox\" to pass control to the Page Inbox.", quickReplies: {{title: "Pass to Inbox", payload: "pass_to_inbox"}}}
	// +optional
	Done Message `json:"done,omitzero"`

	// OnRequest is what the bot does when another app asks for control of a thread it owns.
	// +kubebuilder:default=Pass
	// +kubebuilder:validation:Enum=Pass;Ignore
	// +optional
	OnRequest RequestAction `json:"onRequest,omitempty"`

	// AgentIdleTimeout takes a conversation back when no agent has written for this long, counted
	// from the last agent message or, when no agent has written, from the pass. Off when unset.
	// Over 24h it needs agentIdleTimeoutBeyondWindow.
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1s')",message="agentIdleTimeout must be at least 1s"
	// +kubebuilder:validation:XValidation:rule="duration(self) <= duration('168h')",message="agentIdleTimeout must be at most 168h (7 days)"
	// +optional
	AgentIdleTimeout *metav1.Duration `json:"agentIdleTimeout,omitempty"`

	// AgentIdleTimeoutBeyondWindow allows an agentIdleTimeout over 24h. The bot may message a
	// user only within 24h of the user's last message (it never uses the HUMAN_AGENT tag, which is
	// for people), so a take-back after that happens without the take-back message (counted in
	// messenger_webhook_suppressed_messages_total).
	// +optional
	AgentIdleTimeoutBeyondWindow bool `json:"agentIdleTimeoutBeyondWindow,omitempty"`

	// BusinessHours limit when conversations are passed to people.
	// +optional
	BusinessHours *BusinessHours `json:"businessHours,omitempty"`

	// ErrorMessage answers a user's message or postback whose reply failed after a transient
	// error or a 5xx of the Graph API that retries did not overcome, or whose template the Send
	// API rejected; only while the bot owns the thread, inside the 24h messaging window, and at
	// most once per thread per minute; never after the codes 551 (person unavailable), 2018278
	// (outside the window), 2018300 (another app controls the thread) or 190 (token invalid).
	// +kubebuilder:default={text: "Sorry, something went wrong on our side. Please try again in a moment."}
	// +optional
	ErrorMessage Message `json:"errorMessage,omitzero"`

	// FirstNameFallback replaces {{first_name}} when the user's profile is not available.
	// +kubebuilder:default=there
	// +kubebuilder:validation:MaxLength=50
	// +optional
	FirstNameFallback string `json:"firstNameFallback,omitempty"`
}

// RequestAction answers request_thread_control.
type RequestAction string

const (
	RequestPass   RequestAction = "Pass"
	RequestIgnore RequestAction = "Ignore"
)

// HandoffSpec passes conversations to people.
type HandoffSpec struct {
	// Message is sent before the pass, while the bot still owns the thread.
	// +kubebuilder:default={text: "The bot is passing control to the Page Inbox.\n\n Tap \"Take From Inbox\" to have the bot take control back.", quickReplies: {{title: "Take From Inbox", payload: "take_from_inbox"}}}
	// +optional
	Message Message `json:"message,omitzero"`

	// Triggers that pass the conversation.
	// +kubebuilder:default={quickReplyPayloads: {"pass_to_inbox"}}
	// +optional
	Triggers Triggers `json:"triggers,omitzero"`

	// TargetAppID receives control; the Page Inbox by default.
	// +kubebuilder:default="263902037430900"
	// +kubebuilder:validation:Pattern=`^[0-9]{1,32}$`
	// +kubebuilder:validation:XValidation:rule=`self.matches(r'^[0-9]{1,32}$')`,message=`must be a Meta id: 1 to 32 digits, such as "1234567890" (quoted in YAML)`
	// +kubebuilder:validation:MaxLength=32
	// +optional
	TargetAppID string `json:"targetAppID,omitempty"`

	// Metadata passed to the new owner (no personal data: every app on the Page can read it).
	// +kubebuilder:validation:MaxLength=999
	// +optional
	Metadata string `json:"metadata,omitempty"`
}

// TakeBackSpec takes conversations back from people.
type TakeBackSpec struct {
	// Message is sent only after the take succeeded.
	// +kubebuilder:default={text: "The bot is taking control back.\n\n Tap \"Pass to Inbox\" to pass thread control to the Page Inbox.", quickReplies: {{title: "Pass to Inbox", payload: "pass_to_inbox"}}}
	// +optional
	Message Message `json:"message,omitzero"`

	// Triggers that take the conversation back; they are read from standby events.
	// +kubebuilder:default={quickReplyPayloads: {"take_from_inbox"}}
	// +optional
	Triggers Triggers `json:"triggers,omitzero"`
}

// Triggers match a user's message or postback.
type Triggers struct {
	// QuickReplyPayloads match a tapped quick reply. On standby, a quick reply that arrives without
	// its payload is matched by the title the policy gives that payload.
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=1000
	// +optional
	QuickReplyPayloads []string `json:"quickReplyPayloads,omitempty"`

	// PostbackPayloads match a tapped postback button (payloads are not delivered on standby).
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=1000
	// +optional
	PostbackPayloads []string `json:"postbackPayloads,omitempty"`

	// Keywords match typed text as case-insensitive whole words or phrases.
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=100
	// +optional
	Keywords []string `json:"keywords,omitempty"`

	// Patterns match typed text as RE2 regular expressions; the policy's status reports those that
	// do not compile.
	// +kubebuilder:validation:MaxItems=32
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=512
	// +optional
	Patterns []string `json:"patterns,omitempty"`
}

// BusinessHours are weekly windows in a time zone; outside them OutsideHours applies to handoffs.
// Precedence: payload triggers (quick replies, postbacks) are matched first, then business hours
// are checked, then keywords and patterns.
// +kubebuilder:validation:XValidation:rule="self.outsideHours.action != 'PassTo' || has(self.outsideHours.appID)",message="outsideHours.appID is required when the action is PassTo"
type BusinessHours struct {
	// TimeZone is an IANA zone such as Europe/Paris; the policy's status reports an unknown zone.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	TimeZone string `json:"timeZone"`

	// Windows open for handoffs. A window whose end is before its start runs past midnight.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=64
	Windows []HoursWindow `json:"windows"`

	// OutsideHours is what a handoff does outside the windows.
	// +kubebuilder:default={action: BotOnly}
	// +optional
	OutsideHours OutsideHours `json:"outsideHours,omitzero"`
}

// HoursWindow is one weekly opening, such as Monday 09:00-17:30.
// +kubebuilder:validation:XValidation:rule="self.start != self.end",message="a window's start and end must differ"
type HoursWindow struct {
	// Day of the week, in English, such as Monday.
	// +kubebuilder:validation:Enum=Monday;Tuesday;Wednesday;Thursday;Friday;Saturday;Sunday
	Day string `json:"day"`
	// Start as HH:MM (24 h).
	// +kubebuilder:validation:MaxLength=5
	// +kubebuilder:validation:Pattern=`^([01][0-9]|2[0-3]):[0-5][0-9]$`
	// +kubebuilder:validation:XValidation:rule=`self.matches(r'^([01][0-9]|2[0-3]):[0-5][0-9]$')`,message=`must be a time of day as HH:MM on a 24 h clock, such as 09:00 or 17:30`
	Start string `json:"start"`
	// End as HH:MM (24 h); before Start means the next day.
	// +kubebuilder:validation:MaxLength=5
	// +kubebuilder:validation:Pattern=`^([01][0-9]|2[0-3]):[0-5][0-9]$`
	// +kubebuilder:validation:XValidation:rule=`self.matches(r'^([01][0-9]|2[0-3]):[0-5][0-9]$')`,message=`must be a time of day as HH:MM on a 24 h clock, such as 09:00 or 17:30`
	End string `json:"end"`
}

// OutsideHours is what a handoff does outside business hours.
type OutsideHours struct {
	// Action: BotOnly stays with the bot and sends Message; PassAnyway passes as in hours; PassTo
	// passes to AppID instead.
	// +kubebuilder:validation:Enum=BotOnly;PassAnyway;PassTo
	// +kubebuilder:validation:MaxLength=16
	// +kubebuilder:default=BotOnly
	// +optional
	Action OutsideHoursAction `json:"action,omitempty"`

	// AppID receives the conversation with PassTo.
	// +kubebuilder:validation:Pattern=`^[0-9]{1,32}$`
	// +kubebuilder:validation:XValidation:rule=`self.matches(r'^[0-9]{1,32}$')`,message=`must be a Meta id: 1 to 32 digits, such as "1234567890" (quoted in YAML)`
	// +kubebuilder:validation:MaxLength=32
	// +optional
	AppID string `json:"appID,omitempty"`

	// Message is sent with BotOnly.
	// +kubebuilder:default={text: "We are closed right now. The bot can still help, and our team will be back during business hours."}
	// +optional
	Message Message `json:"message,omitzero"`
}

// OutsideHoursAction is what a handoff does outside business hours.
type OutsideHoursAction string

const (
	OutsideBotOnly    OutsideHoursAction = "BotOnly"
	OutsidePassAnyway OutsideHoursAction = "PassAnyway"
	OutsidePassTo     OutsideHoursAction = "PassTo"
)

// Message is what the bot sends: text with optional quick replies, or a button template or a
// generic template (carousel). Templates do not render on every client (Messenger's web client
// shows nothing), so a template message carries Text as its fallback: it is sent instead when the
// Send API rejects the template. Text may use {{first_name}} and {{business_name}}; text that a
// placeholder pushes over a limit is cut at send time.
// +kubebuilder:validation:XValidation:rule="!(has(self.buttons) && has(self.cards))",message="a message has buttons or cards, not both"
// +kubebuilder:validation:XValidation:rule="has(self.text) && size(self.text) > 0",message="text is required: it is the message, or the fallback of a template"
type Message struct {
	// Text of the message (< 2000 characters).
	// +kubebuilder:validation:MaxLength=1999
	// +optional
	Text string `json:"text,omitempty"`

	// QuickReplies shown under the message (at most 13).
	// +kubebuilder:validation:MaxItems=13
	// +optional
	QuickReplies []QuickReply `json:"quickReplies,omitempty"`

	// Buttons sends a button template.
	// +optional
	Buttons *ButtonTemplate `json:"buttons,omitempty"`

	// Cards sends a generic template: a carousel of at most 10 cards.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=10
	// +optional
	Cards []Card `json:"cards,omitempty"`
}

// QuickReply is a text quick reply.
type QuickReply struct {
	// Title shown on the quick reply (at most 20 characters).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=20
	Title string `json:"title"`
	// Payload delivered to the webhook when the person taps it; the policy's quickReplyPayloads
	// triggers match it.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1000
	Payload string `json:"payload"`
}

// ButtonTemplate is text with one to three buttons.
type ButtonTemplate struct {
	// Text above the buttons (at most 640 characters).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=640
	Text string `json:"text"`
	// Buttons of the template, one to three.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=3
	Buttons []Button `json:"buttons"`
}

// Button is a postback or URL button.
// +kubebuilder:validation:XValidation:rule="self.type != 'postback' || has(self.payload)",message="a postback button needs a payload"
// +kubebuilder:validation:XValidation:rule="self.type != 'web_url' || has(self.url)",message="a web_url button needs a url"
type Button struct {
	// Type: postback (delivers Payload to the webhook) or web_url (opens URL).
	// +kubebuilder:validation:Enum=postback;web_url
	// +kubebuilder:validation:MaxLength=16
	Type string `json:"type"`
	// Title shown on the button (at most 20 characters).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=20
	Title string `json:"title"`
	// Payload of a postback button, delivered to the webhook when tapped; the policy's
	// postbackPayloads triggers match it.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1000
	// +optional
	Payload string `json:"payload,omitempty"`
	// URL a web_url button opens (https only).
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:Pattern=`^https://`
	// +kubebuilder:validation:XValidation:rule=`self.startsWith('https://')`,message=`must be an https:// URL`
	// +optional
	URL string `json:"url,omitempty"`
}

// Card is one element of a generic template.
// +kubebuilder:validation:XValidation:rule="has(self.subtitle) || has(self.imageURL) || has(self.buttons)",message="a card needs a subtitle, an imageURL or buttons besides its title"
type Card struct {
	// Title of the card (at most 80 characters).
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=80
	Title string `json:"title"`
	// Subtitle under the title (at most 80 characters).
	// +kubebuilder:validation:MaxLength=80
	// +optional
	Subtitle string `json:"subtitle,omitempty"`
	// ImageURL of the card's picture (https only).
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:Pattern=`^https://`
	// +kubebuilder:validation:XValidation:rule=`self.startsWith('https://')`,message=`must be an https:// URL`
	// +optional
	ImageURL string `json:"imageURL,omitempty"`
	// Buttons of the card, one to three.
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=3
	// +optional
	Buttons []Button `json:"buttons,omitempty"`
}

// HandoverPolicyStatus tells whether the policy is usable and who uses it.
type HandoverPolicyStatus struct {
	// Conditions: Ready, false with a reason for what the schema cannot check (a pattern that does
	// not compile, an unknown time zone).
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// ObservedGeneration is the generation last checked; -1 until then.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Pages is how many MessengerPages use this policy.
	// +optional
	Pages int32 `json:"pages"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=hpol;hpols,categories=messenger
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Pages",type=integer,JSONPath=`.status.pages`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Message",type=string,priority=1,JSONPath=`.status.conditions[?(@.type=="Ready")].message`

// HandoverPolicy says how conversations move between the bot and people; many pages may share one.
type HandoverPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +kubebuilder:default={}
	// +optional
	Spec HandoverPolicySpec `json:"spec,omitzero"`
	// +kubebuilder:default={"observedGeneration":-1}
	// +optional
	Status HandoverPolicyStatus `json:"status,omitzero"`
}

// +kubebuilder:object:root=true

// HandoverPolicyList is a list of HandoverPolicies.
type HandoverPolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []HandoverPolicy `json:"items"`
}
