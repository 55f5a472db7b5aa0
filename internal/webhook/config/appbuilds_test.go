package config

import (
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/types"
)

// clusterObjects gives the snapshot's objects the UID and resourceVersion they have when read
// from the API server (files have none).
func clusterObjects(s AppSnapshot, rv string) AppSnapshot {
	for _, p := range s.Pages {
		p.UID, p.Generation = types.UID("uid-"+p.Name), 1
	}
	for name, p := range s.Policies {
		p.UID, p.ResourceVersion = types.UID("uid-"+name), rv
	}
	for name, sec := range s.Secrets {
		sec.UID, sec.ResourceVersion = types.UID("uid-"+name), rv
	}
	return s
}

// A snapshot of the cluster rebuilds only the pages whose objects changed: with many pages, the
// snapshot that comes with each page joining compiled every page again.
func TestAppApplierBuildsOnlyChangedPages(t *testing.T) {
	rec := &appRecorder{}
	a := &AppApplier{Target: rec}
	docs := appDocs
	for i := range 5 {
		name := fmt.Sprintf("p%d", i)
		docs += appPageDoc(name, fmt.Sprintf("10000000000000%02d", i), name+"-creds")
	}
	a.Update(clusterObjects(parseApp(t, docs), "1"))
	if a.builds != 5 || len(rec.last(t).Pages) != 5 {
		t.Fatalf("%d builds, %d pages served; want 5, 5", a.builds, len(rec.last(t).Pages))
	}
	// The same objects again (another object of the app changed): nothing built.
	a.Update(clusterObjects(parseApp(t, docs), "1"))
	if a.builds != 5 {
		t.Fatalf("%d builds after an unchanged snapshot, want 5", a.builds)
	}
	// One page's Secret changes: that page is built again, with the new token.
	s := clusterObjects(parseApp(t, docs), "1")
	s.Secrets["p3-creds"].ResourceVersion = "2"
	s.Secrets["p3-creds"].StringData["pageAccessToken"] = "rotated"
	a.Update(s)
	if a.builds != 6 {
		t.Fatalf("%d builds after one Secret changed, want 6", a.builds)
	}
	for _, p := range rec.last(t).Pages {
		if want := p.Name + "-token"; p.Name == "p3" && string(p.PageAccessToken) != "rotated" || p.Name != "p3" && string(p.PageAccessToken) != want {
			t.Fatalf("page %s serves token %q", p.Name, p.PageAccessToken)
		}
	}
	// The app's settings change (its Secret): every page is built again.
	s = clusterObjects(parseApp(t, docs), "1")
	s.Secrets["p3-creds"].ResourceVersion = "2"
	s.Secrets["p3-creds"].StringData["pageAccessToken"] = "rotated"
	s.Secrets["app-creds"].StringData["appSecret"] = "new-app-secret"
	a.Update(s)
	if a.builds != 11 || string(rec.last(t).Pages[0].AppSecret) != "new-app-secret" {
		t.Fatalf("%d builds after the app secret changed, want 11", a.builds)
	}
	// Objects read from files have no resourceVersion: built every time.
	a.Update(parseApp(t, docs))
	a.Update(parseApp(t, docs))
	if a.builds != 21 {
		t.Fatalf("%d builds, want 21", a.builds)
	}
}
