package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/messenger-operator/messenger-operator/test/testenv"
)

// makeVar reads `NAME ?= value` from the Makefile.
func makeVar(t *testing.T, name string) string {
	t.Helper()
	mk, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^` + name + ` \?= (\S+)$`).FindSubmatch(mk)
	if m == nil {
		t.Fatalf("no %s in the Makefile", name)
	}
	return string(m[1])
}

// Without --webhook-image or WEBHOOK_IMAGE (`make run`, `go run ./cmd/manager`) the webhooks run
// the released image of this version, the one the Makefile's VERSION and IMAGE_REPO name.
func TestDefaultWebhookImageIsTheRelease(t *testing.T) {
	if v, repo := makeVar(t, "VERSION"), makeVar(t, "IMAGE_REPO"); v != version || repo != imageRepository {
		t.Fatalf("the manager's default release %s:%s, the Makefile's %s:%s", imageRepository, version, repo, v)
	}
	o, err := parseOptions(nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if want := imageRepository + ":" + version; o.webhookImage != want {
		t.Fatalf("default webhook image %q, want %q", o.webhookImage, want)
	}
	o, err = parseOptions(nil, env(map[string]string{"WEBHOOK_IMAGE": "registry.example/hook:1"}), io.Discard)
	if err != nil || o.webhookImage != "registry.example/hook:1" {
		t.Fatalf("WEBHOOK_IMAGE not taken: %q, %v", o.webhookImage, err)
	}
}

// The version the Makefile passes with -ldflags reaches the default (what `make run VERSION=...`
// and the image build do).
func TestVersionFromLinkerFlags(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "manager")
	build := exec.Command("go", "build", "-ldflags", "-X main.version=v9.8.7", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, _ := exec.Command(bin, "-h").CombinedOutput()
	if want := `(default "` + imageRepository + `:v9.8.7")`; !strings.Contains(string(out), want) {
		t.Fatalf("manager -h does not show %s:\n%s", want, out)
	}
}
