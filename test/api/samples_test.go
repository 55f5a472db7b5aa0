package api

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/messenger-operator/messenger-operator/test/testenv"
	rig "github.com/messenger-operator/messenger-operator/test/webhookrig"
)

// The samples apply cleanly and refer to each other.
func TestSamplesApply(t *testing.T) {
	ctx := context.Background()
	for _, f := range []string{"placeholder-secrets/page.yaml", "messenger_v1alpha1_handoverpolicy.yaml", "messenger_v1alpha1_messengerpage.yaml"} {
		if _, err := apply(ctx, readSample(t, f)); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	var page struct {
		Spec struct {
			SecretRef struct{ Name string } `json:"secretRef"`
			PolicyRef struct{ Name string } `json:"policyRef"`
		}
	}
	var meta struct{ Metadata struct{ Name string } }
	_ = yaml.Unmarshal([]byte(readSample(t, "messenger_v1alpha1_messengerpage.yaml")), &page)
	_ = yaml.Unmarshal([]byte(readSample(t, "placeholder-secrets/page.yaml")), &meta)
	if page.Spec.SecretRef.Name != meta.Metadata.Name {
		t.Errorf("sample page refers to Secret %q, the sample Secret is %q", page.Spec.SecretRef.Name, meta.Metadata.Name)
	}
	_ = yaml.Unmarshal([]byte(readSample(t, "messenger_v1alpha1_handoverpolicy.yaml")), &meta)
	if page.Spec.PolicyRef.Name != meta.Metadata.Name {
		t.Errorf("sample page refers to policy %q, the sample policy is %q", page.Spec.PolicyRef.Name, meta.Metadata.Name)
	}
}

// kubectl shows the printer columns: READY, REASON, URL, POLICY, AGE for pages; READY, REASON,
// PAGES, AGE for policies.
func TestPrinterColumns(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Fatal("kubectl is needed on PATH for this test")
	}
	ctx := context.Background()
	if _, err := apply(ctx, readSample(t, "messenger_v1alpha1_handoverpolicy.yaml")); err != nil {
		t.Fatal(err)
	}
	if _, err := apply(ctx, readSample(t, "messenger_v1alpha1_messengerpage.yaml")); err != nil {
		t.Fatal(err)
	}
	kc, err := testenv.KubeconfigFor(rig.Env.Config, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(kubectl, "--kubeconfig", kc, "get", "messengerpages,handoverpolicies", "-n", "default").CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl get: %v\n%s", err, out)
	}
	text := string(out)
	for _, header := range []string{"NAME", "READY", "REASON", "URL", "POLICY", "AGE", "PAGES", "acme-support", "support"} {
		if !strings.Contains(text, header) {
			t.Errorf("kubectl get output lacks %q:\n%s", header, text)
		}
	}
	// -o wide adds the Ready message (and, for pages, the token's expiry).
	out, err = exec.Command(kubectl, "--kubeconfig", kc, "get", "messengerpages,handoverpolicies", "-n", "default", "-o", "wide").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "MESSAGE") || !strings.Contains(string(out), "TOKEN EXPIRES") {
		t.Errorf("kubectl get -o wide: %v\n%s", err, out)
	}
	// kubectl explain shows the fields' descriptions, down to the leaves.
	for field, words := range map[string]string{
		"messengerpages.spec.monitoring.podMonitor.interval": "Interval between scrapes",
		"messengerpages.status.token.expiresAt":              "never expires",
		"handoverpolicies.spec.welcome.buttons.buttons.type": "postback",
		"messengerapps.spec.ingress.tls.issuer.kind":         "ClusterIssuer",
	} {
		// The API server publishes a new CRD's OpenAPI schema a moment after the CRD is
		// established; until then kubectl explain cannot find the resource.
		var out []byte
		var err error
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			out, err = exec.Command(kubectl, "--kubeconfig", kc, "explain", field).CombinedOutput()
			if err == nil || !strings.Contains(string(out), "couldn't find resource") || time.Now().After(deadline) {
				break
			}
		}
		if err != nil || !strings.Contains(string(out), words) {
			t.Errorf("kubectl explain %s lacks %q: %v\n%s", field, words, err, out)
		}
	}
	// The short names work too.
	out, err = exec.Command(kubectl, "--kubeconfig", kc, "get", "mpage,hpol", "-n", "default", "-o", "name").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "messengerpage.messenger.handover.dev/acme-support") {
		t.Errorf("kubectl get mpage,hpol: %v\n%s", err, out)
	}
	_ = os.Remove(filepath.Join(filepath.Dir(kc), "kubeconfig"))
}
