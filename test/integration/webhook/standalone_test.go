package webhook

import (
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/messenger-operator/messenger-operator/internal/webhook"
	rig "github.com/messenger-operator/messenger-operator/test/webhookrig"
)

func writeManifest(t *testing.T, dir, name, content string) {
	t.Helper()
	tmp := filepath.Join(dir, "."+name+".tmp")
	rig.Must(t, os.WriteFile(tmp, []byte(content), 0o600))
	rig.Must(t, os.Rename(tmp, filepath.Join(dir, name)))
}

func TestStandaloneModeReloadsTheManifests(t *testing.T) {
	graph := newFakeGraph(t)
	dir := t.TempDir()
	pageYAML := `apiVersion: messenger.handover.dev/v1alpha1
kind: MessengerPage
metadata:
  name: acme
  namespace: shop
spec:
  pageID: "` + pageID + `"
  appID: "` + appID + `"
  secretRef: {name: creds}
  policyRef: {name: support}
  graphAPI:
    baseURL: ` + graph.URL + `
    maxSendsPerSecond: 0
---
apiVersion: v1
kind: ConfigMap
metadata: {name: unrelated}
data: {a: b}
`
	policyYAML := `apiVersion: messenger.handover.dev/v1alpha1
kind: HandoverPolicy
metadata: {name: support}
spec:
  welcome: {text: "Hello v1"}
`
	secretYAML := `apiVersion: v1
kind: Secret
metadata: {name: creds}
data:
  pageAccessToken: dG9rZW4tb25l # token-one
stringData:
  appSecret: secret-one
  verifyToken: verify-one
`
	writeManifest(t, dir, "page.yaml", pageYAML)
	writeManifest(t, dir, "policy.yaml", policyYAML)

	wh := rig.Start(t, webhook.Options{
		Page: types.NamespacedName{Namespace: "shop", Name: "acme"}, ManifestsDir: dir, ReloadInterval: 20 * time.Millisecond,
	})
	fb := &messenger{url: wh.URL + "/webhook"}
	rig.Eventually(t, "the missing Secret to be reported", func() bool {
		return wh.Logs.Count(`Secret \"creds\" not found`) > 0
	})
	if wh.Ready(t) {
		t.Fatal("ready without the Secret")
	}
	writeManifest(t, dir, "secret.yaml", secretYAML)
	rig.Eventually(t, "readiness", func() bool { return wh.Ready(t) })

	const psid = "2000000000000002"
	if got := fb.ask(t, graph, "secret-one", psid); got != "Hello v1" {
		t.Fatalf("reply %q", got)
	}
	if tok := graph.lastToken(); tok != "token-one" {
		t.Fatalf("Graph called with token %q", tok)
	}

	writeManifest(t, dir, "policy.yaml", strings.Replace(policyYAML, "Hello v1", "Hello v2", 1))
	fb.askUntil(t, graph, "secret-one", psid, "Hello v2")

	// A broken file: logged, the last good configuration keeps serving.
	writeManifest(t, dir, "policy.yaml", strings.Replace(policyYAML, "welcome:", "welcom:", 1))
	rig.Eventually(t, "the broken file to be logged", func() bool { return wh.Logs.Count("invalid manifests") > 0 })
	if got := fb.ask(t, graph, "secret-one", psid); got != "Hello v2" {
		t.Fatalf("reply %q after a broken edit", got)
	}
	if _, body := rig.Get(t, wh.ProbeURL+"/metrics"); !strings.Contains(body, "messenger_webhook_config_valid 0") {
		t.Error("/metrics does not show that the latest manifests are invalid")
	}

	// A new app secret: the old signature is refused.
	writeManifest(t, dir, "policy.yaml", policyYAML)
	writeManifest(t, dir, "secret.yaml", strings.Replace(secretYAML, "secret-one", "secret-two", 1))
	rig.Eventually(t, "the new app secret", func() bool { return fb.post(t, "secret-two", psid, "hi") == http.StatusOK })
	if code := fb.post(t, "secret-one", psid, "hi"); code != http.StatusForbidden {
		t.Fatalf("old signature: %d", code)
	}
	fb.askUntil(t, graph, "secret-two", psid, "Hello v1")

	// At least the three good configurations: the rotation writes two files, which a reload may
	// see one at a time.
	if code, body := rig.Get(t, wh.ProbeURL+"/metrics"); code != 200 || !strings.Contains(body, "go_goroutines") ||
		!strings.Contains(body, "messenger_webhook_config_valid 1") || appliedTotal(body) < 3 {
		t.Fatalf("/metrics: %d\n%s", code, body)
	}
	if code, _ := rig.Get(t, wh.ProbeURL+"/healthz"); code != 200 {
		t.Fatalf("/healthz: %d", code)
	}
	if _, err := wh.Stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	for _, s := range []string{"token-one", "secret-one", "secret-two", "verify-one"} {
		if strings.Contains(wh.Logs.String(), s) {
			t.Errorf("a secret (%s) reached the logs", s)
		}
	}
}

// appliedTotal reads messenger_webhook_config_applied_total from a /metrics body (-1 if absent).
func appliedTotal(body string) float64 {
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, "messenger_webhook_config_applied_total "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err == nil {
				return f
			}
		}
	}
	return -1
}
