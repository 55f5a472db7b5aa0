package main

import "testing"

func TestIsCollection(t *testing.T) {
	for path, want := range map[string]bool{
		"/api/v1/namespaces/ns/secrets":                         true,
		"/api/v1/namespaces/ns/secrets/creds":                   false,
		"/api/v1/namespaces/ns":                                 false,
		"/api/v1/namespaces":                                    true,
		"/apis/apps/v1/deployments":                             true,
		"/apis/apps/v1/namespaces/ns/deployments":               true,
		"/apis/apps/v1/namespaces/ns/deployments/web":           false,
		"/apis/apps/v1/namespaces/ns/deployments/web/status":    false,
		"/apis/messenger.handover.dev/v1alpha1/messengerpages":  true,
		"/apis/messenger.handover.dev/v1alpha1/namespaces/a/xy": true,
		"/version": false,
	} {
		if got := isCollection(path); got != want {
			t.Errorf("isCollection(%q) = %v, want %v", path, got, want)
		}
	}
}

func TestMutatingCountsWrites(t *testing.T) {
	c := map[string]int{"GET": 3, "LIST": 1, "WATCH": 2, "POST": 1, "PUT": 1, "PATCH": 4, "DELETE": 1}
	if got := mutating(c); got != 7 {
		t.Fatalf("mutating = %d, want 7", got)
	}
	if got := total(c); got != 13 {
		t.Fatalf("total = %d, want 13", got)
	}
}

func TestResourceOf(t *testing.T) {
	for path, want := range map[string]string{
		"/api/v1/namespaces/ns/secrets":       "secrets",
		"/api/v1/namespaces/ns/secrets/creds": "secrets",
		"/api/v1/namespaces":                  "namespaces",
		"/api/v1/namespaces/ns":               "namespaces",
		"/apis/messenger.handover.dev/v1alpha1/namespaces/a/messengerpages/p/status": "messengerpages/status",
		"/apis/messenger.handover.dev/v1alpha1/messengerpages":                       "messengerpages",
		"/apis/rbac.authorization.k8s.io/v1/namespaces/a/roles/r":                    "roles",
		"/api/v1/namespaces/a/events":                                                "events",
	} {
		if got := resourceOf(path); got != want {
			t.Errorf("resourceOf(%q) = %q, want %q", path, got, want)
		}
	}
}
