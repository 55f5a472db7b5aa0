package config

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// logBuffer collects log output safely across goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) count(s string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Count(b.buf.String(), s)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestDirSourceReloadsAndKeepsTheLastGoodConfiguration(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "page.yaml", pageDoc)
	writeFile(t, dir, "policy.yaml", policyDoc)
	writeFile(t, dir, "secret.yaml", secretDoc)

	logs := &logBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	rec := newRecorder()
	applier := &Applier{Target: rec, Logger: log}
	src := &DirSource{Dir: dir, Page: pageKey, Interval: 5 * time.Millisecond, Logger: log}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = src.Run(ctx, func(s Snapshot) { _ = applier.Update(s) })
	}()
	defer func() { cancel(); <-done }()

	applied := func(n int) func() bool { return func() bool { return len(rec.all()) >= n } }
	waitFor(t, "the first configuration", applied(1))
	first := rec.all()[0]
	if got := welcomeText(t, first); got != "Hello from ACME" {
		t.Fatalf("welcome = %q", got)
	}
	if first.Generation != "page/1 policy/1" {
		t.Errorf("generation = %q", first.Generation)
	}

	// An edit is picked up without a restart.
	writeFile(t, dir, "policy.yaml", strings.Replace(policyDoc, "Hello from ACME", "Hello again", 1))
	waitFor(t, "the edited policy", applied(2))
	if got := welcomeText(t, rec.all()[1]); got != "Hello again" {
		t.Fatalf("welcome after the edit = %q", got)
	}
	if g := rec.all()[1].Generation; g != "page/1 policy/2" {
		t.Errorf("generation = %q", g)
	}

	// A file that does not parse: logged, nothing applied.
	writeFile(t, dir, "policy.yaml", strings.Replace(policyDoc, "welcome:", "welcom:", 1))
	waitFor(t, "the parse error to be logged", func() bool { return logs.count("invalid manifests") == 1 })
	// A policy that parses but does not compile: logged, nothing applied.
	writeFile(t, dir, "policy.yaml", policyDoc+"  handoff:\n    triggers:\n      patterns: [\"(unclosed\"]\n")
	waitFor(t, "the compile error to be logged", func() bool {
		return logs.count("the last good one keeps serving") == 1
	})
	// A deleted Secret: logged, nothing applied.
	if err := os.Remove(filepath.Join(dir, "secret.yaml")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the missing Secret to be logged", func() bool {
		return logs.count(`Secret \"acme-credentials\" not found`) == 1
	})
	if n := len(rec.all()); n != 2 {
		t.Fatalf("%d configurations applied, want the last good one (2) to stay", n)
	}
	if strings.Contains(logs.String(), "secret-one") || strings.Contains(logs.String(), "token-one") {
		t.Fatal("a secret reached the logs")
	}

	// Everything fixed, with a new app secret: applied.
	writeFile(t, dir, "policy.yaml", strings.Replace(policyDoc, "Hello from ACME", "Third", 1))
	writeFile(t, dir, "secret.yaml", strings.Replace(secretDoc, "secret-one", "secret-two", 1))
	waitFor(t, "the fixed configuration", func() bool {
		all := rec.all()
		return len(all) >= 3 && string(all[len(all)-1].AppSecret) == "secret-two" && welcomeText(t, all[len(all)-1]) == "Third"
	})
}

func TestDirSourceLogsAnUnreadableDirectoryOnce(t *testing.T) {
	logs := &logBuffer{}
	src := &DirSource{Dir: filepath.Join(t.TempDir(), "missing"), Page: pageKey, Logger: slog.New(slog.NewTextHandler(logs, nil))}
	for range 3 {
		src.poll(func([]File) error {
			t.Fatal("files from a missing directory")
			return nil
		})
	}
	if n := logs.count("cannot read the manifests directory"); n != 1 {
		t.Fatalf("logged %d times", n)
	}
}
