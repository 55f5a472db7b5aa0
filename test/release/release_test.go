package release

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/yaml"

	"github.com/messenger-operator/messenger-operator/test/testenv"
)

// images returns every image a rendered manifest stream runs or hands on: containers' images,
// the manager's --webhook-image and WEBHOOK_IMAGE, by kind/name.
func images(t *testing.T, stream []byte) map[string][]string {
	t.Helper()
	got := map[string][]string{}
	for _, doc := range docs(stream) {
		var meta struct{ Kind string }
		must(t, yaml.Unmarshal(doc, &meta))
		if meta.Kind != "Deployment" {
			continue
		}
		d := &appsv1.Deployment{}
		must(t, yaml.Unmarshal(doc, d))
		for _, c := range d.Spec.Template.Spec.Containers {
			key := d.Name + "/" + c.Name
			got[key] = append(got[key], c.Image)
			for _, a := range c.Args {
				if v, ok := strings.CutPrefix(a, "--webhook-image="); ok && v != "$(WEBHOOK_IMAGE)" {
					got[key] = append(got[key], v)
				}
			}
			for _, e := range c.Env {
				if e.Name == "WEBHOOK_IMAGE" {
					got[key] = append(got[key], e.Value)
				}
			}
		}
	}
	return got
}

// onlyImage fails unless every image of the stream is want (and there is one).
func onlyImage(t *testing.T, what string, stream []byte, want string) {
	t.Helper()
	got := images(t, stream)
	if len(got) == 0 {
		t.Fatalf("%s: no Deployment", what)
	}
	for key, imgs := range got {
		if len(imgs) < 2 {
			t.Errorf("%s: %s names no webhook image: %v", what, key, imgs)
		}
		for _, img := range imgs {
			if img != want {
				t.Errorf("%s: %s runs or hands on %q, want %q", what, key, img, want)
			}
		}
	}
}

// The committed dist/install.yaml is what `make release` writes for the Makefile's VERSION: the
// manager and the webhooks on the image of that version, nothing else.
func TestCommittedInstallIsTheRelease(t *testing.T) {
	version, repo := makeVar(t, "VERSION"), makeVar(t, "IMAGE_REPO")
	out := release(t, version)
	got, err := os.ReadFile(filepath.Join(out, "install.yaml"))
	must(t, err)
	committed, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "dist", "install.yaml"))
	must(t, err)
	if string(got) != string(committed) {
		t.Fatalf("dist/install.yaml is not the release of %s: run `make release` and commit dist/install.yaml", version)
	}
	onlyImage(t, "dist/install.yaml", committed, repo+":"+version)
	kinds := map[string]int{}
	for _, doc := range docs(committed) {
		var meta struct{ Kind string }
		must(t, yaml.Unmarshal(doc, &meta))
		kinds[meta.Kind]++
	}
	crds, err := os.ReadDir(filepath.Join(testenv.RepoRoot(), "config", "crd", "bases"))
	must(t, err)
	if kinds["CustomResourceDefinition"] != len(crds) || kinds["Deployment"] != 1 || kinds["ClusterRole"] == 0 || kinds["Namespace"] != 1 {
		t.Fatalf("dist/install.yaml holds %v, want every CRD of config/crd/bases (%d), the RBAC and the manager", kinds, len(crds))
	}
}

// `make release VERSION=v1.4.2` builds that version's artefacts: the install and the packaged
// chart both run and hand the webhooks the image v1.4.2, the one form of reference.
func TestReleaseOfAnotherVersion(t *testing.T) {
	repo := makeVar(t, "IMAGE_REPO")
	out := release(t, "v1.4.2")
	install, err := os.ReadFile(filepath.Join(out, "install.yaml"))
	must(t, err)
	onlyImage(t, "install.yaml of v1.4.2", install, repo+":v1.4.2")
	if !strings.HasPrefix(string(install), "# messenger-operator v1.4.2:") {
		t.Errorf("install.yaml does not say its version:\n%.200s", install)
	}
	tgz := filepath.Join(out, "messenger-operator-1.4.2.tgz")
	meta := run(t, nil, helm(t), "show", "chart", tgz)
	if !strings.Contains(string(meta), "version: 1.4.2") || !strings.Contains(string(meta), "appVersion: v1.4.2") {
		t.Fatalf("the packaged chart:\n%s", meta)
	}
	onlyImage(t, "the chart of v1.4.2", run(t, nil, helm(t), "template", "mo", tgz, "-n", "ops"), repo+":v1.4.2")
	// The working tree is untouched: the release edits a copy of config/.
	kust, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "manager", "kustomization.yaml"))
	must(t, err)
	if !strings.Contains(string(kust), "newTag: "+makeVar(t, "VERSION")) {
		t.Fatalf("config/manager/kustomization.yaml changed by the release:\n%s", kust)
	}
}

// A version not of the form vX.Y.Z is refused with a clear error, and nothing is written.
func TestReleaseRefusesABadVersion(t *testing.T) {
	for _, v := range []string{"1.2.3", "v1.2", "latest", "v1.2.3 "} {
		out := t.TempDir()
		msg, err := runErr([]string{"HELM=" + helm(t)}, filepath.Join(testenv.RepoRoot(), "hack", "release.sh"), v, out)
		if err == nil || !strings.Contains(string(msg), "is not of the form vX.Y.Z") {
			t.Errorf("release %q: %v\n%s", v, err, msg)
		}
		if entries, _ := os.ReadDir(out); len(entries) != 0 {
			t.Errorf("release %q wrote %v", v, entries)
		}
	}
}

// Every reference to the operator's image in the repository (manifests, chart, docs, samples)
// has the form vX.Y.Z, and those that name the release name this one.
func TestImageReferencesHaveOneForm(t *testing.T) {
	root := testenv.RepoRoot()
	version, repo := makeVar(t, "VERSION"), makeVar(t, "IMAGE_REPO")
	ref := regexp.MustCompile(regexp.QuoteMeta(repo) + `:([^\s"'` + "`" + `)]*)`)
	form := regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+$`)
	var checked int
	for _, dir := range []string{"config", "dist", "docs", "README.md", "Makefile", "Dockerfile", "cmd", "hack"} {
		must(t, filepath.WalkDir(filepath.Join(root, dir), func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || strings.HasSuffix(path, ".tgz") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range ref.FindAllSubmatch(b, -1) {
				checked++
				if tag := string(m[1]); !form.MatchString(tag) || (!strings.HasPrefix(path, filepath.Join(root, "docs")) && tag != version) {
					rel, _ := filepath.Rel(root, path)
					t.Errorf("%s: %s", rel, m[0])
				}
			}
			return nil
		}))
	}
	if checked < 2 {
		t.Fatalf("only %d image references found", checked)
	}
	// The chart's appVersion is the image tag (the chart's default image).
	chart, err := os.ReadFile(filepath.Join(root, "dist", "chart", "Chart.yaml"))
	must(t, err)
	var c struct{ Version, AppVersion string }
	must(t, yaml.Unmarshal(chart, &c))
	if c.AppVersion != version || "v"+c.Version != version {
		t.Fatalf("Chart.yaml version %s appVersion %s, the Makefile's VERSION %s", c.Version, c.AppVersion, version)
	}
}
