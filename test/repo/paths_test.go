// Package repo holds checks over the repository's own files: it stands on its own.
package repo

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/messenger-operator/messenger-operator/test/testenv"
)

// tracked returns the repository's tracked files, by path relative to its root.
func tracked(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("git", "-C", testenv.RepoRoot(), "ls-files", "-z").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	var files []string
	for _, f := range strings.Split(string(out), "\x00") {
		if f != "" {
			files = append(files, f)
		}
	}
	if len(files) < 100 {
		t.Fatalf("only %d tracked files", len(files))
	}
	return files
}

// No doc, comment, script or file points at a path outside the repository: a reader or a run
// on another machine would find nothing there. Binaries are not committed at all (they carry the
// build machine's paths).
func TestNoPathOutsideTheRepository(t *testing.T) {
	// Built from pieces, so that this file does not match itself.
	outside := regexp.MustCompile(strings.Join([]string{
		`\.\./` + `shared\b`,          // the sibling folder of reference material
		`shared/` + `reference`,       // the same, by its inner path
		`(^|[\s"'(=:])/` + `work/`,    // the machine's work tree
		`(^|[\s"'(=:])/` + `home/\w`,  // someone's home
		`(^|[\s"'(=:])/` + `root/\w`,  // root's home
		`(^|[\s"'(=:])/` + `Users/\w`, // a Mac home
		`\.\./\.\./\.\./` + `\.\./`,   // climbing far above the root
	}, "|"))
	root := testenv.RepoRoot()
	for _, f := range tracked(t) {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			if os.IsNotExist(err) {
				continue // deleted in the work tree, not yet committed
			}
			t.Fatal(err)
		}
		if bytes.IndexByte(b, 0) >= 0 {
			// Images of the docs are the only binary files the repository keeps.
			if !isDocImage(f, b) {
				t.Errorf("%s: a binary file is committed", f)
			}
			continue
		}
		for i, line := range strings.Split(string(b), "\n") {
			if m := outside.FindString(line); m != "" {
				t.Errorf("%s:%d: points outside the repository (%q): %s", f, i+1, m, strings.TrimSpace(line))
			}
		}
	}
}

// The simulator follows the platform as docs/platform.md writes it up with its sources: every
// section its code cites ("§N") is there, and the page names its sources.
func TestSimulatorCitesTheRepositorysPlatformPage(t *testing.T) {
	root := testenv.RepoRoot()
	page, err := os.ReadFile(filepath.Join(root, "docs", "platform.md"))
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, m := range regexp.MustCompile(`§[0-9]+(\.[0-9]+)*`).FindAllString(string(page), -1) {
		have[m] = true
	}
	if !strings.Contains(string(page), "## Sources") || len(have) < 20 {
		t.Fatalf("docs/platform.md has no Sources section or few sections (%d)", len(have))
	}
	cite := regexp.MustCompile(`§[0-9]+(\.[0-9]+)*`)
	cited := 0
	for _, f := range tracked(t) {
		if !strings.HasPrefix(f, "internal/simulator/") && !strings.HasPrefix(f, "cmd/simulator/") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range cite.FindAllString(string(b), -1) {
			cited++
			// §2.3 is covered by its own heading or by its section's (§10.38 under §10).
			if !have[m] && !have[strings.SplitN(m, ".", 2)[0]] {
				t.Errorf("%s cites %s, which docs/platform.md does not have", f, m)
			}
		}
	}
	if cited < 50 {
		t.Fatalf("the simulator cites only %d sections", cited)
	}
	for _, f := range []string{"internal/simulator/doc.go", "cmd/simulator/README.md", "docs/architecture.md"} {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "platform.md") {
			t.Errorf("%s does not point at docs/platform.md", f)
		}
	}
}

// hack/bench.sh takes outside peers only from BENCH_PEERS: without it, or when it names no peer
// tools, the Node peer is skipped and the table says why.
func TestBenchSkipsPeersWithoutBenchPeers(t *testing.T) {
	for peers, want := range map[string]string{
		"":                         "skipped: BENCH_PEERS not set",
		filepath.Join(t.TempDir()): "webhook-vs-peers.sh not found",
	} {
		cmd := exec.Command("bash", filepath.Join(testenv.RepoRoot(), "hack", "bench.sh"))
		cmd.Env = append(os.Environ(), "VEGETA=/bin/false", "BENCH_ONLY=peers", "BENCH_PEERS="+peers)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("BENCH_PEERS=%q: %v\n%s", peers, err, out)
		}
		if !strings.Contains(string(out), want) || !strings.Contains(string(out), "bench: skipping the Node peer") {
			t.Errorf("BENCH_PEERS=%q: the bench does not say %q:\n%s", peers, want, out)
		}
	}
}

// isDocImage tells a PNG under docs/ (a screenshot the README shows) from a committed build.
func isDocImage(path string, b []byte) bool {
	return strings.HasPrefix(path, "docs/") && strings.HasSuffix(path, ".png") &&
		bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n"))
}
