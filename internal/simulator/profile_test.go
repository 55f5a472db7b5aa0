package simulator

import (
	"strings"
	"testing"
)

func TestUserProfile(t *testing.T) {
	e := newEnv(t, func(o *Options) {
		o.Pages[0].Users = append(o.Pages[0].Users, UserConfig{PSID: psid2, NoProfile: true})
		o.Apps[1].NoProfileAccess = true
	})
	get := func(app, id, fields string) graphResp {
		return e.call("GET", "/v25.0/"+id+"?fields="+fields, e.token(app), nil)
	}
	// Before the person wrote, no profile (opt-in).
	e.wantErr(get(botName, psid, "first_name"), 100, 2018218)
	e.say("hi")
	g := get(botName, psid, "first_name,last_name,profile_pic")
	e.wantOK(g)
	if g.body["first_name"] != "Ada" || g.body["last_name"] != "Lovelace" || g.body["id"] != psid ||
		!strings.HasPrefix(g.body["profile_pic"].(string), "https://") {
		t.Fatalf("profile = %s", g.raw)
	}
	// Fields needing extra approval, unknown fields.
	e.wantErr(get(botName, psid, "first_name,locale"), 10, 2018247)
	e.wantErr(get(botName, psid, "shoe_size"), 100, 0)
	// An app without Business Asset User Profile Access.
	e.wantErr(get(crmName, psid, "first_name"), 10, 0)
	// A phone-number account has no profile even after writing.
	if err := e.sim.Customer(pageID, psid2).Say("hello"); err != nil {
		t.Fatal(err)
	}
	e.wantErr(get(botName, psid2, "first_name"), 100, 2018218)
	// A PSID the Page does not know.
	e.wantErr(get(botName, "12345", "first_name"), 100, 33)
}
