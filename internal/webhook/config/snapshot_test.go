package config

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/handover"
)

func snapshot() Snapshot {
	return Snapshot{
		Page: &v1alpha1.MessengerPage{
			ObjectMeta: metav1.ObjectMeta{Name: "acme", Namespace: "shop", Generation: 3},
			Spec: v1alpha1.MessengerPageSpec{
				PageID:    "1000000000000001",
				AppID:     "1517776481860111",
				SecretRef: v1alpha1.SecretReference{Name: "creds"},
				PolicyRef: v1alpha1.LocalReference{Name: "support"},
			},
		},
		Policy: &v1alpha1.HandoverPolicy{ObjectMeta: metav1.ObjectMeta{Name: "support", Namespace: "shop", Generation: 5}},
		Secret: &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: "creds", Namespace: "shop"},
			Data: map[string][]byte{
				"pageAccessToken": []byte("token-one"),
				"appSecret":       []byte("secret-one"),
				"verifyToken":     []byte("verify-one"),
			},
		},
	}
}

func TestBuildAppliesTheCRDDefaults(t *testing.T) {
	s := snapshot()
	cfg := build(t, s)
	if cfg.GraphBaseURL != "https://graph.facebook.com" || cfg.GraphVersion != "v25.0" || cfg.MaxSendsPerSecond != 250 {
		t.Errorf("graph defaults: %q %q %d", cfg.GraphBaseURL, cfg.GraphVersion, cfg.MaxSendsPerSecond)
	}
	if cfg.Path != "/webhook" {
		t.Errorf("path without an ingress = %q", cfg.Path)
	}
	if cfg.PageID != "1000000000000001" || cfg.AppID != "1517776481860111" || cfg.Handover == nil || cfg.Handover.Policy == nil ||
		cfg.Handover.PageID != cfg.PageID || cfg.Handover.AppID != cfg.AppID {
		t.Errorf("ids or compiled page: %+v", cfg)
	}
	if cfg.Generation != "page/3 policy/5" {
		t.Errorf("generation = %q", cfg.Generation)
	}
	// An empty policy is the tutorial's conversation (the CRD's defaults): handover.Compile is
	// documented to treat empty fields so, which matters where no API server defaulted them.
	if got := welcomeText(t, cfg); got != v1alpha1.DefaultWelcomeText {
		t.Errorf("welcome of an empty policy = %q, want the CRD default", got)
	}
	if s.Page.Spec.GraphAPI.BaseURL != "" || s.Page.Spec.SecretRef.AppSecretKey != "" {
		t.Error("Build changed the snapshot's page")
	}

	// Explicit values win; 0 sends per second (no limit) is not "unset".
	s.Page.Spec.GraphAPI = v1alpha1.GraphAPISpec{BaseURL: "http://127.0.0.1:9", Version: "v24.0", MaxSendsPerSecond: ptr.To[int32](0)}
	s.Page.Spec.Ingress = &v1alpha1.IngressSpec{Host: "x.example"}
	s.Page.Spec.BusinessName = "ACME"
	cfg = build(t, s)
	if cfg.GraphBaseURL != "http://127.0.0.1:9" || cfg.GraphVersion != "v24.0" || cfg.MaxSendsPerSecond != 0 {
		t.Errorf("explicit graph settings: %q %q %d", cfg.GraphBaseURL, cfg.GraphVersion, cfg.MaxSendsPerSecond)
	}
	if cfg.Path != "/webhook" || cfg.Handover.BusinessName != "ACME" {
		t.Errorf("ingress without path: %q, business %q", cfg.Path, cfg.Handover.BusinessName)
	}
	s.Page.Spec.Ingress.Path = "/hooks/acme"
	if cfg = build(t, s); cfg.Path != "/hooks/acme" {
		t.Errorf("ingress path = %q", cfg.Path)
	}
}

func TestBuildReadsTheConfiguredSecretKeys(t *testing.T) {
	s := snapshot()
	s.Page.Spec.SecretRef = v1alpha1.SecretReference{Name: "creds", PageAccessTokenKey: "tok", AppSecretKey: "app", VerifyTokenKey: "vt"}
	s.Secret.Data = map[string][]byte{"tok": []byte("t2"), "app": []byte("a2"), "vt": []byte("v2")}
	cfg := build(t, s)
	if string(cfg.PageAccessToken) != "t2" || string(cfg.AppSecret) != "a2" || string(cfg.VerifyToken) != "v2" {
		t.Fatalf("custom keys: %q %q %q", cfg.PageAccessToken, cfg.AppSecret, cfg.VerifyToken)
	}
}

func TestBuildTakesTheGeneratedVerifyToken(t *testing.T) {
	s := snapshot()
	delete(s.Secret.Data, "verifyToken")
	_, err := Build(s)
	if err == nil || !strings.Contains(err.Error(), "no generated verify-token Secret is set") {
		t.Fatalf("no verify token anywhere: %v", err)
	}
	s.VerifyTokenSecretName = "acme-verify-token"
	_, err = Build(s)
	if err == nil || !strings.Contains(err.Error(), `generated verify token: Secret "acme-verify-token" not found`) {
		t.Fatalf("generated Secret missing: %v", err)
	}
	s.VerifyTokenSecret = &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "acme-verify-token", Namespace: "shop"},
		Data:       map[string][]byte{"verifyToken": []byte("generated")},
	}
	if cfg := build(t, s); string(cfg.VerifyToken) != "generated" {
		t.Fatalf("verify token = %q", cfg.VerifyToken)
	}
	// The page's status is not where the webhook learns the Secret's name.
	s.Page.Status.VerifyTokenSecret = "other"
	if cfg := build(t, s); string(cfg.VerifyToken) != "generated" {
		t.Fatalf("verify token = %q after a status edit", cfg.VerifyToken)
	}
	// The user's own token wins over a generated one.
	s.Secret.Data["verifyToken"] = []byte("mine")
	if cfg := build(t, s); string(cfg.VerifyToken) != "mine" {
		t.Fatalf("verify token = %q, want the user's", cfg.VerifyToken)
	}
	// A generated Secret named like the user's own is the user's: no other Secret is needed.
	delete(s.Secret.Data, "verifyToken")
	s.VerifyTokenSecretName, s.VerifyTokenSecret = "creds", nil
	if _, err := Build(s); err == nil || !strings.Contains(err.Error(), "no generated verify-token Secret is set") {
		t.Fatalf("generated Secret named as the user's: %v", err)
	}
}

func TestBuildErrorsNameTheProblemNotTheSecrets(t *testing.T) {
	cases := map[string]struct {
		edit func(*Snapshot)
		want string
	}{
		"no page":           {func(s *Snapshot) { s.Page = nil }, "MessengerPage was not found"},
		"no policy":         {func(s *Snapshot) { s.Policy = nil }, `spec.policyRef: HandoverPolicy "support" not found`},
		"stale policy":      {func(s *Snapshot) { s.Policy.Name = "old" }, `HandoverPolicy "support" not found`},
		"no secret":         {func(s *Snapshot) { s.Secret = nil }, `spec.secretRef: Secret "creds" not found`},
		"no token":          {func(s *Snapshot) { delete(s.Secret.Data, "pageAccessToken") }, `has no key "pageAccessToken"`},
		"empty app secret":  {func(s *Snapshot) { s.Secret.Data["appSecret"] = nil }, `has no key "appSecret"`},
		"bad page id":       {func(s *Snapshot) { s.Page.Spec.PageID = "12a" }, "spec.pageID"},
		"bad version":       {func(s *Snapshot) { s.Page.Spec.GraphAPI.Version = "25" }, "spec.graphAPI.version"},
		"bad base URL":      {func(s *Snapshot) { s.Page.Spec.GraphAPI.BaseURL = "ftp://x" }, "spec.graphAPI.baseURL"},
		"too many sends":    {func(s *Snapshot) { s.Page.Spec.GraphAPI.MaxSendsPerSecond = ptr.To[int32](301) }, "maxSendsPerSecond"},
		"bad path":          {func(s *Snapshot) { s.Page.Spec.Ingress = &v1alpha1.IngressSpec{Path: "no-slash"} }, "spec.ingress.path"},
		"bad pattern":       {func(s *Snapshot) { s.Policy.Spec.Handoff.Triggers.Patterns = []string{"(unclosed"} }, "spec.handoff.triggers.patterns[0]"},
		"unknown time zone": {func(s *Snapshot) { s.Policy.Spec.BusinessHours = badHours() }, "Mars/Olympus"},
		"greeting too long": {func(s *Snapshot) {
			s.Page.Spec.Profile = &v1alpha1.MessengerProfile{Greetings: []v1alpha1.Greeting{{Locale: "default", Text: strings.Repeat("x", 161)}}}
		}, "spec.profile.greetings[0].text: a greeting's text is at most 160 characters"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			s := snapshot()
			c.edit(&s)
			_, err := Build(s)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			if !strings.Contains(msg, c.want) {
				t.Errorf("error %q does not contain %q", msg, c.want)
			}
			for _, secret := range []string{"token-one", "secret-one", "verify-one"} {
				if strings.Contains(msg, secret) {
					t.Errorf("error %q reveals a secret", msg)
				}
			}
		})
	}
}

func badHours() *v1alpha1.BusinessHours {
	return &v1alpha1.BusinessHours{
		TimeZone: "Mars/Olympus",
		Windows:  []v1alpha1.HoursWindow{{Day: "Monday", Start: "09:00", End: "17:00"}},
	}
}

// The compiled page knows the profile's titles: a menu tap that arrives on standby without its
// payload (the inbox owns the thread) is matched by its title.
func TestBuildMatchesProfileTitlesOnStandby(t *testing.T) {
	s := snapshot()
	s.Policy.Spec.TakeBack.Triggers.PostbackPayloads = []string{"BOT"}
	s.Page.Spec.Profile = &v1alpha1.MessengerProfile{
		GetStarted: &v1alpha1.GetStarted{Payload: "GET_STARTED"},
		PersistentMenu: []v1alpha1.PersistentMenu{{Locale: "default", Items: []v1alpha1.MenuItem{
			{Postback: &v1alpha1.PostbackItem{Title: "Back to the bot, please", Payload: "BOT"}},
		}}},
	}
	now := time.Unix(1_700_000_000, 0)
	tap := handover.Event{Kind: handover.KindPostback, Channel: handover.Standby, PageID: s.Page.Spec.PageID,
		PSID: "2000000000000002", Timestamp: now, MID: "m_1", PostbackTitle: "Back to the bot, please"}
	away := handover.Thread{Owner: handover.OwnerOther, OwnerAppID: v1alpha1.PageInboxAppID, PassedAt: now.Add(-time.Minute)}
	takes := func(cfg Page) bool {
		for _, a := range handover.Decide(cfg.Handover, tap, away, now).Actions {
			if a.Kind == handover.ActTake {
				return true
			}
		}
		return false
	}
	if !takes(build(t, s)) {
		t.Fatal("the menu's title on standby did not take the thread back")
	}
	s.Page.Spec.Profile = nil
	if takes(build(t, s)) {
		t.Fatal("without the profile, the title took the thread back")
	}
}
