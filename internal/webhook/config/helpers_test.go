package config

import (
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/messenger-operator/messenger-operator/internal/handover"
)

var pageKey = types.NamespacedName{Namespace: "shop", Name: "acme"}

const (
	pageDoc = `apiVersion: messenger.handover.dev/v1alpha1
kind: MessengerPage
metadata:
  name: acme
spec:
  pageID: "1000000000000001"
  appID: "1517776481860111"
  businessName: ACME
  secretRef:
    name: acme-credentials
  policyRef:
    name: support
`
	policyDoc = `apiVersion: messenger.handover.dev/v1alpha1
kind: HandoverPolicy
metadata:
  name: support
spec:
  welcome:
    text: "Hello from ACME"
`
	secretDoc = `apiVersion: v1
kind: Secret
metadata:
  name: acme-credentials
stringData:
  pageAccessToken: token-one
  appSecret: secret-one
  verifyToken: verify-one
`
)

// writeFile writes name in dir atomically (rename), as editors and ConfigMap updates do.
func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	tmp := filepath.Join(dir, ".tmp-"+name)
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

func parse(t *testing.T, files ...File) Snapshot {
	t.Helper()
	s, err := Parse(files, pageKey, "")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return s
}

func build(t *testing.T, s Snapshot) Page {
	t.Helper()
	cfg, err := Build(s)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return cfg
}

// welcomeText is what the compiled policy answers to a user's plain message on a thread the bot
// owns: the engine is the judge of what Compile made of the policy.
func welcomeText(t *testing.T, cfg Page) string {
	t.Helper()
	now := time.Unix(1_700_000_000, 0)
	ev := handover.Event{
		Kind: handover.KindMessage, Channel: handover.Messaging, PageID: cfg.PageID,
		PSID: "2000000000000002", Timestamp: now, MID: "m_1", Text: "hello",
	}
	d := handover.Decide(cfg.Handover, ev, handover.Thread{Owner: handover.OwnerUs}, now)
	for _, a := range d.Actions {
		if a.Kind == handover.ActSend && a.Message != nil {
			return a.Message.Text
		}
	}
	t.Fatalf("the policy sent nothing to a plain message: %+v", d)
	return ""
}

// recorder is a Target that keeps what it was given.
type recorder struct {
	mu      sync.Mutex
	applied []Page
	changed chan struct{}
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{}, 100)} }

func (r *recorder) Apply(cfg Page) {
	r.mu.Lock()
	r.applied = append(r.applied, cfg)
	r.mu.Unlock()
	r.changed <- struct{}{}
}

func (r *recorder) all() []Page {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.applied)
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
