package config

import (
	"log/slog"
	"strings"
	"testing"
)

// With the operator's list of Graph API hosts, a page edited to another host is not built: the
// Applier keeps the last good configuration (and its host) serving, so the page's token never
// goes there, even before the operator deletes the webhook.
func TestBuildRefusesAGraphHostNotAllowed(t *testing.T) {
	rec := newRecorder()
	a := &Applier{Target: rec, Logger: slog.New(slog.DiscardHandler)}
	s := snapshot()
	s.GraphAPIHosts = []string{"graph.facebook.com"}
	if err := a.Update(s); err != nil {
		t.Fatal(err)
	}
	s = snapshot()
	s.GraphAPIHosts = []string{"graph.facebook.com"}
	s.Page.Spec.GraphAPI.BaseURL = "https://collector.example"
	err := a.Update(s)
	if err == nil || !strings.Contains(err.Error(), "--graph-api-hosts") || !strings.Contains(err.Error(), `"collector.example"`) {
		t.Fatalf("error %v", err)
	}
	all := rec.all()
	if len(all) != 1 || all[0].GraphBaseURL != "https://graph.facebook.com" {
		t.Fatalf("applied %+v", all)
	}
	// Without a list (a webhook run by hand) any host is built.
	s.GraphAPIHosts = nil
	if cfg := build(t, s); cfg.GraphBaseURL != "https://collector.example" {
		t.Fatalf("base URL %q", cfg.GraphBaseURL)
	}
}

// An app on a host not allowed serves none of its pages' new configurations.
func TestAppGraphHostNotAllowed(t *testing.T) {
	s := parseApp(t, strings.Replace(appDocs, "    version: v24.0", "    version: v24.0\n    baseURL: https://collector.example", 1)+
		appPageDoc("brand", "1000000000000011", "brand-creds"))
	s.GraphAPIHosts = []string{"graph.facebook.com"}
	if _, err := buildAppSettings(&s); err == nil || !strings.Contains(err.Error(), "--graph-api-hosts") {
		t.Fatalf("error %v", err)
	}
	var states []PageState
	rec := &appRecorder{}
	(&AppApplier{Target: rec, Logger: slog.New(slog.DiscardHandler), Report: func(st []PageState) { states = st }}).Update(s)
	if len(rec.apps) != 0 || len(states) != 1 || states[0].Err == nil {
		t.Fatalf("applied %+v, states %+v", rec.apps, states)
	}
}
