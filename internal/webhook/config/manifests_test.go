package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseSecretDataAndStringData(t *testing.T) {
	// data is base64 ("token-b64" and "secret-b64"); stringData overrides data key by key, as
	// the API server does.
	secret := `apiVersion: v1
kind: Secret
metadata:
  name: acme-credentials
data:
  pageAccessToken: dG9rZW4tYjY0
  appSecret: c2VjcmV0LWI2NA==
  verifyToken: dmVyaWZ5LWI2NA==
stringData:
  appSecret: secret-plain
`
	s := parse(t, File{"page.yaml", []byte(pageDoc)}, File{"policy.yaml", []byte(policyDoc)}, File{"secret.yaml", []byte(secret)})
	cfg := build(t, s)
	if got := string(cfg.PageAccessToken); got != "token-b64" {
		t.Errorf("page token from data = %q, want token-b64", got)
	}
	if got := string(cfg.AppSecret); got != "secret-plain" {
		t.Errorf("app secret = %q, want stringData's secret-plain over data", got)
	}
	if got := string(cfg.VerifyToken); got != "verify-b64" {
		t.Errorf("verify token = %q, want verify-b64", got)
	}

	s = parse(t, File{"all.yaml", []byte(pageDoc + "---\n" + policyDoc + "---\n" + secretDoc)})
	cfg = build(t, s)
	if string(cfg.PageAccessToken) != "token-one" || string(cfg.AppSecret) != "secret-one" || string(cfg.VerifyToken) != "verify-one" {
		t.Errorf("stringData only: got token %q, secret %q, verify %q", cfg.PageAccessToken, cfg.AppSecret, cfg.VerifyToken)
	}
}

func TestParseMultiDocumentIgnoresOtherKindsAndNamespaces(t *testing.T) {
	other := `# comments only
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: acme
data:
  anything: goes
---
apiVersion: messenger.handover.dev/v1alpha1
kind: HandoverPolicy
metadata:
  name: support
  namespace: elsewhere
spec:
  welcome:
    text: "not ours: another namespace"
---
apiVersion: messenger.handover.dev/v1alpha1
kind: HandoverPolicy
metadata:
  name: unrelated
spec: {}
`
	policyJSON := `{"apiVersion":"messenger.handover.dev/v1alpha1","kind":"HandoverPolicy",
	 "metadata":{"name":"support","namespace":"shop"},"spec":{"welcome":{"text":"Hello from JSON"}}}`
	s := parse(t,
		File{"a.yaml", []byte(pageDoc + "---\n" + secretDoc)},
		File{"b.yaml", []byte(other)},
		File{"c.json", []byte(policyJSON)},
	)
	if s.Page == nil || s.Policy == nil || s.Secret == nil {
		t.Fatalf("snapshot incomplete: page %v, policy %v, secret %v", s.Page != nil, s.Policy != nil, s.Secret != nil)
	}
	if s.Page.Namespace != "shop" || s.Policy.Namespace != "shop" {
		t.Errorf("objects without a namespace belong to the page's: %q, %q", s.Page.Namespace, s.Policy.Namespace)
	}
	if got := welcomeText(t, build(t, s)); got != "Hello from JSON" {
		t.Errorf("welcome = %q, want the policy of the page's namespace", got)
	}
}

func TestParseMissingObjectsGiveAnIncompleteSnapshot(t *testing.T) {
	s := parse(t, File{"page.yaml", []byte(pageDoc)}, File{"policy.yaml", []byte(policyDoc)})
	if s.Page == nil || s.Policy == nil || s.Secret != nil {
		t.Fatalf("want page and policy without secret, got %+v", s)
	}
	_, err := Build(s)
	if err == nil || !strings.Contains(err.Error(), `Secret "acme-credentials" not found`) {
		t.Fatalf("Build without the Secret: %v", err)
	}
	if s := parse(t, File{"policy.yaml", []byte(policyDoc)}); s.Page != nil {
		t.Fatal("no page declared, yet one found")
	}
}

func TestParseRejectsBadDocuments(t *testing.T) {
	cases := map[string]struct {
		files []File
		want  string
	}{
		"unknown field": {
			[]File{{"page.yaml", []byte(strings.Replace(pageDoc, "businessName:", "busnessName:", 1))}},
			`page.yaml, document 1 (MessengerPage "acme")`,
		},
		"declared twice": {
			[]File{{"a.yaml", []byte(policyDoc)}, {"b.yaml", []byte("---\n" + policyDoc)}},
			`(HandoverPolicy "support"): declared again (first in a.yaml, document 1`,
		},
		"not YAML": {
			[]File{{"a.yaml", []byte("kind: [MessengerPage\n")}},
			"a.yaml, document 1",
		},
		"no name": {
			[]File{{"a.yaml", []byte("apiVersion: v1\nkind: Secret\nmetadata: {}\n")}},
			"metadata.name is required",
		},
		"bad base64": {
			[]File{{"s.yaml", []byte("apiVersion: v1\nkind: Secret\nmetadata: {name: x}\ndata: {appSecret: 'not base64!'}\n")}},
			`s.yaml, document 1 (Secret "x")`,
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Parse(c.files, pageKey, "")
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not contain %q", err, c.want)
			}
		})
	}
}

func TestReadDirSkipsHiddenAndOtherFiles(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "page.yaml", pageDoc)
	writeFile(t, dir, "notes.txt", "not a manifest")
	if err := os.Mkdir(filepath.Join(dir, "..data"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "..data", "x.yaml"), []byte("broken: ["), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "..data", "x.yaml"), filepath.Join(dir, ".hidden.yaml")); err != nil {
		t.Fatal(err)
	}
	// A ConfigMap volume shows its keys as links into ..data.
	if err := os.WriteFile(filepath.Join(dir, "..data", "policy.yaml"), []byte(policyDoc), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join("..data", "policy.yaml"), filepath.Join(dir, "policy.yaml")); err != nil {
		t.Fatal(err)
	}
	files, err := ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		names = append(names, f.Name)
	}
	if strings.Join(names, ",") != "page.yaml,policy.yaml" {
		t.Fatalf("files read: %v", names)
	}
}

func TestParseReadsTheGeneratedVerifyTokenSecretItIsTold(t *testing.T) {
	secret := strings.Replace(secretDoc, "  verifyToken: verify-one\n", "", 1)
	generated := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: acme-verify-token\nstringData:\n  verifyToken: generated-one\n"
	files := []File{{"page.yaml", []byte(pageDoc)}, {"policy.yaml", []byte(policyDoc)},
		{"secret.yaml", []byte(secret)}, {"generated.yaml", []byte(generated)}}
	s, err := Parse(files, pageKey, "acme-verify-token")
	if err != nil {
		t.Fatal(err)
	}
	if cfg := build(t, s); string(cfg.VerifyToken) != "generated-one" {
		t.Fatalf("verify token = %q", cfg.VerifyToken)
	}
	// Not told of it: the Secret is just another object, and the user's Secret lacks the key.
	s = parse(t, files...)
	if _, err := Build(s); err == nil || !strings.Contains(err.Error(), `has no key "verifyToken"`) {
		t.Fatalf("Build without the generated Secret's name: %v", err)
	}
}
