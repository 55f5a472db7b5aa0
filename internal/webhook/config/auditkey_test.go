package config

import (
	"os"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/types"
)

// Directory mode reads the audit key from the page's (or the app's) Secret of the manifests.
func TestAuditKeyOfTheManifests(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("page.yaml", `apiVersion: messenger.handover.dev/v1alpha1
kind: MessengerPage
metadata: {name: acme, namespace: shop}
spec: {pageID: "1", appID: "2", secretRef: {name: page-creds}, policyRef: {name: p}}
---
apiVersion: messenger.handover.dev/v1alpha1
kind: MessengerApp
metadata: {name: brand, namespace: shop}
spec: {appID: "2", secretRef: {name: app-creds}}
`)
	write("secrets.yaml", `apiVersion: v1
kind: Secret
metadata: {name: page-creds, namespace: shop}
stringData: {auditKey: page-key}
---
apiVersion: v1
kind: Secret
metadata: {name: app-creds, namespace: shop}
data: {auditKey: YXBwLWtleQ==}
`)
	for _, c := range []struct {
		name string
		app  bool
		want string
	}{{"acme", false, "page-key"}, {"brand", true, "app-key"}, {"missing", false, ""}, {"acme", true, ""}} {
		got, err := AuditKey(dir, types.NamespacedName{Namespace: "shop", Name: c.name}, c.app)
		if err != nil || string(got) != c.want {
			t.Errorf("%s (app %v): %q %v, want %q", c.name, c.app, got, err, c.want)
		}
	}
	write("bad.yaml", "kind: [")
	if _, err := AuditKey(dir, types.NamespacedName{Namespace: "shop", Name: "acme"}, false); err == nil {
		t.Error("manifests that do not parse gave no error")
	}
}
