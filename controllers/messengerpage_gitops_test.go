package controllers_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"sigs.k8s.io/yaml"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/test/testenv"
)

func readGitOps(t *testing.T, rel string, into any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "samples", "gitops", rel))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, into); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
}

// The GitOps example (docs/gitops.md) is accepted by the API server, and both Secret variants
// produce the Secret, with the keys, that the page reads.
func testGitOpsSamples(t *testing.T, s *pageSuite) {
	ns := s.namespace(t, "gitops")
	policy := &messengerv1alpha1.HandoverPolicy{}
	page := &messengerv1alpha1.MessengerPage{}
	readGitOps(t, "base/handoverpolicy.yaml", policy)
	readGitOps(t, "base/messengerpage.yaml", page)
	policy.Namespace, page.Namespace = ns, ns
	s.must(t, s.c.Create(s.ctx, policy))
	s.must(t, s.c.Create(s.ctx, page))
	if page.Spec.PolicyRef.Name != policy.Name || page.Spec.Subscription == nil {
		t.Fatalf("the sample page refers to policy %q (sample %q), subscription %v", page.Spec.PolicyRef.Name, policy.Name, page.Spec.Subscription)
	}
	need := []string{"pageAccessToken", "appSecret"}

	var kust struct{ Resources []string }
	for _, variant := range []string{"external-secrets", "sealed-secrets"} {
		readGitOps(t, variant+"/kustomization.yaml", &kust)
		if !slices.Contains(kust.Resources, "../base") || len(kust.Resources) != 2 {
			t.Fatalf("%s resources: %v", variant, kust.Resources)
		}
	}
	var es struct {
		Spec struct {
			Target struct{ Name string }
			Data   []struct{ SecretKey string }
		}
	}
	readGitOps(t, "external-secrets/externalsecret.yaml", &es)
	var esKeys []string
	for _, d := range es.Spec.Data {
		esKeys = append(esKeys, d.SecretKey)
	}
	var ss struct {
		Metadata struct{ Name string }
		Spec     struct {
			EncryptedData map[string]string `json:"encryptedData"`
			Template      struct{ Metadata struct{ Name string } }
		}
	}
	readGitOps(t, "sealed-secrets/sealedsecret.yaml", &ss)
	for _, k := range need {
		if !slices.Contains(esKeys, k) || ss.Spec.EncryptedData[k] == "" {
			t.Errorf("key %q missing: ExternalSecret %v, SealedSecret %v", k, esKeys, ss.Spec.EncryptedData)
		}
	}
	for what, name := range map[string]string{"ExternalSecret target": es.Spec.Target.Name, "SealedSecret": ss.Metadata.Name, "SealedSecret template": ss.Spec.Template.Metadata.Name} {
		if name != page.Spec.SecretRef.Name {
			t.Errorf("%s makes Secret %q, the page reads %q", what, name, page.Spec.SecretRef.Name)
		}
	}
}
