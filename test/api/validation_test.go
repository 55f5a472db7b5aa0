package api

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

const goodPage = `apiVersion: messenger.handover.dev/v1alpha1
kind: MessengerPage
metadata: {name: %s}
spec:
  pageID: "1000000000000002"
  appID: "42"
  secretRef: {name: creds}
  policyRef: {name: support}
%s`

const goodPolicy = `apiVersion: messenger.handover.dev/v1alpha1
kind: HandoverPolicy
metadata: {name: %s}
spec:
%s`

// Every bad object is rejected at apply with a message that names the field and says why.
func TestInvalidObjectsAreRejected(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	qrs := func(n int) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "\n      - {title: t%d, payload: p%d}", i, i)
		}
		return b.String()
	}
	cases := []struct {
		name string
		page bool   // a MessengerPage (else a HandoverPolicy)
		spec string // extra spec lines (pages) or the whole spec (policies)
		drop string // a line removed from the good page
		want []string
	}{
		{name: "valid page (control)", page: true, spec: "  graphAPI: {}\n", want: nil},
		{name: "page id missing", page: true, drop: `pageID: "1000000000000002"`, want: []string{"spec.pageID", "Required"}},
		{name: "page id not digits", page: true, drop: `pageID: "1000000000000002"`, spec: "  pageID: page-1\n", want: []string{"spec.pageID", "must be a Meta id: 1 to 32 digits"}},
		{name: "neither app id nor app ref", page: true, drop: `appID: "42"`, want: []string{"set exactly one of spec.appID", "spec.appRef"}},
		{name: "both app id and app ref", page: true, spec: "  appRef: {name: acme}\n", want: []string{"set exactly one of spec.appID", "spec.appRef"}},
		{name: "secretRef missing", page: true, drop: "secretRef: {name: creds}", want: []string{"spec.secretRef", "Required"}},
		{name: "policyRef missing", page: true, drop: "policyRef: {name: support}", want: []string{"spec.policyRef", "Required"}},
		{name: "secret name not a DNS name", page: true, drop: "secretRef: {name: creds}", spec: "  secretRef: {name: Creds_1}\n", want: []string{"spec.secretRef.name", "must be an object name"}},
		{name: "graph version", page: true, spec: "  graphAPI: {version: \"25\"}\n", want: []string{"spec.graphAPI.version", "must be a Graph API version such as v25.0"}},
		{name: "graph base URL scheme", page: true, spec: "  graphAPI: {baseURL: \"ftp://graph\"}\n", want: []string{"spec.graphAPI.baseURL"}},
		{name: "sends above Meta's limit", page: true, spec: "  graphAPI: {maxSendsPerSecond: 301}\n", want: []string{"spec.graphAPI.maxSendsPerSecond", "300"}},
		{name: "negative sends", page: true, spec: "  graphAPI: {maxSendsPerSecond: -1}\n", want: []string{"spec.graphAPI.maxSendsPerSecond"}},
		{name: "two replicas", page: true, spec: "  webhook: {replicas: 2}\n", want: []string{"spec.webhook.replicas", "replicas > 1 needs spec.webhook.store.redis"}},
		{name: "two replicas with Redis (control)", page: true, spec: "  webhook: {replicas: 2, store: {redis: {urlSecretRef: {name: redis, key: url}}}}\n"},
		{name: "Redis without a key", page: true, spec: "  webhook: {store: {redis: {urlSecretRef: {name: redis}}}}\n", want: []string{"spec.webhook.store.redis.urlSecretRef.key", "Required"}},
		{name: "Redis key prefix", page: true, spec: "  webhook: {store: {redis: {urlSecretRef: {name: redis, key: url}, keyPrefix: \"a b\"}}}\n", want: []string{"spec.webhook.store.redis.keyPrefix"}},
		{name: "ingress host", page: true, spec: "  ingress: {host: \"Not A Host\"}\n", want: []string{"spec.ingress.host", "fully qualified lower-case DNS name"}},
		{name: "ingress path", page: true, spec: "  ingress: {host: a.example.com, path: webhook}\n", want: []string{"spec.ingress.path", "starting with /"}},
		{name: "issuer kind", page: true, spec: "  ingress: {host: a.example.com, tls: {secretName: t, issuer: {name: le, kind: Vault}}}\n", want: []string{"spec.ingress.tls.issuer.kind", "Issuer"}},
		{name: "tls without secret", page: true, spec: "  ingress: {host: a.example.com, tls: {issuer: {name: le}}}\n", want: []string{"spec.ingress.tls.secretName", "Required"}},
		{name: "pod monitor (control)", page: true, spec: "  monitoring: {podMonitor: {interval: 1m30s, labels: {release: kps}}}\n", want: nil},
		{name: "pod monitor interval", page: true, spec: "  monitoring: {podMonitor: {interval: 30 seconds}}\n", want: []string{"spec.monitoring.podMonitor.interval", "Prometheus duration such as 30s"}},
		{name: "business name too long", page: true, spec: "  businessName: " + long(101) + "\n", want: []string{"spec.businessName", "100"}},
		{name: "profile (control)", page: true, spec: "  profile:\n    getStarted: {payload: start}\n    greetings: [{locale: default, text: Hi}]\n    iceBreakers: [{locale: default, questions: [{question: \"Where is my order?\", payload: order}]}]\n    persistentMenu: [{locale: default, items: [{postback: {title: Talk to a person, payload: human}}, {webURL: {title: Shop, url: \"https://shop.example.com\"}}]}]\n    whitelistedDomains: [\"https://shop.example.com\"]\n", want: nil},
		{name: "greeting too long", page: true, spec: "  profile: {greetings: [{locale: default, text: " + long(161) + "}]}\n", want: []string{"spec.profile.greetings[0].text", "at most 160 characters"}},
		{name: "greetings without default", page: true, spec: "  profile: {greetings: [{locale: en_US, text: Hi}]}\n", want: []string{"spec.profile.greetings", "locale default"}},
		{name: "greeting locale", page: true, spec: "  profile: {greetings: [{locale: english, text: Hi}]}\n", want: []string{"spec.profile.greetings[0].locale"}},
		{name: "five ice breakers", page: true, spec: "  profile: {iceBreakers: [{locale: default, questions: [" + strings.Repeat("{question: q, payload: p}, ", 4) + "{question: q, payload: p}]}]}\n", want: []string{"spec.profile.iceBreakers[0].questions", "at most 4 questions"}},
		{name: "ice breaker question too long", page: true, spec: "  profile: {iceBreakers: [{locale: default, questions: [{question: " + long(81) + ", payload: p}]}]}\n", want: []string{"spec.profile.iceBreakers[0].questions[0].question", "80"}},
		{name: "menu without get started", page: true, spec: "  profile: {persistentMenu: [{locale: default, items: [{postback: {title: a, payload: a}}]}]}\n", want: []string{"spec.profile", "persistentMenu needs getStarted"}},
		{name: "twenty-one menu items", page: true, spec: "  profile: {getStarted: {payload: s}, persistentMenu: [{locale: default, items: [" + strings.Repeat("{postback: {title: a, payload: a}}, ", 20) + "{postback: {title: a, payload: a}}]}]}\n", want: []string{"spec.profile.persistentMenu[0].items", "at most 20 items"}},
		{name: "menu title too long", page: true, spec: "  profile: {getStarted: {payload: s}, persistentMenu: [{locale: default, items: [{postback: {title: " + long(31) + ", payload: a}}]}]}\n", want: []string{"spec.profile.persistentMenu[0].items[0].postback.title", "30 characters"}},
		{name: "menu item both kinds", page: true, spec: "  profile: {getStarted: {payload: s}, persistentMenu: [{locale: default, items: [{postback: {title: a, payload: a}, webURL: {title: b, url: \"https://b.example\"}}]}]}\n", want: []string{"spec.profile.persistentMenu[0].items[0]", "exactly one of postback and webURL"}},
		{name: "menu without default", page: true, spec: "  profile: {getStarted: {payload: s}, persistentMenu: [{locale: fr_FR, items: [{postback: {title: a, payload: a}}]}]}\n", want: []string{"spec.profile.persistentMenu", "locale default"}},
		{name: "whitelisted domain over http", page: true, spec: "  profile: {whitelistedDomains: [\"http://shop.example.com\"]}\n", want: []string{"spec.profile.whitelistedDomains[0]", "https origins"}},
		{name: "whitelisted domain with a path", page: true, spec: "  profile: {whitelistedDomains: [\"https://shop.example.com/cart\"]}\n", want: []string{"spec.profile.whitelistedDomains[0]", "https origins"}},
		{name: "get started payload too long", page: true, spec: "  profile: {getStarted: {payload: " + long(1001) + "}}\n", want: []string{"spec.profile.getStarted.payload", "1000"}},

		{name: "text too long", spec: "  welcome: {text: " + long(2000) + "}", want: []string{"spec.welcome.text", "1999"}},
		{name: "fourteen quick replies", spec: "  welcome:\n    text: hi\n    quickReplies:" + qrs(14), want: []string{"spec.welcome.quickReplies", "13"}},
		{name: "quick reply title", spec: "  welcome: {text: hi, quickReplies: [{title: " + long(21) + ", payload: p}]}", want: []string{"spec.welcome.quickReplies[0].title", "20"}},
		{name: "quick reply payload", spec: "  welcome: {text: hi, quickReplies: [{title: t, payload: " + long(1001) + "}]}", want: []string{"spec.welcome.quickReplies[0].payload", "1000"}},
		{name: "quick reply without payload", spec: "  welcome: {text: hi, quickReplies: [{title: t}]}", want: []string{"spec.welcome.quickReplies[0].payload", "Required"}},
		{name: "message without text", spec: "  done: {quickReplies: [{title: t, payload: p}]}", want: []string{"spec.done", "text is required"}},
		{name: "four buttons", spec: "  welcome: {text: hi, buttons: {text: pick, buttons: [{type: postback, title: a, payload: a}, {type: postback, title: b, payload: b}, {type: postback, title: c, payload: c}, {type: postback, title: d, payload: d}]}}", want: []string{"spec.welcome.buttons.buttons", "3"}},
		{name: "no buttons", spec: "  welcome: {text: hi, buttons: {text: pick, buttons: []}}", want: []string{"spec.welcome.buttons.buttons"}},
		{name: "button text", spec: "  welcome: {text: hi, buttons: {text: " + long(641) + ", buttons: [{type: postback, title: a, payload: a}]}}", want: []string{"spec.welcome.buttons.text", "640"}},
		{name: "postback without payload", spec: "  welcome: {text: hi, buttons: {text: pick, buttons: [{type: postback, title: a}]}}", want: []string{"spec.welcome.buttons.buttons[0]", "needs a payload"}},
		{name: "url button without https", spec: "  welcome: {text: hi, buttons: {text: pick, buttons: [{type: web_url, title: a, url: \"http://x\"}]}}", want: []string{"spec.welcome.buttons.buttons[0].url", "must be an https:// URL"}},
		{name: "button type", spec: "  welcome: {text: hi, buttons: {text: pick, buttons: [{type: call, title: a}]}}", want: []string{"spec.welcome.buttons.buttons[0].type"}},
		{name: "eleven cards", spec: "  welcome:\n    text: hi\n    cards:" + strings.Repeat("\n      - {title: c, subtitle: s}", 11), want: []string{"spec.welcome.cards", "10"}},
		{name: "card title", spec: "  welcome: {text: hi, cards: [{title: " + long(81) + ", subtitle: s}]}", want: []string{"spec.welcome.cards[0].title", "80"}},
		{name: "card subtitle", spec: "  welcome: {text: hi, cards: [{title: t, subtitle: " + long(81) + "}]}", want: []string{"spec.welcome.cards[0].subtitle", "80"}},
		{name: "card with only a title", spec: "  welcome: {text: hi, cards: [{title: t}]}", want: []string{"spec.welcome.cards[0]", "needs a subtitle"}},
		{name: "buttons and cards", spec: "  welcome: {text: hi, buttons: {text: b, buttons: [{type: postback, title: a, payload: a}]}, cards: [{title: t, subtitle: s}]}", want: []string{"spec.welcome", "not both"}},
		{name: "metadata too long", spec: "  handoff: {metadata: " + long(1000) + "}", want: []string{"spec.handoff.metadata", "999"}},
		{name: "target app not digits", spec: "  handoff: {targetAppID: inbox}", want: []string{"spec.handoff.targetAppID", "must be a Meta id"}},
		{name: "on request", spec: "  onRequest: Maybe", want: []string{"spec.onRequest", "Pass", "Ignore"}},
		{name: "idle timeout too short", spec: "  agentIdleTimeout: 500ms", want: []string{"spec.agentIdleTimeout", "at least 1s"}},
		{name: "idle timeout too long", spec: "  agentIdleTimeout: 200h", want: []string{"spec.agentIdleTimeout", "at most 168h"}},
		{name: "idle timeout beyond the window", spec: "  agentIdleTimeout: 25h", want: []string{"spec.agentIdleTimeout", "agentIdleTimeoutBeyondWindow"}},
		{name: "idle timeout beyond the window, allowed", spec: "  agentIdleTimeout: 25h\n  agentIdleTimeoutBeyondWindow: true"},
		{name: "idle timeout of a day", spec: "  agentIdleTimeout: 24h"},
		{name: "window day", spec: "  businessHours: {timeZone: UTC, windows: [{day: Funday, start: \"09:00\", end: \"17:00\"}]}", want: []string{"spec.businessHours.windows[0].day"}},
		{name: "window time", spec: "  businessHours: {timeZone: UTC, windows: [{day: Monday, start: \"25:00\", end: \"17:00\"}]}", want: []string{"spec.businessHours.windows[0].start", "HH:MM on a 24 h clock"}},
		{name: "empty window", spec: "  businessHours: {timeZone: UTC, windows: [{day: Monday, start: \"09:00\", end: \"09:00\"}]}", want: []string{"spec.businessHours.windows[0]", "start and end must differ"}},
		{name: "no windows", spec: "  businessHours: {timeZone: UTC, windows: []}", want: []string{"spec.businessHours.windows"}},
		{name: "pass to nobody", spec: "  businessHours: {timeZone: UTC, windows: [{day: Monday, start: \"09:00\", end: \"17:00\"}], outsideHours: {action: PassTo}}", want: []string{"spec.businessHours", "appID is required"}},
		{name: "outside action", spec: "  businessHours: {timeZone: UTC, windows: [{day: Monday, start: \"09:00\", end: \"17:00\"}], outsideHours: {action: Wait}}", want: []string{"spec.businessHours.outsideHours.action"}},
		{name: "empty keyword", spec: "  handoff: {triggers: {keywords: [\"\"]}}", want: []string{"spec.handoff.triggers.keywords[0]"}},
	}
	ctx := context.Background()
	bad := 0
	for _, c := range cases {
		if c.want != nil {
			bad++
		}
	}
	if bad < 20 {
		t.Errorf("the table holds %d bad objects; it must hold at least 20", bad)
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			name := fmt.Sprintf("bad-%d", i)
			var doc string
			if c.page {
				base := goodPage
				if c.drop != "" {
					base = strings.Replace(base, "  "+c.drop+"\n", "", 1)
				}
				doc = fmt.Sprintf(base, name, c.spec)
			} else {
				doc = fmt.Sprintf(goodPolicy, name, c.spec)
			}
			_, err := apply(ctx, doc)
			if c.want == nil {
				if err != nil {
					t.Fatalf("valid object rejected: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, want a rejection naming %v", c.want)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestPageIDIsImmutable(t *testing.T) {
	ctx := context.Background()
	if _, err := apply(ctx, fmt.Sprintf(goodPage, "immutable", "")); err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(fmt.Sprintf(goodPage, "immutable", ""), "1000000000000002", "1000000000000003", 1)
	_, err := apply(ctx, changed)
	if err == nil || !strings.Contains(err.Error(), "spec.pageID") || !strings.Contains(err.Error(), "immutable") {
		t.Fatalf("changing pageID: err = %v, want an immutability error on spec.pageID", err)
	}
}

const appPage = `apiVersion: messenger.handover.dev/v1alpha1
kind: MessengerPage
metadata: {name: %s}
spec:
  pageID: "1000000000000012"
  appRef: {name: acme}
  secretRef: {name: creds}
  policyRef: {name: support}
%s`

const goodApp = `apiVersion: messenger.handover.dev/v1alpha1
kind: MessengerApp
metadata: {name: %s}
spec:
  appID: "42"
  secretRef: {name: app-creds}
%s`

// A page served by its MessengerApp keeps only what is the Page's own: every app-level field is
// rejected at apply with a message that says where it goes.
func TestAppLevelFieldsOnAppPagesAreRejected(t *testing.T) {
	ctx := context.Background()
	for i, c := range []struct {
		name string
		spec string
		drop bool // the page's secretRef line, replaced by spec
		want []string
	}{
		{name: "valid page of an app (control)", spec: "  businessName: ACME\n  graphAPI: {maxSendsPerSecond: 10}\n  subscription: {fields: [messages]}\n"},
		{name: "ingress", spec: "  ingress: {host: a.example.com}\n", want: []string{"spec.ingress belongs to the MessengerApp", "MessengerApp's spec.ingress"}},
		{name: "httpRoute", spec: "  httpRoute: {parentRefs: [{name: gw}]}\n", want: []string{"spec.httpRoute belongs to the MessengerApp"}},
		{name: "webhook", spec: "  webhook: {replicas: 1}\n", want: []string{"spec.webhook belongs to the MessengerApp"}},
		{name: "graph base URL", spec: "  graphAPI: {baseURL: \"https://graph.example.com\"}\n", want: []string{"spec.graphAPI.baseURL and spec.graphAPI.version belong to the MessengerApp"}},
		{name: "graph version", spec: "  graphAPI: {version: v24.0}\n", want: []string{"MessengerApp's spec.graphAPI"}},
		{name: "app secret key", drop: true, spec: "  secretRef: {name: creds, appSecretKey: s}\n", want: []string{"spec.secretRef.appSecretKey and spec.secretRef.verifyTokenKey belong to the MessengerApp"}},
		{name: "register callback", spec: "  subscription: {registerCallback: true}\n", want: []string{"belong to the MessengerApp", "MessengerApp's spec.subscription"}},
		{name: "recheck interval", spec: "  subscription: {recheckInterval: 5m}\n", want: []string{"MessengerApp's spec.subscription"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			base := appPage
			if c.drop {
				base = strings.Replace(base, "  secretRef: {name: creds}\n", "", 1)
			}
			_, err := apply(ctx, fmt.Sprintf(base, fmt.Sprintf("app-page-%d", i), c.spec))
			if c.want == nil {
				if err != nil {
					t.Fatalf("valid page rejected: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, want a rejection saying %v", c.want)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestMessengerAppValidation(t *testing.T) {
	ctx := context.Background()
	if _, err := apply(ctx, fmt.Sprintf(goodApp, "acme", "  ingress: {host: hooks.example.com}\n  subscription: {}\n")); err != nil {
		t.Fatalf("valid app rejected: %v", err)
	}
	for _, c := range []struct {
		name, spec string
		want       []string
	}{
		{"app id not digits", "  appID: app\n", []string{"spec.appID"}},
		{"graph version", "  graphAPI: {version: \"25\"}\n", []string{"spec.graphAPI.version"}},
		{"recheck too often", "  subscription: {recheckInterval: 10s}\n", []string{"recheckInterval must be at least 1m"}},
		{"unknown field", "  subscription: {fields: [everything]}\n", []string{"spec.subscription.fields"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			doc := fmt.Sprintf(goodApp, "bad-app", c.spec)
			if strings.HasPrefix(c.spec, "  appID:") {
				doc = strings.Replace(doc, "  appID: \"42\"\n", "", 1)
			}
			_, err := apply(ctx, doc)
			if err == nil {
				t.Fatalf("accepted, want a rejection naming %v", c.want)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
	changed := strings.Replace(fmt.Sprintf(goodApp, "acme", "  ingress: {host: hooks.example.com}\n  subscription: {}\n"), `"42"`, `"43"`, 1)
	if _, err := apply(ctx, changed); err == nil || !strings.Contains(err.Error(), "appID is immutable") {
		t.Fatalf("changing appID: err = %v, want an immutability error", err)
	}
}

// A Graph base URL that ends in a version (https://graph.facebook.com/v4.0, as some connectors
// write it) is rejected at apply, on a standalone page and on an app, with a message that says to
// set graphAPI.version; the Go Validate says the same.
func TestVersionedGraphBaseURLRejected(t *testing.T) {
	ctx := context.Background()
	for i, c := range []struct {
		name, doc string
		ok        bool
	}{
		{"page v4.0", fmt.Sprintf(goodPage, "versioned-page-0", "  graphAPI: {baseURL: \"https://graph.facebook.com/v4.0\"}\n"), false},
		{"page v25.0/", fmt.Sprintf(goodPage, "versioned-page-1", "  graphAPI: {baseURL: \"https://graph.facebook.com/v25.0/\"}\n"), false},
		{"page v25", fmt.Sprintf(goodPage, "versioned-page-2", "  graphAPI: {baseURL: \"http://graph.local/v25\"}\n"), false},
		{"page behind a proxy path (control)", fmt.Sprintf(goodPage, "versioned-page-3", "  graphAPI: {baseURL: \"https://proxy.example.com/graph\"}\n"), true},
		{"app v4.0", fmt.Sprintf(goodApp, "versioned-app-0", "  graphAPI: {baseURL: \"https://graph.facebook.com/v4.0\"}\n"), false},
		{"app without version (control)", fmt.Sprintf(goodApp, "versioned-app-1", "  graphAPI: {baseURL: \"https://graph.facebook.com\"}\n"), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := apply(ctx, c.doc)
			switch {
			case c.ok && err != nil:
				t.Fatalf("case %d rejected: %v", i, err)
			case !c.ok && err == nil:
				t.Fatal("accepted")
			case !c.ok && (!strings.Contains(err.Error(), "spec.graphAPI.baseURL") || !strings.Contains(err.Error(), "set graphAPI.version")):
				t.Errorf("error %q does not name the field and say to set graphAPI.version", err)
			}
		})
	}
}

// An app's webhook follows the same rule: more than one replica only with the Redis store.
func TestAppReplicasNeedRedis(t *testing.T) {
	ctx := context.Background()
	_, err := apply(ctx, fmt.Sprintf(goodApp, "replicas-memory", "  webhook: {replicas: 3}\n"))
	if err == nil || !strings.Contains(err.Error(), "spec.webhook.replicas") || !strings.Contains(err.Error(), "needs spec.webhook.store.redis") {
		t.Fatalf("three replicas with the memory store: err = %v", err)
	}
	if _, err := apply(ctx, fmt.Sprintf(goodApp, "replicas-redis", "  webhook: {replicas: 3, store: {redis: {urlSecretRef: {name: redis, key: url}}}}\n")); err != nil {
		t.Fatalf("three replicas with Redis: %v", err)
	}
}
