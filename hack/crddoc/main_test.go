package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const repo = "../.."

// The committed reference is what the generator writes from the committed CRDs.
func TestReferenceIsUpToDate(t *testing.T) {
	want, err := render(filepath.Join(repo, "config", "crd", "bases"))
	if err != nil {
		t.Fatal(err)
	}
	have, err := os.ReadFile(filepath.Join(repo, "docs", "api-reference.md"))
	if err != nil {
		t.Fatal(err)
	}
	if string(have) != want {
		t.Fatal("docs/api-reference.md is stale: run `make docs`")
	}
}

// The reference holds what a reader needs: every kind, the fields with their defaults and
// validation, and nothing that breaks a Markdown table.
func TestReferenceContent(t *testing.T) {
	doc, err := render(filepath.Join(repo, "config", "crd", "bases"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		"## HandoverPolicy", "## MessengerPage", "### MessengerPage spec", "### MessengerPage status",
		"| `spec.pageID` | string | yes |", "pageID is immutable",
		"| `spec.graphAPI.version` | string |  | `\"v25.0\"` |",
		"| `spec.subscription.recheckInterval` |", "recheckInterval must be at least 1m",
		"| `spec.httpRoute.parentRefs[].name` | string | yes |",
		"| `status.conditions[].type` |",
		"short names `mpage`, `mpages`",
	} {
		if !strings.Contains(doc, s) {
			t.Errorf("reference lacks %q", s)
		}
	}
	for i, line := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		// Six cells: seven unescaped pipes.
		if n := strings.Count(strings.ReplaceAll(line, `\|`, ""), "|"); n != 7 {
			t.Errorf("line %d has %d cell separators: %s", i+1, n, line)
		}
	}
}

func TestBadInputIsAnError(t *testing.T) {
	if _, err := render(t.TempDir()); err == nil {
		t.Fatal("no error for a directory without CRDs")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x.yaml"), []byte("kind: CustomResourceDefinition\nspec: {nosuchfield: 1}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := render(dir); err == nil {
		t.Fatal("no error for a malformed CRD")
	}
}
