package config

import (
	"log/slog"
	"strings"
	"testing"
)

func TestApplierAppliesOnlyChanges(t *testing.T) {
	logs := &logBuffer{}
	rec := newRecorder()
	var observed []int64
	a := &Applier{Target: rec, Logger: slog.New(slog.NewTextHandler(logs, nil)),
		Applied: func(s Snapshot, _ Page) { observed = append(observed, s.Page.Generation) }}

	s := snapshot()
	s.Secret = nil
	if err := a.Update(s); err == nil {
		t.Fatal("incomplete snapshot applied")
	}
	if err := a.Update(s); err == nil {
		t.Fatal("incomplete snapshot applied")
	}
	if n := logs.count("not ready"); n != 1 {
		t.Errorf("the same problem logged %d times, want once", n)
	}

	s = snapshot()
	for range 2 {
		if err := a.Update(s); err != nil {
			t.Fatal(err)
		}
	}
	// A status change (the webhook's own conditions, the operator's) is not a new configuration.
	s2 := snapshot()
	s2.Page.Status.ReadyReplicas = 1
	s2.Page.ResourceVersion = "99"
	if err := a.Update(s2); err != nil {
		t.Fatal(err)
	}
	if n := len(rec.all()); n != 1 {
		t.Fatalf("%d applies for one configuration", n)
	}

	// A rotated secret is a new configuration.
	s3 := snapshot()
	s3.Secret.Data["appSecret"] = []byte("rotated")
	s3.Page.Generation = 4
	if err := a.Update(s3); err != nil {
		t.Fatal(err)
	}
	all := rec.all()
	if len(all) != 2 || string(all[1].AppSecret) != "rotated" {
		t.Fatalf("after rotation: %d applies", len(all))
	}
	if len(observed) != 2 || observed[1] != 4 {
		t.Errorf("Applied saw generations %v", observed)
	}

	// Invalid after valid: the error says the old configuration stays.
	s4 := snapshot()
	delete(s4.Secret.Data, "appSecret")
	if err := a.Update(s4); err == nil {
		t.Fatal("invalid snapshot applied")
	}
	if !strings.Contains(logs.String(), "the last good one keeps serving") || len(rec.all()) != 2 {
		t.Fatalf("logs: %s", logs)
	}
}
