package simulator

import (
	"encoding/json"
	"net/url"
	"testing"
	"time"
)

func (e *env) debugToken(input string) map[string]any {
	e.t.Helper()
	g := e.call("GET", "/v25.0/debug_token?input_token="+url.QueryEscape(input), botID+"|"+botSec, nil)
	e.wantOK(g)
	d, _ := g.body["data"].(map[string]any)
	if d == nil {
		e.t.Fatalf("debug_token answer = %s", g.raw)
	}
	return d
}

func TestDebugToken(t *testing.T) {
	e := newEnv(t, nil)
	tok := e.token(botName)
	d := e.debugToken(tok)
	if d["is_valid"] != true || d["type"] != "PAGE" || d["app_id"] != botID || d["profile_id"] != pageID ||
		d["expires_at"] != json.Number("0") || d["application"] != botName {
		t.Fatalf("debug_token = %v", d)
	}
	if n, _ := d["data_access_expires_at"].(json.Number).Int64(); n != t0.Add(dataAccessPeriod).Unix() {
		t.Fatalf("data_access_expires_at = %v", d["data_access_expires_at"])
	}
	scopes := d["scopes"].([]any)
	if len(scopes) != 3 || scopes[0] != "pages_messaging" {
		t.Fatalf("scopes = %v", scopes)
	}
	gs := d["granular_scopes"].([]any)[0].(map[string]any)
	if gs["scope"] != "pages_messaging" || gs["target_ids"].([]any)[0] != pageID {
		t.Fatalf("granular scopes = %v", d["granular_scopes"])
	}
	// The page token cannot debug itself here: an app token is needed.
	e.wantErr(e.call("GET", "/v25.0/debug_token?input_token="+url.QueryEscape(tok), tok, nil), 15, 0)
	e.wantErr(e.call("GET", "/v25.0/debug_token", botID+"|"+botSec, nil), 100, 0)

	// Expiry and scopes set by the test: the token reports them and calls follow them.
	exp := t0.Add(8 * 24 * time.Hour)
	if n, err := e.sim.ChangeTokens(tok, "", "", TokenChange{ExpiresAt: &exp, Scopes: []string{"pages_show_list"}}); err != nil || n != 1 {
		t.Fatalf("ChangeTokens = %d, %v", n, err)
	}
	d = e.debugToken(tok)
	if d["expires_at"] != json.Number(jsonInt(exp.Unix())) || len(d["scopes"].([]any)) != 1 {
		t.Fatalf("after the change = %v", d)
	}
	e.say("hi")
	g := e.send(botName, "hello")
	if c, _ := g.code(); g.status != 403 || c != 230 {
		t.Fatalf("send without pages_messaging = %d %s", g.status, g.raw)
	}
	g = e.call("GET", "/v25.0/me/subscribed_apps", tok, nil)
	if c, _ := g.code(); c != 200 {
		t.Fatalf("subscribed_apps without pages_manage_metadata = %s", g.raw)
	}
	e.wantOK(e.call("GET", "/v25.0/me?fields=name", tok, nil))
	// Past the expiry: 190/463 on every call, is_valid false with the error.
	e.advance(8 * 24 * time.Hour)
	e.wantErr(e.call("GET", "/v25.0/me", tok, nil), 190, 463)
	d = e.debugToken(tok)
	if d["is_valid"] != false || d["error"].(map[string]any)["code"] != json.Number("190") || d["error"].(map[string]any)["subcode"] != json.Number("463") {
		t.Fatalf("expired = %v", d)
	}
	// Revoked: is_valid false with 190/460.
	tok2, _ := e.sim.IssueToken(botName, pageID)
	if err := e.sim.RevokeToken(tok2); err != nil {
		t.Fatal(err)
	}
	d = e.debugToken(tok2)
	if d["is_valid"] != false || d["error"].(map[string]any)["subcode"] != json.Number("460") {
		t.Fatalf("revoked = %v", d)
	}
	// Garbage, and another app's token: invalid, nothing told.
	if d = e.debugToken("garbage"); d["is_valid"] != false || d["error"] == nil || d["app_id"] != nil {
		t.Fatalf("garbage = %v", d)
	}
	if d = e.debugToken(e.token(crmName)); d["is_valid"] != false || d["app_id"] != nil {
		t.Fatalf("another app's token = %v", d)
	}
	if d = e.debugToken(botID + "|" + botSec); d["type"] != "APP" || d["is_valid"] != true {
		t.Fatalf("app token = %v", d)
	}
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }
