package e2e

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/specs"
	"github.com/messenger-operator/messenger-operator/test/e2e/harness"
)

// wantAudit checks the webhook's audit of psid's conversation: the lines of want (record, from,
// to, reason), each once and in order, the user named by the HMAC of the PSID with the key the
// operator generated, and no line holding the PSID or any of texts.
func wantAudit(t *testing.T, p *harness.Page, psid string, want [][4]string, texts ...string) {
	t.Helper()
	sec := &corev1.Secret{}
	must(t, env.Cluster.Client.Get(ctx(t), types.NamespacedName{Namespace: p.Namespace, Name: specs.AuditKeySecretName(p.Name)}, sec))
	m := hmac.New(sha256.New, sec.Data[v1alpha1.GeneratedAuditKeyKey])
	m.Write([]byte(psid))
	user := "user=" + hex.EncodeToString(m.Sum(nil)[:16])
	out := p.Webhook.Output()
	var got [][4]string
	for _, line := range strings.Split(out, "\n") {
		if !strings.Contains(line, "msg=handover") || !strings.Contains(line, user) {
			continue
		}
		if strings.Contains(line, psid) {
			t.Errorf("an audit line holds the PSID: %s", line)
		}
		f := fields(line)
		got = append(got, [4]string{f["audit"], f["from"], f["to"], f["reason"]})
	}
	if len(got) != len(want) {
		t.Fatalf("audit of the conversation: %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("audit line %d: %v, want %v", i, got[i], want[i])
		}
	}
	for _, text := range texts {
		if strings.Contains(out, text) {
			t.Errorf("the webhook's log holds the message %q", text)
		}
	}
}

// fields splits a line of slog's text format whose values have no spaces.
func fields(line string) map[string]string {
	out := map[string]string{}
	for _, kv := range strings.Fields(line) {
		if k, v, ok := strings.Cut(kv, "="); ok {
			out[k] = v
		}
	}
	return out
}
