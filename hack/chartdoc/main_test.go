package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var chart = filepath.Join("..", "..", "dist", "chart")

// The committed chart README is what the generator writes from the committed values.
func TestChartREADMEIsUpToDate(t *testing.T) {
	want, err := render(chart)
	if err != nil {
		t.Fatal(err)
	}
	have, err := os.ReadFile(filepath.Join(chart, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if string(have) != want {
		t.Fatal("dist/chart/README.md is stale: run `make chart-docs`")
	}
	for _, s := range []string{"| `serviceMonitor.labels` | `{}` |", "| `image.tag` | `\"\"` | Defaults to the chart's appVersion", "Chart 0.1.0, operator v0.1.0."} {
		if !strings.Contains(want, s) {
			t.Errorf("the README lacks %q", s)
		}
	}
}

// A value without a comment is refused: the README would show it unexplained.
func TestUndocumentedValueRefused(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{
		"Chart.yaml":  "name: c\nversion: 1.0.0\nappVersion: v1.0.0\ndescription: d\n",
		"values.yaml": "# documented\na: 1\nb:\n  c: 2\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := render(dir); err == nil || !strings.Contains(err.Error(), "b has no comment, nor has b.c") {
		t.Fatalf("render: %v, want the undocumented key named", err)
	}
}
