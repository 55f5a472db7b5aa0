package main

import (
	"io"
	"slices"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestParseOptionsDefaults(t *testing.T) {
	o, err := parseOptions(nil, env(map[string]string{"WEBHOOK_IMAGE": "img:1"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.metricsAddr != "0" || !o.metricsSecure || o.probeAddr != ":8081" || o.leaderElect ||
		o.webhookImage != "img:1" || o.maxConcurrentReconciles != 16 || o.namespaces != nil || o.enableHTTP2 ||
		o.leaderElectionNamespace != "" || !slices.Equal(o.graphAPIHosts, []string{"graph.facebook.com"}) {
		t.Fatalf("defaults: %+v", o)
	}
}

func TestParseOptionsFlagsWinOverEnv(t *testing.T) {
	o, err := parseOptions([]string{
		"--metrics-bind-address=:8443", "--health-probe-bind-address=:9000", "--leader-elect",
		"--webhook-image=flag:2", "--max-concurrent-reconciles=8", "--graph-api-hosts=graph.facebook.com,127.0.0.1:9",
	}, env(map[string]string{"WEBHOOK_IMAGE": "env:1", "WATCH_NAMESPACE": " shop, ,support "}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.metricsAddr != ":8443" || o.probeAddr != ":9000" || !o.leaderElect || o.webhookImage != "flag:2" ||
		o.maxConcurrentReconciles != 8 || !slices.Equal(o.namespaces, []string{"shop", "support"}) ||
		!slices.Equal(o.graphAPIHosts, []string{"graph.facebook.com", "127.0.0.1:9"}) {
		t.Fatalf("options: %+v", o)
	}
}

func TestParseOptionsRejects(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--webhook-image= "}, nil, "--webhook-image is empty"},
		{[]string{"--webhook-image="}, map[string]string{"WEBHOOK_IMAGE": "env:1"}, "--webhook-image is empty"},
		{[]string{"--webhook-image=a b"}, nil, "has no spaces"},
		{[]string{"--webhook-image=a", "--max-concurrent-reconciles=0"}, nil, "at least 1"},
		{[]string{"--webhook-image=a", "extra"}, nil, "unexpected arguments: extra"},
		{[]string{"--no-such-flag"}, nil, "not defined"},
		{[]string{"--webhook-image=a", "--graph-api-hosts= , "}, nil, "--graph-api-hosts: no host given"},
		{[]string{"--webhook-image=a", "--graph-api-hosts=https://evil.example"}, nil, "--graph-api-hosts: \"https://evil.example\": give a host"},
	} {
		_, err := parseOptions(tc.args, env(tc.env), io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.args, err, tc.want)
		}
	}
}

// A manager outside a pod (make run, the kwok tests) has no ServiceAccount mount to tell its
// namespace: the Lease's comes from POD_NAMESPACE (the manifests set it from the downward API).
func TestParseOptionsLeaderElectionNamespace(t *testing.T) {
	o, err := parseOptions([]string{"--leader-elect"}, env(map[string]string{"WEBHOOK_IMAGE": "i", "POD_NAMESPACE": "ops"}), io.Discard)
	if err != nil || o.leaderElectionNamespace != "ops" {
		t.Fatalf("from POD_NAMESPACE: %+v, %v", o, err)
	}
	o, err = parseOptions([]string{"--leader-election-namespace=other"}, env(map[string]string{"WEBHOOK_IMAGE": "i", "POD_NAMESPACE": "ops"}), io.Discard)
	if err != nil || o.leaderElectionNamespace != "other" {
		t.Fatalf("flag over env: %+v, %v", o, err)
	}
}
