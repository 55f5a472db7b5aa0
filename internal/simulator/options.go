package simulator

import (
	"fmt"
	"net/http"
	"regexp"
	"time"
)

// InboxAppID is the Page Inbox (Meta Business Suite Inbox) app for Messenger (reference §0).
const InboxAppID = "263902037430900"

// InboxName is the readable name of the Page Inbox in transcripts and the Go API.
const InboxName = "inbox"

// Options configure a Simulator. Zero values get the documented defaults (see New).
type Options struct {
	// Clock drives expiry, windows and timestamps. Default: wall time (use a ManualClock in tests).
	Clock Clock
	// Pages on the platform; at least one.
	Pages []PageConfig
	// Apps other than the Page Inbox, which is built in and connected to every Page.
	Apps []AppConfig
	// Tokens to accept in addition to the ones the simulator issues (so a webhook can be started
	// with a known token).
	Tokens []TokenConfig
	// GraphVersion is written on app subscription fields when none is given. Default v25.0.
	GraphVersion string

	// DeliveryTimeout is how long a callback has to answer 200 (reference §2.3: 5 s).
	DeliveryTimeout time.Duration
	// MaxDeliveryAttempts is the first burst of one body: the first POST and the retries Meta makes
	// "immediately" ("a few more times", §2.3). Default 4.
	MaxDeliveryAttempts int
	// RetryDelay is the wall-time pause between the attempts of the first burst. Default 50 ms.
	RetryDelay time.Duration
	// RetryBackoff are the gaps (simulator clock) between the later attempts of a body that failed
	// its first burst; the last gap repeats. The body is given up once it has failed for
	// DisableAfter, by when its Page is usually unsubscribed (§2.3). Default 1m, 2m, 4m, 8m, 15m:
	// the attempt at 60 minutes disables the webhook. See Behaviour.GiveUpAfterImmediateRetries.
	RetryBackoff []time.Duration
	// BatchWindow > 0 collects an app's events for that long (wall time) into one POST, entries of
	// several Pages included (§2.1). With 0 each event is its own POST, except events collected by
	// Hold/Flush.
	BatchWindow time.Duration
	// MaxBatchEvents bounds the events of one POST. Default 1000 (§2.1: Graph webhooks batch up to
	// 1000 updates).
	MaxBatchEvents int
	// Reorder shuffles the events collected into one POST (§2.3: ordering is not guaranteed across
	// retries and entries). Default InOrder.
	Reorder ReorderMode
	// Seed makes reordering repeatable. Default 0 (a fixed seed).
	Seed int64
	// DuplicateEvery > 0 sends every n-th acknowledged POST a second time (§2.3: duplicates are
	// expected). Default 0: never (see also Simulator.DuplicateNext).
	DuplicateEvery int
	// DisableAfter: an app whose deliveries to a Page keep failing this long (simulator clock) is
	// unsubscribed from the Page (reference §2.3: 1 h). Negative: never (bodies are then given up
	// after 36 h, as generic Graph webhooks do).
	DisableAfter time.Duration
	// Limits are the Graph API rate limits (§5.5).
	Limits Limits
	// DeliveryReceipts: the person's device acknowledges every Page message at once with a
	// message_deliveries event (§3.6). Off by default: whether the person is online is the
	// test's scenario (Customer.Delivered sends one on demand).
	DeliveryReceipts bool
	// HangLimit bounds a "timeout after sending" fault when the client never gives up. Default 30 s.
	HangLimit time.Duration
	// HTTPClient sends webhooks and verification GETs. Default: a plain client.
	HTTPClient *http.Client

	// IDs selects how ids are written in webhook bodies.
	IDs IDForm
	// Behaviour switches the points the reference is unsure about.
	Behaviour Behaviour
	// Logf, if set, receives one line per notable event (never tokens or secrets).
	Logf func(format string, args ...any)
}

// IDForm is the JSON form of ids in webhook bodies.
type IDForm int

const (
	// IDStrings writes every id as a string (reference §3: ids are opaque strings).
	IDStrings IDForm = iota
	// IDNumbers writes every numeric id as a JSON number (robustness: PSIDs beyond 2^53).
	IDNumbers
	// IDAsDocumented mixes like Meta's examples: echo app_id and requested_owner_app_id as
	// numbers, the rest as strings.
	IDAsDocumented
)

// PageConfig describes one Facebook Page.
type PageConfig struct {
	ID   string
	Name string
	// DefaultApp (id or name) is the Conversation Routing default app; "" means zero-config mode.
	DefaultApp string
	// Apps (ids or names) connected to the Page; empty means every configured app. The Page Inbox is
	// always connected.
	Apps []string
	// GetStartedPayload presets the Messenger Profile's get_started payload; "" leaves the
	// profile empty, as on a new Page (then Customer.GetStarted has no button to tap).
	GetStartedPayload string
	// Users known to the Page up front; other PSIDs are created when they first act.
	Users []UserConfig
	// HandoverAPIsDisabled reproduces the older CR answer "Handover Protocol APIs disabled for this
	// page" for take, request, extend and thread_owner (pass and release still work) (reference §0).
	HandoverAPIsDisabled bool
	// InboxHonoursRequests makes the inbox pass control to a requester. Off by default: the inbox
	// never answers requests (reference §10.11).
	InboxHonoursRequests bool
	// InboxDoneTarget (id or name) is where the agent's Done passes control. Default: the default
	// app; in zero-config mode Done releases the thread.
	InboxDoneTarget string
	// InstantReply and AwayMessage are Business Suite automations (§10.38): the instant reply
	// answers a person's first message, the away message the first message of each thread while
	// the Page is away (Inbox.SetAway). Both are echoes of the inbox app; neither takes control.
	InstantReply string
	AwayMessage  string
}

// AppConfig describes a Meta app connected to Pages (ours or a scripted other app).
type AppConfig struct {
	ID     string
	Name   string // readable name used in transcripts ("bot", "crm"); default "app-<id>"
	Secret string // signs this app's webhooks and its app token
	// CallbackURL preconfigures the app subscription (object page) without the verification GET;
	// empty means the app has none until POST /{app-id}/subscriptions. Apps without a callback
	// still "receive" events, recorded in Routed.
	CallbackURL string
	VerifyToken string
	// Fields for the preconfigured app- and Page-level subscriptions; empty means all known fields.
	Fields []string
	// NotSubscribedToPages: the preconfigured app is not yet subscribed at Page level (it must call
	// POST /{page-id}/subscribed_apps).
	NotSubscribedToPages bool
	// CanTake is the Page setting "allow this app to take control of conversations".
	CanTake bool
	// HumanAgent grants the HUMAN_AGENT tag (App Review feature).
	HumanAgent bool
	// NoProfileAccess: the app lacks Business Asset User Profile Access.
	NoProfileAccess bool
	// ExtraProfileFields grants locale, timezone and gender (per-field approval).
	ExtraProfileFields bool
	// RequireAppSecretProof is the app setting "Require App Secret": every call with this app's
	// tokens needs a correct appsecret_proof, else code 100 with Meta's message (§7.4).
	RequireAppSecretProof bool
	// StandardAccess: pages_messaging without Advanced Access (App Review); the app only hears
	// from and reaches people with a role on it (UserConfig.AppRoles): events of others are not
	// delivered to it and its sends and handover calls on their threads fail with 200/2018028
	// (§2.3, §4.3).
	StandardAccess bool
	// HonourRequests (scripted apps) passes control to any app that requests it.
	HonourRequests bool
}

// UserConfig describes a person messaging a Page.
type UserConfig struct {
	PSID      string
	FirstName string
	LastName  string
	// Locale picks the welcome screen's greeting, menu and ice breakers ("" = default).
	Locale string
	// NoProfile: an account created with a phone number, profile lookups fail with 2018218.
	NoProfile bool
	// Unavailable: the person blocked the Page or is gone; sends fail with 551.
	Unavailable bool
	// AppRoles are the apps (ids or names) on which the person has a role (admin, developer,
	// tester): Standard Access apps reach only them.
	AppRoles []string
}

// TokenConfig is a Page access token accepted for (App, Page).
type TokenConfig struct {
	App   string // id or name
	Page  string
	Token string
}

// maxBatchEvents: Graph webhooks batch up to 1000 updates per POST (§2.1).
const maxBatchEvents = 1000

// Behaviour switches the behaviours the reference marks as unsure. The zero value is the documented
// or most likely behaviour.
type Behaviour struct {
	// GiveUpAfterImmediateRetries drops a body after its first burst of attempts. The reference
	// only says Meta retries "immediately ... a few more times" yet disables the webhook after an
	// hour of failures, and generic Graph webhooks retry "with decreasing frequency" (§2.3); by
	// default a body keeps being retried with growing gaps (Options.RetryBackoff) over that hour.
	GiveUpAfterImmediateRetries bool
	// StandbyQuickReplyWithoutPayload drops quick_reply from standby messages. Docs are silent;
	// Meta's own sample reads the payload on standby, so it is delivered by default (§3.4).
	StandbyQuickReplyWithoutPayload bool
	// NoTakeWebhookFromIdle: a take from an idle thread sends no webhook (Instagram CR doc). By
	// default every other connected app gets take_thread_control with a null previous owner
	// (Messenger CR doc, §3.5).
	NoTakeWebhookFromIdle bool
	// RequestOnIdleDoesNothing: request_thread_control on an idle thread only succeeds. By default
	// control goes to the requester, which gets pass_thread_control (CR IG doc, §4.1).
	RequestOnIdleDoesNothing bool
	// IdleSendByAnyApp: any app may send on an idle thread and thereby claim it (old HOP doc). By
	// default only the default app may (CR doc, §4.2).
	IdleSendByAnyApp bool
	// InboxTakeWithoutWebhook: the inbox's implicit take (agent replies) sends no
	// take_thread_control; the previous owner only sees the echo and standby (§10.12).
	InboxTakeWithoutWebhook bool
	// StandbyPostbackPayload delivers a postback's payload on standby too (to the app that sent the
	// button). By default standby postbacks carry only the title: "payload is only delivered to the
	// app that sent the button" and standby samples show none (§3.3, §3.4).
	StandbyPostbackPayload bool
	// RequestWithDefaultApp accepts request_thread_control on a Page with a default app, as the
	// old Handover Protocol did for secondary receivers. By default Conversation Routing allows it
	// only in zero-config mode (§4.1 table, §10.10) and refuses it with code 10 otherwise.
	RequestWithDefaultApp bool
	// HandoverIgnoresUnavailable lets take and request succeed on the thread of a person who
	// blocked the Page. The reference lists 551 for a person "not available" without naming the
	// calls (§4.3); by default take and request are refused with it like sends (pass and release,
	// which give control away, still work).
	HandoverIgnoresUnavailable bool
	// PassWithoutPreviousOwner leaves previous_owner_app_id out of pass_thread_control (null):
	// pre-2021 payloads had no previous owner, and some apps' passes read that way (§3.5). By
	// default it names the previous owner, null only when the thread was idle.
	PassWithoutPreviousOwner bool
	// ThreadOwnerFlat answers thread_owner as {"thread_owner":{...}} the way older docs printed
	// it; real answers are nested under data[] (§4.1, §9.3 messaging-apis#347), the default.
	ThreadOwnerFlat bool
	// ZeroConfigSharedSend: in zero-config mode any app may send even when another app owns the
	// thread. By default exclusive control applies once a thread has an owner (§3.4 says "all may
	// reply" of zero-config threads, which are idle unless passed).
	ZeroConfigSharedSend bool
	// NoSHA1Signature stops sending the legacy X-Hub-Signature (sha1) header next to
	// X-Hub-Signature-256 (§2.2: unsure whether Meta still sends it).
	NoSHA1Signature bool
	// NoSlashEscaping writes "/" instead of Meta's "\/" in JSON bodies.
	NoSlashEscaping bool
	// StrictQuickReplyTitle rejects quick-reply titles over 20 characters with code 100; by
	// default they are truncated as the docs say (§5.3).
	StrictQuickReplyTitle bool
	// LenientMessagingType accepts message sends without messaging_type (documented as required).
	LenientMessagingType bool
	// RequireHTTPS refuses non-https callback URLs as Meta does (off so tests can use plain HTTP).
	RequireHTTPS bool
}

var digits = regexp.MustCompile(`^[0-9]+$`)

func (o *Options) applyDefaults() {
	if o.Clock == nil {
		o.Clock = realClock{}
	}
	if o.GraphVersion == "" {
		o.GraphVersion = "v25.0"
	}
	if o.DeliveryTimeout <= 0 {
		o.DeliveryTimeout = 5 * time.Second
	}
	if o.MaxDeliveryAttempts <= 0 {
		o.MaxDeliveryAttempts = 4
	}
	if o.RetryDelay < 0 {
		o.RetryDelay = 0
	} else if o.RetryDelay == 0 {
		o.RetryDelay = 50 * time.Millisecond
	}
	if len(o.RetryBackoff) == 0 {
		o.RetryBackoff = []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 15 * time.Minute}
	}
	if o.MaxBatchEvents <= 0 || o.MaxBatchEvents > maxBatchEvents {
		o.MaxBatchEvents = maxBatchEvents
	}
	if o.DisableAfter == 0 {
		o.DisableAfter = time.Hour
	}
	o.Limits.applyDefaults()
	if o.HangLimit <= 0 {
		o.HangLimit = 30 * time.Second
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{}
	}
}

func (o *Options) validate() error {
	if len(o.Pages) == 0 {
		return fmt.Errorf("simulator: at least one page is required")
	}
	for _, g := range o.RetryBackoff {
		if g <= 0 {
			return fmt.Errorf("simulator: every RetryBackoff gap must be positive")
		}
	}
	if o.Reorder < InOrder || o.Reorder > ReorderWithinUsers {
		return fmt.Errorf("simulator: unknown Reorder mode %d", o.Reorder)
	}
	ids := map[string]bool{InboxAppID: true}
	names := map[string]bool{InboxName: true, "customer": true, "platform": true}
	for _, a := range o.Apps {
		if a.ID == "" || a.Secret == "" {
			return fmt.Errorf("simulator: app %q needs an id and a secret", a.Name)
		}
		if ids[a.ID] {
			return fmt.Errorf("simulator: app id %s is used twice (or is the Page Inbox)", a.ID)
		}
		ids[a.ID] = true
		name := a.Name
		if name == "" {
			name = "app-" + a.ID
		}
		if names[name] {
			return fmt.Errorf("simulator: app name %q is reserved or used twice", name)
		}
		names[name] = true
	}
	pages := map[string]bool{}
	for _, p := range o.Pages {
		if p.ID == "" || pages[p.ID] {
			return fmt.Errorf("simulator: page id %q is empty or used twice", p.ID)
		}
		pages[p.ID] = true
	}
	return nil
}
