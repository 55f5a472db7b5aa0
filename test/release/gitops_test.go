package release

import (
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/messenger-operator/messenger-operator/test/testenv"
)

// repoURL is the project's repository, from the module path.
func repoURL(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "go.mod"))
	must(t, err)
	m := regexp.MustCompile(`(?m)^module (\S+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("go.mod names no module")
	}
	return "https://" + string(m[1])
}

// sample returns the document of a kind and name from a file of config/samples/gitops.
func sample(t *testing.T, file, kind, name string, into any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "samples", "gitops", file))
	must(t, err)
	for _, doc := range docs(b) {
		var meta struct {
			Kind     string
			Metadata struct{ Name string }
		}
		must(t, yaml.Unmarshal(doc, &meta))
		if meta.Kind == kind && meta.Metadata.Name == name {
			must(t, yaml.UnmarshalStrict(doc, into))
			return
		}
	}
	t.Fatalf("%s has no %s %s", file, kind, name)
}

// renderFiles renders manifests the way a GitOps tool does with a plain directory (kubectl
// kustomize over the files), failing the test when they do not render.
func renderFiles(t *testing.T, files []string) []byte {
	t.Helper()
	dir := t.TempDir()
	var names []string
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), f))
		must(t, err)
		name := strings.ReplaceAll(f, "/", "_")
		must(t, os.WriteFile(filepath.Join(dir, name), b, 0o644))
		names = append(names, name)
	}
	must(t, os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte("resources: ["+strings.Join(names, ", ")+"]\n"), 0o644))
	out, err := exec.Command("kubectl", "kustomize", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("rendering %v: %v\n%s", files, err, out)
	}
	return out
}

// The Argo CD Application installs the release: dist/install.yaml of this repository at the tag
// of this version, and nothing else of the repository.
func TestArgoCDApplicationInstallsTheRelease(t *testing.T) {
	var app struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   map[string]any
		Spec       struct {
			Project string `json:"project"`
			Source  struct {
				RepoURL        string `json:"repoURL"`
				TargetRevision string `json:"targetRevision"`
				Path           string `json:"path"`
				Directory      struct {
					Include string `json:"include"`
					Recurse bool   `json:"recurse"`
				} `json:"directory"`
			} `json:"source"`
			Destination map[string]string `json:"destination"`
			SyncPolicy  map[string]any    `json:"syncPolicy"`
		} `json:"spec"`
	}
	sample(t, "argocd-application.yaml", "Application", "messenger-operator", &app)
	src := app.Spec.Source
	version := makeVar(t, "VERSION")
	if src.RepoURL != repoURL(t)+".git" || src.TargetRevision != version {
		t.Fatalf("the Application installs %s at %s, want %s.git at %s", src.RepoURL, src.TargetRevision, repoURL(t), version)
	}
	// Argo CD's directory source: the files of path (not below, without recurse) matching include.
	entries, err := os.ReadDir(filepath.Join(testenv.RepoRoot(), src.Path))
	must(t, err)
	var files []string
	for _, e := range entries {
		if ok, _ := path.Match(src.Directory.Include, e.Name()); ok && !e.IsDir() {
			files = append(files, path.Join(src.Path, e.Name()))
		}
	}
	if !slices.Equal(files, []string{"dist/install.yaml"}) || src.Directory.Recurse {
		t.Fatalf("the Application applies %v (recurse %v), want dist/install.yaml", files, src.Directory.Recurse)
	}
	onlyImage(t, "the Application's install", renderFiles(t, files), makeVar(t, "IMAGE_REPO")+":"+version)
}

// The Flux GitRepository fetches the release's tag with only dist/install.yaml left, and the
// Kustomization applies that file.
func TestFluxInstallsTheRelease(t *testing.T) {
	var repo struct {
		APIVersion, Kind string
		Metadata         map[string]any
		Spec             struct {
			Interval string `json:"interval"`
			URL      string `json:"url"`
			Ref      struct {
				Tag string `json:"tag"`
			} `json:"ref"`
			Ignore string `json:"ignore"`
		}
	}
	sample(t, "flux-kustomization.yaml", "GitRepository", "messenger-operator", &repo)
	version := makeVar(t, "VERSION")
	if repo.Spec.URL != repoURL(t) || repo.Spec.Ref.Tag != version {
		t.Fatalf("the GitRepository fetches %s at %q, want %s at %s", repo.Spec.URL, repo.Spec.Ref.Tag, repoURL(t), version)
	}
	var ks struct {
		APIVersion, Kind string
		Metadata         map[string]any
		Spec             struct {
			SourceRef struct{ Kind, Name string } `json:"sourceRef"`
			Path      string                      `json:"path"`
			Interval  string                      `json:"interval"`
			Prune     bool                        `json:"prune"`
			Wait      bool                        `json:"wait"`
			Timeout   string                      `json:"timeout"`
		}
	}
	sample(t, "flux-kustomization.yaml", "Kustomization", "messenger-operator", &ks)
	if ks.Spec.SourceRef.Name != "messenger-operator" || ks.Spec.Path != "./dist" || !ks.Spec.Wait {
		t.Fatalf("the Kustomization %+v", ks.Spec)
	}
	// The ignore rules (gitignore syntax) applied to the repository's files, as the source
	// controller does: what is left under the path is what Flux applies.
	ignore := filepath.Join(t.TempDir(), "ignore")
	must(t, os.WriteFile(ignore, []byte(repo.Spec.Ignore), 0o644))
	root := testenv.RepoRoot()
	all := strings.Fields(string(run(t, nil, "git", "-C", root, "ls-files", "--cached")))
	ignored := strings.Fields(string(run(t, nil, "git", "-C", root, "ls-files", "--cached", "--ignored", "--exclude-from="+ignore)))
	var kept []string
	for _, f := range all {
		if !slices.Contains(ignored, f) {
			kept = append(kept, f)
		}
	}
	if !slices.Equal(kept, []string{"dist/install.yaml"}) {
		t.Fatalf("the GitRepository keeps %v, want dist/install.yaml", kept)
	}
	onlyImage(t, "Flux's install", renderFiles(t, kept), makeVar(t, "IMAGE_REPO")+":"+version)
}
