package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/messenger-operator/messenger-operator/internal/simulator"
)

// fileConfig is the JSON configuration file (-config). Durations are Go durations ("5s").
type fileConfig struct {
	Listen              string          `json:"listen"`
	GraphVersion        string          `json:"graph_version"`
	Clock               string          `json:"clock"` // offset (default), manual, real
	Start               string          `json:"start"` // RFC 3339 start of a manual clock
	DeliveryTimeout     string          `json:"delivery_timeout"`
	MaxDeliveryAttempts int             `json:"max_delivery_attempts"`
	RetryDelay          string          `json:"retry_delay"`
	BatchWindow         string          `json:"batch_window"`
	DisableAfter        string          `json:"disable_after"`
	RetryBackoff        []string        `json:"retry_backoff"` // gaps between late attempts ("1m", ...)
	MaxBatchEvents      int             `json:"max_batch_events"`
	Reorder             string          `json:"reorder"` // in_order (default), across_users, within_users
	Seed                int64           `json:"seed"`
	DuplicateEvery      int             `json:"duplicate_every"`
	DeliveryReceipts    bool            `json:"delivery_receipts"`
	Limits              limitsConfig    `json:"limits"`
	IDs                 string          `json:"ids"` // strings (default), numbers, documented
	Behaviour           behaviourConfig `json:"behaviour"`
	Pages               []pageConfig    `json:"pages"`
	Apps                []appConfig     `json:"apps"`
	Tokens              []tokenConfig   `json:"tokens"`
}

// limitsConfig: 0 keeps Meta's figure, -1 switches the limit off.
type limitsConfig struct {
	SendsPerSecond      int `json:"sends_per_second"`
	MediaSendsPerSecond int `json:"media_sends_per_second"`
	CallsPerEngagedUser int `json:"calls_per_engaged_user"`
}

type behaviourConfig struct {
	GiveUpAfterImmediateRetries     bool `json:"give_up_after_immediate_retries"`
	StandbyPostbackPayload          bool `json:"standby_postback_payload"`
	RequestWithDefaultApp           bool `json:"request_with_default_app"`
	HandoverIgnoresUnavailable      bool `json:"handover_ignores_unavailable"`
	ThreadOwnerFlat                 bool `json:"thread_owner_flat"`
	StandbyQuickReplyWithoutPayload bool `json:"standby_quick_reply_without_payload"`
	NoTakeWebhookFromIdle           bool `json:"no_take_webhook_from_idle"`
	RequestOnIdleDoesNothing        bool `json:"request_on_idle_does_nothing"`
	IdleSendByAnyApp                bool `json:"idle_send_by_any_app"`
	InboxTakeWithoutWebhook         bool `json:"inbox_take_without_webhook"`
	ZeroConfigSharedSend            bool `json:"zero_config_shared_send"`
	NoSHA1Signature                 bool `json:"no_sha1_signature"`
	NoSlashEscaping                 bool `json:"no_slash_escaping"`
	StrictQuickReplyTitle           bool `json:"strict_quick_reply_title"`
	LenientMessagingType            bool `json:"lenient_messaging_type"`
	RequireHTTPS                    bool `json:"require_https"`
}

type pageConfig struct {
	ID                   string       `json:"id"`
	Name                 string       `json:"name"`
	DefaultApp           string       `json:"default_app"` // app id or name; "" or "none" = zero-config
	Apps                 []string     `json:"apps"`
	GetStartedPayload    string       `json:"get_started_payload"`
	Users                []userConfig `json:"users"`
	HandoverAPIsDisabled bool         `json:"handover_apis_disabled"`
	InboxHonoursRequests bool         `json:"inbox_honours_requests"`
	InboxDoneTarget      string       `json:"inbox_done_target"`
	InstantReply         string       `json:"instant_reply"`
	AwayMessage          string       `json:"away_message"`
}

type userConfig struct {
	PSID        string   `json:"psid"`
	FirstName   string   `json:"first_name"`
	LastName    string   `json:"last_name"`
	NoProfile   bool     `json:"no_profile"`
	Unavailable bool     `json:"unavailable"`
	Locale      string   `json:"locale"`
	AppRoles    []string `json:"app_roles"`
}

type appConfig struct {
	ID                    string   `json:"id"`
	Name                  string   `json:"name"`
	Secret                string   `json:"secret"`
	CallbackURL           string   `json:"callback_url"`
	VerifyToken           string   `json:"verify_token"`
	Fields                []string `json:"fields"`
	NotSubscribedToPages  bool     `json:"not_subscribed_to_pages"`
	CanTake               bool     `json:"can_take"`
	HumanAgent            bool     `json:"human_agent"`
	NoProfileAccess       bool     `json:"no_profile_access"`
	ExtraProfileFields    bool     `json:"extra_profile_fields"`
	RequireAppSecretProof bool     `json:"require_appsecret_proof"`
	StandardAccess        bool     `json:"standard_access"`
	HonourRequests        bool     `json:"honour_requests"`
}

type tokenConfig struct {
	App   string `json:"app"`
	Page  string `json:"page"`
	Token string `json:"token"`
}

func loadConfig(path string) (*fileConfig, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	var c fileConfig
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		// The decoder's message names the field or offset, never the values (secrets stay out).
		return nil, fmt.Errorf("config %s: %v", path, err)
	}
	return &c, nil
}

func duration(name, v string, def time.Duration) (time.Duration, error) {
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a duration", name, v)
	}
	return d, nil
}

// options turns the configuration into simulator options.
func (c *fileConfig) options() (simulator.Options, error) {
	var o simulator.Options
	var err error
	o.GraphVersion = c.GraphVersion
	if o.DeliveryTimeout, err = duration("delivery_timeout", c.DeliveryTimeout, 0); err != nil {
		return o, err
	}
	if o.RetryDelay, err = duration("retry_delay", c.RetryDelay, 0); err != nil {
		return o, err
	}
	if o.BatchWindow, err = duration("batch_window", c.BatchWindow, 0); err != nil {
		return o, err
	}
	if o.DisableAfter, err = duration("disable_after", c.DisableAfter, 0); err != nil {
		return o, err
	}
	o.MaxDeliveryAttempts = c.MaxDeliveryAttempts
	for i, g := range c.RetryBackoff {
		d, err := duration(fmt.Sprintf("retry_backoff[%d]", i), g, 0)
		if err != nil {
			return o, err
		}
		o.RetryBackoff = append(o.RetryBackoff, d)
	}
	o.MaxBatchEvents, o.Seed, o.DuplicateEvery, o.DeliveryReceipts = c.MaxBatchEvents, c.Seed, c.DuplicateEvery, c.DeliveryReceipts
	switch c.Reorder {
	case "", "in_order":
	case "across_users":
		o.Reorder = simulator.ReorderAcrossUsers
	case "within_users":
		o.Reorder = simulator.ReorderWithinUsers
	default:
		return o, fmt.Errorf("reorder must be in_order, across_users or within_users, not %q", c.Reorder)
	}
	o.Limits = simulator.Limits{SendsPerSecond: c.Limits.SendsPerSecond, MediaSendsPerSecond: c.Limits.MediaSendsPerSecond,
		CallsPerEngagedUser: c.Limits.CallsPerEngagedUser}
	switch c.Clock {
	case "", "offset":
		o.Clock = &simulator.OffsetClock{}
	case "manual":
		start := time.Now()
		if c.Start != "" {
			if start, err = time.Parse(time.RFC3339, c.Start); err != nil {
				return o, fmt.Errorf("start: %q is not an RFC 3339 time", c.Start)
			}
		}
		o.Clock = simulator.NewManualClock(start)
	case "real":
	default:
		return o, fmt.Errorf("clock must be offset, manual or real, not %q", c.Clock)
	}
	switch c.IDs {
	case "", "strings":
	case "numbers":
		o.IDs = simulator.IDNumbers
	case "documented":
		o.IDs = simulator.IDAsDocumented
	default:
		return o, fmt.Errorf("ids must be strings, numbers or documented, not %q", c.IDs)
	}
	b := c.Behaviour
	o.Behaviour = simulator.Behaviour{
		GiveUpAfterImmediateRetries: b.GiveUpAfterImmediateRetries, StandbyPostbackPayload: b.StandbyPostbackPayload,
		RequestWithDefaultApp: b.RequestWithDefaultApp, HandoverIgnoresUnavailable: b.HandoverIgnoresUnavailable,
		ThreadOwnerFlat:                 b.ThreadOwnerFlat,
		StandbyQuickReplyWithoutPayload: b.StandbyQuickReplyWithoutPayload, NoTakeWebhookFromIdle: b.NoTakeWebhookFromIdle,
		RequestOnIdleDoesNothing: b.RequestOnIdleDoesNothing, IdleSendByAnyApp: b.IdleSendByAnyApp,
		InboxTakeWithoutWebhook: b.InboxTakeWithoutWebhook, ZeroConfigSharedSend: b.ZeroConfigSharedSend,
		NoSHA1Signature: b.NoSHA1Signature, NoSlashEscaping: b.NoSlashEscaping, StrictQuickReplyTitle: b.StrictQuickReplyTitle,
		LenientMessagingType: b.LenientMessagingType, RequireHTTPS: b.RequireHTTPS,
	}
	for _, p := range c.Pages {
		pc := simulator.PageConfig{ID: p.ID, Name: p.Name, DefaultApp: p.DefaultApp, Apps: p.Apps,
			GetStartedPayload: p.GetStartedPayload, HandoverAPIsDisabled: p.HandoverAPIsDisabled,
			InboxHonoursRequests: p.InboxHonoursRequests, InboxDoneTarget: p.InboxDoneTarget,
			InstantReply: p.InstantReply, AwayMessage: p.AwayMessage}
		if strings.EqualFold(pc.DefaultApp, "none") {
			pc.DefaultApp = ""
		}
		for _, u := range p.Users {
			pc.Users = append(pc.Users, simulator.UserConfig{PSID: u.PSID, FirstName: u.FirstName, LastName: u.LastName,
				NoProfile: u.NoProfile, Unavailable: u.Unavailable, Locale: u.Locale, AppRoles: u.AppRoles})
		}
		o.Pages = append(o.Pages, pc)
	}
	for _, a := range c.Apps {
		o.Apps = append(o.Apps, simulator.AppConfig{ID: a.ID, Name: a.Name, Secret: a.Secret, CallbackURL: a.CallbackURL,
			VerifyToken: a.VerifyToken, Fields: a.Fields, NotSubscribedToPages: a.NotSubscribedToPages, CanTake: a.CanTake,
			HumanAgent: a.HumanAgent, NoProfileAccess: a.NoProfileAccess, ExtraProfileFields: a.ExtraProfileFields,
			RequireAppSecretProof: a.RequireAppSecretProof, StandardAccess: a.StandardAccess, HonourRequests: a.HonourRequests})
	}
	for _, t := range c.Tokens {
		o.Tokens = append(o.Tokens, simulator.TokenConfig{App: t.App, Page: t.Page, Token: t.Token})
	}
	return o, nil
}
