// Package release tests the release artefacts (make release): dist/install.yaml, the packaged
// chart, one form of image reference, the chart's values, schema and lint, and the GitOps
// samples that point at the release. None of it needs a cluster.
package release

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

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// makeVar reads `NAME ?= value` from the Makefile.
func makeVar(t *testing.T, name string) string {
	t.Helper()
	mk, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "Makefile"))
	must(t, err)
	m := regexp.MustCompile(`(?m)^` + name + ` \?= (\S+)$`).FindSubmatch(mk)
	if m == nil {
		t.Fatalf("no %s in the Makefile", name)
	}
	return string(m[1])
}

// helm returns the pinned helm binary, installing it with the Makefile's rule when missing.
func helm(t *testing.T) string {
	t.Helper()
	root := testenv.RepoRoot()
	bin := filepath.Join(root, "bin", "helm-"+makeVar(t, "HELM_VERSION"))
	if _, err := os.Stat(bin); err != nil {
		if out, err := exec.Command("make", "-C", root, bin).CombinedOutput(); err != nil {
			t.Fatalf("make %s: %v\n%s", bin, err, out)
		}
	}
	return bin
}

// run runs a command and returns its stdout; a failure fails the test with stderr.
func run(t *testing.T, env []string, name string, args ...string) []byte {
	t.Helper()
	out, err := runErr(env, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

func runErr(env []string, name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return append(stdout.Bytes(), stderr.Bytes()...), err
	}
	return stdout.Bytes(), nil
}

// release runs hack/release.sh (what `make release` runs) for version into a new directory.
func release(t *testing.T, version string) string {
	t.Helper()
	out := t.TempDir()
	run(t, []string{"HELM=" + helm(t)}, filepath.Join(testenv.RepoRoot(), "hack", "release.sh"), version, out)
	return out
}

// docs splits a multi-document YAML stream.
func docs(b []byte) [][]byte {
	var out [][]byte
	for _, d := range regexp.MustCompile(`(?m)^---$`).Split(string(b), -1) {
		if strings.TrimSpace(d) != "" {
			out = append(out, []byte(d))
		}
	}
	return out
}
