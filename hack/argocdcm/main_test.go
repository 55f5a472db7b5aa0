package main

import (
	"os"
	"path/filepath"
	"testing"
)

// The committed patch and values file are what the generator writes from the committed scripts.
func TestGeneratedFilesAreUpToDate(t *testing.T) {
	dir := filepath.Join("..", "..", "config", "argocd")
	files, err := render(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 {
		t.Fatalf("%d files rendered", len(files))
	}
	for name, want := range files {
		have, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if string(have) != want {
			t.Errorf("config/argocd/%s is stale: run `make manifests`", name)
		}
	}
}
