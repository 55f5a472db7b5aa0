package v1alpha1

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	"sigs.k8s.io/yaml"
)

// The Go defaults (Default on each kind) equal the CRDs' +kubebuilder:default markers: each
// manifest below is defaulted by the API server's own algorithm from the generated CRD and by Go,
// and the results must match field by field. Every default of the schemas must be exercised by
// some manifest, so a marker added without its Go twin (or the reverse) fails here.
func TestGoDefaultsEqualCRDDefaults(t *testing.T) {
	for _, tc := range []struct {
		crd       string
		manifests []string
		goDefault func(manifest []byte) (any, error)
		// goOnly are paths Go defaults without a marker, on manifests where goOnlyApplies.
		goOnly        []string
		goOnlyApplies func(manifest map[string]any) bool
	}{
		{
			crd:    "messenger.handover.dev_messengerpages.yaml",
			goOnly: StandaloneDefaultPaths,
			goOnlyApplies: func(m map[string]any) bool {
				spec, _ := m["spec"].(map[string]any)
				_, appRef := spec["appRef"]
				return !appRef
			},
			manifests: []string{
				`{"spec": {"pageID": "1", "appRef": {"name": "acme"}, "secretRef": {"name": "creds"}, "policyRef": {"name": "support"}}}`,
				`{"spec": {"pageID": "1", "appRef": {"name": "acme"}, "secretRef": {"name": "creds", "pageAccessTokenKey": "t"}, "policyRef": {"name": "support"},
				  "graphAPI": {"maxSendsPerSecond": 10}, "subscription": {}}}`,
				`{"spec": {"pageID": "1", "appID": "2", "secretRef": {"name": "creds"}, "policyRef": {"name": "support"}}}`,
				`{"spec": {"pageID": "1", "appID": "2", "secretRef": {"name": "creds"}, "policyRef": {"name": "support"},
				  "ingress": {"host": "m.example.com", "tls": {"secretName": "tls", "issuer": {"name": "letsencrypt"}}},
				  "subscription": {}}}`,
				`{"spec": {"pageID": "1", "appID": "2", "secretRef": {"name": "creds", "appSecretKey": "s"}, "policyRef": {"name": "support"},
				  "graphAPI": {"maxSendsPerSecond": 0}, "webhook": {"replicas": 0}, "ingress": {"host": "m.example.com", "path": "/hook"},
				  "subscription": {"registerCallback": false, "fields": ["messages"]}},
				  "status": {"observedGeneration": 3}}`,
			},
			goDefault: func(b []byte) (any, error) {
				var p MessengerPage
				err := json.Unmarshal(b, &p)
				p.Default()
				return &p, err
			},
		},
		{
			crd: "messenger.handover.dev_messengerapps.yaml",
			manifests: []string{
				`{"spec": {"appID": "2", "secretRef": {"name": "creds"}}}`,
				`{"spec": {"appID": "2", "secretRef": {"name": "creds", "appSecretKey": "s"},
				  "ingress": {"host": "m.example.com", "tls": {"secretName": "tls", "issuer": {"name": "letsencrypt"}}},
				  "graphAPI": {"version": "v24.0"}, "webhook": {"replicas": 0}, "subscription": {}}}`,
				`{"spec": {"appID": "2", "secretRef": {"name": "creds"}, "ingress": {"host": "m.example.com", "path": "/hook"},
				  "subscription": {"registerCallback": false, "fields": ["messages"]}},
				  "status": {"observedGeneration": 3}}`,
			},
			goDefault: func(b []byte) (any, error) {
				var a MessengerApp
				err := json.Unmarshal(b, &a)
				a.Default()
				return &a, err
			},
		},
		{
			crd: "messenger.handover.dev_handoverpolicies.yaml",
			manifests: []string{
				`{}`,
				`{"spec": {"businessHours": {"timeZone": "Europe/Paris", "windows": [{"day": "Monday", "start": "09:00", "end": "17:00"}]}}}`,
				`{"spec": {"welcome": {"text": "hi"}, "handoff": {"targetAppID": "7"}, "onRequest": "Ignore",
				  "businessHours": {"timeZone": "UTC", "windows": [{"day": "Monday", "start": "09:00", "end": "17:00"}],
				    "outsideHours": {"action": "PassAnyway"}}}}`,
			},
			goDefault: func(b []byte) (any, error) {
				var p HandoverPolicy
				err := json.Unmarshal(b, &p)
				p.Default()
				return &p, err
			},
		},
	} {
		t.Run(tc.crd, func(t *testing.T) {
			schema := loadSchema(t, tc.crd)
			exercised := map[string]bool{}
			for i, m := range tc.manifests {
				var crdSide map[string]any
				if err := json.Unmarshal([]byte(m), &crdSide); err != nil {
					t.Fatalf("manifest %d: %v", i, err)
				}
				structuraldefaulting.Default(crdSide, schema)
				typed, err := tc.goDefault([]byte(m))
				if err != nil {
					t.Fatalf("manifest %d: %v", i, err)
				}
				goSide := normalize(t, typed)
				var goOnly []string
				if tc.goOnlyApplies != nil && tc.goOnlyApplies(crdSide) {
					goOnly = tc.goOnly
				}
				for _, part := range []string{"spec", "status"} {
					for _, d := range diff(part, normalize(t, crdSide[part]), goSide[part]) {
						if !slices.ContainsFunc(goOnly, func(p string) bool { return strings.HasPrefix(d, p+": ") }) {
							t.Errorf("manifest %d: %s", i, d)
						}
					}
				}
				markPresent(crdSide, "", exercised)
			}
			for _, path := range defaultedPaths(schema, "") {
				if !exercised[path] {
					t.Errorf("the CRD defaults %s, which no manifest of this test reaches: add one", path)
				}
			}
		})
	}
}

func loadSchema(t *testing.T, file string) *structuralschema.Structural {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "config", "crd", "bases", file))
	if err != nil {
		t.Fatal(err)
	}
	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.Unmarshal(raw, &crd); err != nil {
		t.Fatal(err)
	}
	if len(crd.Spec.Versions) != 1 {
		t.Fatalf("%s: %d versions; this test reads the one of v1alpha1", file, len(crd.Spec.Versions))
	}
	var internal apiextensions.JSONSchemaProps
	if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(crd.Spec.Versions[0].Schema.OpenAPIV3Schema, &internal, nil); err != nil {
		t.Fatal(err)
	}
	s, err := structuralschema.NewStructural(&internal)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// normalize turns a value into what JSON makes of it (numbers as float64, omitted zero fields).
func normalize(t *testing.T, v any) map[string]any {
	t.Helper()
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// diff lists the paths where the CRD's defaulting and Go's differ.
func diff(path string, crd, goSide any) []string {
	cm, cok := crd.(map[string]any)
	gm, gok := goSide.(map[string]any)
	if cok && gok {
		var out []string
		keys := map[string]bool{}
		for k := range cm {
			keys[k] = true
		}
		for k := range gm {
			keys[k] = true
		}
		for _, k := range sortedKeys(keys) {
			out = append(out, diff(path+"."+k, cm[k], gm[k])...)
		}
		return out
	}
	if crd == nil && isZeroJSON(goSide) {
		return nil // Go encodes a zero field the API server leaves absent: no default
	}
	if !reflect.DeepEqual(crd, goSide) {
		return []string{fmt.Sprintf("%s: the CRD defaults to %s, Go to %s", path, show(crd), show(goSide))}
	}
	return nil
}

func isZeroJSON(v any) bool {
	switch v := v.(type) {
	case map[string]any:
		return len(v) == 0
	case []any:
		return len(v) == 0
	case string:
		return v == ""
	case float64:
		return v == 0
	case bool:
		return !v
	}
	return v == nil
}

func show(v any) string {
	if v == nil {
		return "nothing"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// defaultedPaths lists the schema's properties that have a default ("spec.graphAPI.version";
// "[]" stands for the items of a list).
func defaultedPaths(s *structuralschema.Structural, path string) []string {
	var out []string
	if s.Items != nil {
		out = append(out, defaultedPaths(s.Items, path+"[]")...)
	}
	for k, p := range s.Properties {
		child := strings.TrimPrefix(path+"."+k, ".")
		if p.Default.Object != nil {
			out = append(out, child)
		}
		out = append(out, defaultedPaths(&p, child)...)
	}
	slices.Sort(out)
	return out
}

// markPresent records the paths present in a defaulted object, in the notation of defaultedPaths.
func markPresent(v any, path string, seen map[string]bool) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			child := strings.TrimPrefix(path+"."+k, ".")
			seen[child] = true
			markPresent(x, child, seen)
		}
	case []any:
		for _, x := range v {
			markPresent(x, path+"[]", seen)
		}
	}
}
