// Package crdschema checks the generated CRDs for what `kubectl explain` and `kubectl get`
// show: a description on every field, a message beside every pattern, the Ready message column.
package crdschema

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"

	"github.com/messenger-operator/messenger-operator/test/testenv"
)

func crds(t *testing.T) []apiextensionsv1.CustomResourceDefinition {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(testenv.RepoRoot(), "config", "crd", "bases", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no CRDs under config/crd/bases: %v", err)
	}
	var out []apiextensionsv1.CustomResourceDefinition
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var crd apiextensionsv1.CustomResourceDefinition
		if err := yaml.UnmarshalStrict(b, &crd); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, crd)
	}
	return out
}

// walk calls f on every property of s (path in kubectl explain's dotted form), items and map
// values included.
func walk(s *apiextensionsv1.JSONSchemaProps, path string, f func(path string, p *apiextensionsv1.JSONSchemaProps)) {
	names := make([]string, 0, len(s.Properties))
	for n := range s.Properties {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := s.Properties[n]
		f(path+"."+n, &p)
		walk(&p, path+"."+n, f)
	}
	if s.Items != nil && s.Items.Schema != nil {
		f(path+"[]", s.Items.Schema)
		walk(s.Items.Schema, path+"[]", f)
	}
	if s.AdditionalProperties != nil && s.AdditionalProperties.Schema != nil {
		walk(s.AdditionalProperties.Schema, path+"{}", f)
	}
}

// Every property has a description (kubectl explain shows it), except metadata, whose
// description kubectl takes from ObjectMeta. Items inherit their list's description.
func TestEveryFieldHasADescription(t *testing.T) {
	fields := 0
	for _, crd := range crds(t) {
		for _, v := range crd.Spec.Versions {
			walk(v.Schema.OpenAPIV3Schema, crd.Spec.Names.Kind, func(path string, p *apiextensionsv1.JSONSchemaProps) {
				if strings.HasSuffix(path, "[]") {
					return
				}
				fields++
				if strings.TrimSpace(p.Description) == "" && path != crd.Spec.Names.Kind+".metadata" {
					t.Errorf("%s (%s) has no description", path, v.Name)
				}
			})
		}
	}
	if fields < 300 {
		t.Fatalf("walked only %d fields: the walk misses part of the schemas", fields)
	}
}

// A pattern alone answers "should match '^[0-9]{1,32}$'"; each one a user writes (spec) has a
// CEL rule beside it whose message says what is expected in words. The status is written by
// the operator and the webhook (metav1.Condition's own patterns).
func TestEveryPatternHasAMessage(t *testing.T) {
	patterns := 0
	for _, crd := range crds(t) {
		for _, v := range crd.Spec.Versions {
			walk(v.Schema.OpenAPIV3Schema, crd.Spec.Names.Kind, func(path string, p *apiextensionsv1.JSONSchemaProps) {
				if p.Pattern == "" || !strings.HasPrefix(path, crd.Spec.Names.Kind+".spec.") {
					return
				}
				patterns++
				// The rule is the pattern itself, or (where a regex in CEL would exceed the API
				// server's cost budget inside nested lists) a cheaper test of the same prefix.
				for _, r := range p.XValidations {
					if (strings.Contains(r.Rule, p.Pattern) || strings.Contains(r.Rule, "startsWith('http")) && r.Message != "" && !strings.Contains(r.Message, p.Pattern) {
						return
					}
				}
				t.Errorf("%s: pattern %q has no CEL rule with a message in words", path, p.Pattern)
			})
		}
	}
	if patterns < 30 {
		t.Fatalf("found only %d patterns", patterns)
	}
}

// kubectl get shows Ready and its reason, and with -o wide the Ready message (as Flux and
// cert-manager do).
func TestPrinterColumnsShowTheReadyMessage(t *testing.T) {
	for _, crd := range crds(t) {
		for _, v := range crd.Spec.Versions {
			found := map[string]bool{}
			for _, c := range v.AdditionalPrinterColumns {
				found[c.JSONPath] = true
			}
			for _, want := range []string{
				`.status.conditions[?(@.type=="Ready")].status`,
				`.status.conditions[?(@.type=="Ready")].reason`,
				`.status.conditions[?(@.type=="Ready")].message`,
			} {
				if !found[want] {
					t.Errorf("%s %s: no printer column %s", crd.Spec.Names.Kind, v.Name, want)
				}
			}
		}
	}
}
