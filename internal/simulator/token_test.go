package simulator

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

func TestTokenRevokeAndReissue(t *testing.T) {
	e := newEnv(t, func(o *Options) {
		o.Tokens = []TokenConfig{{App: botName, Page: pageID, Token: "EAAknownbottoken"}}
	})
	e.say("hi")
	send := func(tok string) graphResp {
		return e.call("POST", "/v25.0/me/messages", tok, map[string]any{"recipient": map[string]any{"id": psid},
			"messaging_type": "RESPONSE", "message": map[string]any{"text": "hello"}})
	}
	e.wantOK(send("EAAknownbottoken"))
	if err := e.sim.RevokeToken("EAAknownbottoken"); err != nil {
		t.Fatal(err)
	}
	g := send("EAAknownbottoken")
	e.wantErr(g, 190, 460)
	if g.body["error"].(map[string]any)["type"] != "OAuthException" {
		t.Fatalf("type = %s", g.raw)
	}
	// Every endpoint refuses it.
	e.wantErr(e.call("POST", "/v25.0/me/pass_thread_control", "EAAknownbottoken", map[string]any{"recipient": map[string]any{"id": psid}}), 190, 460)
	e.wantErr(e.call("GET", "/v25.0/"+psid+"?fields=first_name", "EAAknownbottoken", nil), 190, 460)
	// Another app's token keeps working; a new token for the bot works.
	e.wantOK(e.call("GET", "/v25.0/me/thread_owner?recipient="+psid, e.token(crmName), nil))
	tok, err := e.sim.IssueToken(botName, pageID)
	if err != nil {
		t.Fatal(err)
	}
	e.wantOK(send(tok))
	n, _ := e.sim.RevokeTokens(botName, pageID)
	if n != 1 {
		t.Fatalf("revoked %d, want 1 (the new one; the old was already revoked)", n)
	}
	e.wantErr(send(tok), 190, 460)
	// Garbage and missing tokens.
	e.wantErr(send("garbage"), 190, 0)
	e.wantErr(send(""), 104, 0)
}

func TestAppSecretProof(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Apps[0].RequireAppSecretProof = true })
	e.say("hi")
	tok := e.token(botName)
	e.wantErr(e.call("GET", "/v25.0/me", tok, nil), 100, 0)
	mac := hmac.New(sha256.New, []byte(botSec))
	mac.Write([]byte(tok))
	e.wantOK(e.call("GET", "/v25.0/me?appsecret_proof="+hex.EncodeToString(mac.Sum(nil)), tok, nil))
	e.wantErr(e.call("GET", "/v25.0/me?appsecret_proof=00", tok, nil), 100, 0)
	// Meta's message, for calls without a proof (§7.4).
	if g := e.send(botName, "hello"); !strings.Contains(string(g.raw), "API calls from the server require an appsecret_proof argument") {
		t.Fatalf("no-proof answer = %s", g.raw)
	}
	// The setting turned off at runtime: calls without a proof pass; a wrong proof still fails.
	off := false
	if err := e.sim.ChangeApp(botName, AppChange{RequireAppSecretProof: &off}); err != nil {
		t.Fatal(err)
	}
	e.wantOK(e.call("GET", "/v25.0/me", tok, nil))
	e.wantErr(e.call("GET", "/v25.0/me?appsecret_proof=00", tok, nil), 100, 0)
	on := true
	_ = e.sim.ChangeApp(botName, AppChange{RequireAppSecretProof: &on})
	e.wantErr(e.call("GET", "/v25.0/me", tok, nil), 100, 0)
	if err := e.sim.ChangeApp(InboxName, AppChange{}); err == nil {
		t.Fatal("changed the Page Inbox's settings")
	}
}

func TestPageNode(t *testing.T) {
	e := newEnv(t, nil)
	g := e.call("GET", "/v25.0/me?fields=messaging_feature_status,name", e.token(botName), nil)
	e.wantOK(g)
	if g.body["id"] != pageID || g.body["name"] != "Shop" || g.body["messaging_feature_status"].(map[string]any)["msgr_multi_app"] != true {
		t.Fatalf("page = %s", g.raw)
	}
	// Another page's id with this page's token.
	e.wantErr(e.call("POST", "/v25.0/999/messages", e.token(botName), map[string]any{}), 100, 33)
}

func TestSetAppSecretSignsLaterWebhooksWithTheNewSecret(t *testing.T) {
	e := newEnv(t, nil)
	e.say("before")
	if err := e.sim.SetAppSecret(botName, "rotated-secret"); err != nil {
		t.Fatal(err)
	}
	e.say("after")
	posts := e.bot.allPosts()
	signed := func(secret string, body []byte) string {
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		return "sha256=" + hex.EncodeToString(mac.Sum(nil))
	}
	last := posts[len(posts)-1]
	if posts[0].sig256 != signed(botSec, posts[0].body) || last.sig256 != signed("rotated-secret", last.body) {
		t.Fatalf("want the first POST signed with the old secret and the later ones with the new one")
	}
	// App tokens follow the secret.
	e.wantErr(e.call("GET", "/v25.0/"+botID+"/subscriptions", botID+"|"+botSec, nil), 190, 0)
	e.wantOK(e.call("GET", "/v25.0/"+botID+"/subscriptions", botID+"|rotated-secret", nil))
	if err := e.sim.SetAppSecret("nobody", "x"); err == nil {
		t.Fatal("SetAppSecret of an unknown app succeeded")
	}
	if err := e.sim.SetAppSecret(botName, ""); err == nil {
		t.Fatal("an empty secret was accepted")
	}
}
