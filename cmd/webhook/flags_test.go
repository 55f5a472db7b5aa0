package main

import (
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestParseFlags(t *testing.T) {
	o, err := parseFlags([]string{"--page", "shop/acme"}, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.Page != (types.NamespacedName{Namespace: "shop", Name: "acme"}) || o.Listen != ":1337" || o.ProbeAddr != ":8081" ||
		o.DrainTimeout != 20*time.Second || o.LogLevel != slog.LevelInfo || o.ManifestsDir != "" || o.VerifyTokenSecret != "" {
		t.Fatalf("defaults: %+v", o)
	}

	o, err = parseFlags([]string{"--app", "brand"}, env(map[string]string{"POD_NAMESPACE": "shop"}), io.Discard)
	if err != nil || o.App.String() != "shop/brand" || o.Page.Name != "" {
		t.Fatalf("--app: %+v %v", o, err)
	}
	o, err = parseFlags([]string{"--manifests", "/m"}, env(map[string]string{"APP": "shop/brand"}), io.Discard)
	if err != nil || o.App.String() != "shop/brand" || o.ManifestsDir != "/m" {
		t.Fatalf("APP from the environment: %+v %v", o, err)
	}
	_, err = parseFlags(nil, env(map[string]string{"APP": "shop/brand", "PAGE": "shop/acme"}), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "exclude each other") {
		t.Fatalf("APP and PAGE: %v", err)
	}

	o, err = parseFlags(nil, env(map[string]string{"PAGE": "acme", "POD_NAMESPACE": "shop", "VERIFY_TOKEN_SECRET": "acme-verify-token", "ROLE": "acme-webhook"}), io.Discard)
	if err != nil || o.Page.String() != "shop/acme" || o.VerifyTokenSecret != "acme-verify-token" || o.Role != "acme-webhook" {
		t.Fatalf("from the environment: %v %q %q %v", o.Page, o.VerifyTokenSecret, o.Role, err)
	}
	o, err = parseFlags([]string{"--app", "shop/brand", "--role", "brand-webhook-app"}, env(map[string]string{"ROLE": "from-env"}), io.Discard)
	if err != nil || o.Role != "brand-webhook-app" {
		t.Fatalf("--role: %q %v", o.Role, err)
	}

	o, err = parseFlags([]string{"--manifests", "/m", "--page", "acme", "--listen", "127.0.0.1:9", "--probe-addr", ":0",
		"--drain-timeout", "3s", "--log-level", "debug", "--log-format", "text", "--verify-token-secret", "gen"},
		env(map[string]string{"VERIFY_TOKEN_SECRET": "from-env"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.Page.String() != "default/acme" || o.ManifestsDir != "/m" || o.Listen != "127.0.0.1:9" || o.ProbeAddr != ":0" ||
		o.DrainTimeout != 3*time.Second || o.LogLevel != slog.LevelDebug || o.LogFormat != "text" || o.VerifyTokenSecret != "gen" {
		t.Fatalf("flags: %+v", o)
	}

	for args, want := range map[string]string{
		"":                                                "--page or --app (or PAGE or APP) is required",
		"--page shop/acme --app shop/brand":               "exclude each other",
		"--app Shop/brand":                                "--app \"Shop/brand\": invalid namespace",
		"--page Shop/acme":                                "invalid namespace",
		"--page shop/ac_me":                               "invalid name",
		"--page shop/acme --log-level loud":               "--log-level",
		"--page shop/acme --drain-timeout 0":              "--drain-timeout",
		"--page shop/acme extra":                          "unexpected arguments",
		"--page shop/acme --log-format xml":               "--log-format",
		"--page shop/acme --verify-token-secret Bad_Name": "--verify-token-secret",
	} {
		_, err := parseFlags(strings.Fields(args), env(nil), io.Discard)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", args, err, want)
		}
	}
}

// The Graph API hosts come from the flag or GRAPH_API_HOSTS (the operator's Deployment); none: any.
func TestParseFlagsGraphAPIHosts(t *testing.T) {
	o, err := parseFlags([]string{"--page=shop/acme"}, func(k string) string {
		return map[string]string{"GRAPH_API_HOSTS": "graph.facebook.com, 127.0.0.1:9"}[k]
	}, io.Discard)
	if err != nil || !slices.Equal(o.GraphAPIHosts, []string{"graph.facebook.com", "127.0.0.1:9"}) {
		t.Fatalf("%v, %v", o.GraphAPIHosts, err)
	}
	if o, err = parseFlags([]string{"--page=shop/acme"}, func(string) string { return "" }, io.Discard); err != nil || o.GraphAPIHosts != nil {
		t.Fatalf("%v, %v", o.GraphAPIHosts, err)
	}
	if _, err = parseFlags([]string{"--page=shop/acme", "--graph-api-hosts=https://x"}, func(string) string { return "" }, io.Discard); err == nil ||
		!strings.Contains(err.Error(), "--graph-api-hosts") {
		t.Fatalf("a URL accepted: %v", err)
	}
}

// The Redis store's URL comes from the environment only (the Deployment's secretKeyRef), its key
// prefix from a flag or the environment.
func TestParseFlagsRedis(t *testing.T) {
	o, err := parseFlags([]string{"--page", "shop/acme"}, env(map[string]string{
		"REDIS_URL": "redis://:pw@redis:6379/0", "REDIS_KEY_PREFIX": "mo:{shop/page/acme}:"}), io.Discard)
	if err != nil || o.RedisURL != "redis://:pw@redis:6379/0" || o.RedisKeyPrefix != "mo:{shop/page/acme}:" {
		t.Fatalf("%+v %v", o, err)
	}
	o, err = parseFlags([]string{"--page", "shop/acme"}, env(nil), io.Discard)
	if err != nil || o.RedisURL != "" {
		t.Fatalf("without REDIS_URL: %q %v", o.RedisURL, err)
	}
}
