package v1alpha1

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func sampleProfile() *MessengerProfile {
	return &MessengerProfile{
		GetStarted: &GetStarted{Payload: "GET_STARTED"},
		Greetings:  []Greeting{{Locale: "default", Text: "Hi {{user_first_name}}"}},
		IceBreakers: []IceBreakers{{Locale: "default", Questions: []IceBreaker{
			{Question: "Where is my order?", Payload: "ORDER"},
			{Question: "Can I speak to someone?", Payload: "HUMAN"},
		}}},
		PersistentMenu: []PersistentMenu{{Locale: "default", Items: []MenuItem{
			{Postback: &PostbackItem{Title: "Talk to a person", Payload: "HUMAN"}},
			{Postback: &PostbackItem{Title: "Start over", Payload: "GET_STARTED"}},
			{WebURL: &WebURLItem{Title: "Shop", URL: "https://shop.example.com"}},
		}}},
		WhitelistedDomains: []string{"https://shop.example.com"},
	}
}

// Properties is the Graph API's form of the spec (reference §7.3): ice breakers in the
// localised form, menu items typed, composer_input_disabled always present.
func TestProfileProperties(t *testing.T) {
	b, err := json.Marshal(sampleProfile().Properties())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"get_started":{"payload":"GET_STARTED"},"greeting":[{"locale":"default","text":"Hi {{user_first_name}}"}],` +
		`"ice_breakers":[{"call_to_actions":[{"payload":"ORDER","question":"Where is my order?"},{"payload":"HUMAN","question":"Can I speak to someone?"}],"locale":"default"}],` +
		`"persistent_menu":[{"call_to_actions":[{"payload":"HUMAN","title":"Talk to a person","type":"postback"},{"payload":"GET_STARTED","title":"Start over","type":"postback"},{"title":"Shop","type":"web_url","url":"https://shop.example.com"}],"composer_input_disabled":false,"locale":"default"}],` +
		`"whitelisted_domains":["https://shop.example.com"]}`
	if string(b) != want {
		t.Errorf("properties:\n got %s\nwant %s", b, want)
	}
	var none *MessengerProfile
	if len(none.Properties()) != 0 || len((&MessengerProfile{Prune: true}).Properties()) != 0 {
		t.Error("an empty profile has properties")
	}
}

// UnhandledPayloads: payloads of items and ice breakers that no postbackPayloads trigger names,
// the Get Started payload excepted, each once.
func TestProfileUnhandledPayloads(t *testing.T) {
	p := sampleProfile()
	if got := p.UnhandledPayloads(nil); !reflect.DeepEqual(got, []string{"HUMAN", "ORDER"}) {
		t.Errorf("without a policy: %q", got)
	}
	pol := DefaultHandoverPolicySpec()
	pol.Handoff.Triggers.PostbackPayloads = []string{"HUMAN"}
	if got := p.UnhandledPayloads(&pol); !reflect.DeepEqual(got, []string{"ORDER"}) {
		t.Errorf("HUMAN handled: %q", got)
	}
	pol.TakeBack.Triggers.PostbackPayloads = []string{"ORDER"}
	if got := p.UnhandledPayloads(&pol); len(got) != 0 {
		t.Errorf("all handled: %q", got)
	}
	var none *MessengerProfile
	if got := none.UnhandledPayloads(&pol); len(got) != 0 {
		t.Errorf("no profile: %q", got)
	}
}

// Validate says what the schema says, for pages read from a directory.
func TestProfileValidate(t *testing.T) {
	if err := sampleProfile().Validate(); err != nil {
		t.Fatalf("sample: %v", err)
	}
	for _, c := range []struct {
		name  string
		edit  func(p *MessengerProfile)
		field string
		want  string
	}{
		{"greeting too long", func(p *MessengerProfile) { p.Greetings[0].Text = strings.Repeat("é", 161) }, "spec.profile.greetings[0].text", "160"},
		{"no default greeting", func(p *MessengerProfile) { p.Greetings[0].Locale = "en_US" }, "spec.profile.greetings", "locale default"},
		{"locale twice", func(p *MessengerProfile) { p.Greetings = append(p.Greetings, p.Greetings[0]) }, "spec.profile.greetings[1].locale", "twice"},
		{"five ice breakers", func(p *MessengerProfile) {
			q := p.IceBreakers[0].Questions[0]
			p.IceBreakers[0].Questions = []IceBreaker{q, q, q, q, q}
		}, "spec.profile.iceBreakers[0].questions", "4"},
		{"menu without get started", func(p *MessengerProfile) { p.GetStarted = nil }, "spec.profile.persistentMenu", "needs getStarted"},
		{"21 menu items", func(p *MessengerProfile) {
			for len(p.PersistentMenu[0].Items) < 21 {
				p.PersistentMenu[0].Items = append(p.PersistentMenu[0].Items, p.PersistentMenu[0].Items[0])
			}
		}, "spec.profile.persistentMenu[0].items", "20"},
		{"menu title too long", func(p *MessengerProfile) { p.PersistentMenu[0].Items[0].Postback.Title = strings.Repeat("x", 31) }, "spec.profile.persistentMenu[0].items[0]", "30"},
		{"item of both kinds", func(p *MessengerProfile) {
			p.PersistentMenu[0].Items[2].Postback = &PostbackItem{Title: "a", Payload: "a"}
		}, "spec.profile.persistentMenu[0].items[2]", "exactly one"},
		{"http domain", func(p *MessengerProfile) { p.WhitelistedDomains[0] = "http://shop.example.com" }, "spec.profile.whitelistedDomains[0]", "https origins"},
		{"empty payload", func(p *MessengerProfile) { p.GetStarted.Payload = "" }, "spec.profile.getStarted.payload", "1000"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := sampleProfile()
			c.edit(p)
			spec := minimalPage()
			spec.Profile = p
			var fe FieldError
			if err := spec.Validate(); !errors.As(err, &fe) || fe.Field != c.field || !strings.Contains(fe.Detail, c.want) {
				t.Errorf("got %v, want %s: ...%s...", err, c.field, c.want)
			}
		})
	}
}
