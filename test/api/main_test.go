// Package api tests the CRDs against a real API server: defaults, validation messages, the
// samples and the printer columns.
package api

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/messenger-operator/messenger-operator/test/testenv"
	rig "github.com/messenger-operator/messenger-operator/test/webhookrig"
)

func TestMain(m *testing.M) { rig.Main(m) }

// apply sends a YAML object the way `kubectl apply --server-side` does.
func apply(ctx context.Context, doc string) (*unstructured.Unstructured, error) {
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
		return nil, fmt.Errorf("test YAML: %w", err)
	}
	if u.GetNamespace() == "" {
		u.SetNamespace("default")
	}
	err := rig.Env.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner("kubectl"), client.ForceOwnership)
	return u, err
}

func readSample(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "samples", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
