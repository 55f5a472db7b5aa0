package kwok

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/messenger-operator/messenger-operator/test/testenv"
)

// docBlock is a shell block of a document that its marker comment says a test runs.
type docBlock struct {
	file     string
	commands []string
}

var (
	blockMarker = regexp.MustCompile("(?m)^<!-- test/kwok/readme_test.go runs the commands of this block.*-->\n```sh\n((?s).*?)```")
	releaseURL  = regexp.MustCompile(`https://github\.com/messenger-operator/messenger-operator/releases/download/(v[^/\s]+)/install\.yaml`)
)

// docBlocks extracts the marked blocks of a document: one command a line, continuations joined,
// comments dropped.
func docBlocks(t *testing.T, file string) []docBlock {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), file))
	must(t, err)
	var blocks []docBlock
	for _, m := range blockMarker.FindAllStringSubmatch(string(b), -1) {
		blk := docBlock{file: file}
		var cmd string
		for _, line := range strings.Split(m[1], "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "#") {
				continue
			}
			if strings.HasSuffix(line, `\`) {
				cmd += strings.TrimSuffix(line, `\`)
				continue
			}
			if cmd += line; strings.TrimSpace(cmd) != "" {
				blk.commands = append(blk.commands, strings.TrimSpace(cmd))
			}
			cmd = ""
		}
		blocks = append(blocks, blk)
	}
	return blocks
}

// uniqueIDs is the edit the documents ask for before applying the samples: the pageIDs and
// appIDs become the reader's own (here: unique in the test cluster, where other tests apply
// the same samples).
func uniqueIDs(t *testing.T, dir string) {
	t.Helper()
	id := regexp.MustCompile(`(pageID|appID): "[0-9]+"`)
	must(t, filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		b = id.ReplaceAllFunc(b, func(m []byte) []byte {
			field := strings.SplitN(string(m), ":", 2)[0]
			return []byte(fmt.Sprintf("%s: \"%d\"", field, int64(6100000000)+int64(seq.Add(1))))
		})
		return os.WriteFile(path, b, 0o644)
	}))
}

// The install commands of README.md and docs/getting-started.md work as written on the kwok
// cluster: each block in a namespace of its own (the kubeconfig's current namespace), in a
// checkout with the samples' IDs edited, the release URL mapped to dist/install.yaml; the
// manager runs as the installed Deployment's pod would once the install made it. The page
// goes Ready (the documents' `kubectl wait`), and the app sample gets its webhook.
func TestDocumentedInstallCommands(t *testing.T) {
	ctx := context.Background()
	root := testenv.RepoRoot()
	blocks := append(docBlocks(t, "README.md"), docBlocks(t, filepath.Join("docs", "getting-started.md"))...)
	if len(blocks) != 3 {
		t.Fatalf("%d marked blocks in README.md and docs/getting-started.md, want 3", len(blocks))
	}
	mk, err := os.ReadFile(filepath.Join(root, "Makefile"))
	must(t, err)
	version := regexp.MustCompile(`(?m)^VERSION \?= (\S+)$`).FindSubmatch(mk)
	if version == nil {
		t.Fatal("no VERSION in the Makefile")
	}
	var op *operator
	namespaces := make([]string, len(blocks))
	for i, blk := range blocks {
		ns := namespace(t, "docs", nil)
		namespaces[i] = ns
		// The reader's checkout, samples edited; and a kubeconfig whose namespace is ns.
		checkout := t.TempDir()
		must(t, os.CopyFS(filepath.Join(checkout, "config", "samples"), os.DirFS(filepath.Join(root, "config", "samples"))))
		uniqueIDs(t, filepath.Join(checkout, "config", "samples"))
		kc := filepath.Join(t.TempDir(), "kubeconfig")
		b, err := os.ReadFile(cluster.Kubeconfig)
		must(t, err)
		must(t, os.WriteFile(kc, b, 0o600))
		if out, err := exec.Command("kubectl", "--kubeconfig", kc, "config", "set-context", "--current", "--namespace", ns).CombinedOutput(); err != nil {
			t.Fatalf("kubectl config set-context: %v\n%s", err, out)
		}
		for _, cmd := range blk.commands {
			for _, m := range releaseURL.FindAllStringSubmatch(cmd, -1) {
				if m[1] != string(version[1]) {
					t.Fatalf("%s installs release %s, the Makefile's VERSION is %s: %s", blk.file, m[1], version[1], cmd)
				}
			}
			cmd = releaseURL.ReplaceAllString(cmd, filepath.Join(root, "dist", "install.yaml"))
			sh := exec.Command("bash", "-euo", "pipefail", "-c", cmd)
			sh.Dir = checkout
			sh.Env = append(os.Environ(), "KUBECONFIG="+kc, "PAGE_TOKEN=page-token", "APP_SECRET=app-secret",
				"BRAND_PAGE_TOKEN=brand-token", "SUPPORT_PAGE_TOKEN=support-token")
			out, err := sh.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: `%s` failed: %v\n%s", blk.file, cmd, err, out)
			}
			t.Logf("%s: %s\n%s", blk.file, cmd, out)
			// The installed manager's pod runs nothing on kwok: run the manager in its place.
			if op == nil && cluster.Client.Get(ctx, types.NamespacedName{Namespace: kustomizeInstall.namespace, Name: kustomizeInstall.deployment}, &appsv1.Deployment{}) == nil {
				op = newOperator(t, kustomizeInstall)
				op.start(t)
			}
		}
	}
	if op == nil {
		t.Fatal("the documented commands installed no manager")
	}
	for _, ns := range namespaces[:2] {
		page := &messengerPage{}
		page.Name, page.Namespace = "acme-support", ns
		got := waitReady(t, page)
		d := &appsv1.Deployment{}
		must(t, cluster.Client.Get(ctx, webhookKey(got), d))
		if img := d.Spec.Template.Spec.Containers[0].Image; img != op.webhookImg {
			t.Fatalf("%s: webhook image %q, want the install's %q", ns, img, op.webhookImg)
		}
	}
	eventually(t, 90*time.Second, "the app sample's webhook", func() (bool, string) {
		d := &appsv1.Deployment{}
		err := cluster.Client.Get(ctx, types.NamespacedName{Namespace: namespaces[2], Name: "acme-webhook-app"}, d)
		if err != nil {
			return false, err.Error()
		}
		return d.Spec.Template.Spec.Containers[0].Image == op.webhookImg, d.Spec.Template.Spec.Containers[0].Image
	})
	// The app's pages wait for a webhook process no test runs here; the later tests expect every
	// page of the cluster to be served: remove the app sample.
	kubectl(t, nil, "delete", "-n", namespaces[2], "messengerpages,messengerapps", "--all", "--wait", "--timeout=60s")
}
