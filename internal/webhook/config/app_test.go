package config

import (
	"log/slog"
	"strings"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/types"
)

var appKey = types.NamespacedName{Namespace: "shop", Name: "shop"}

const appDocs = `apiVersion: messenger.handover.dev/v1alpha1
kind: MessengerApp
metadata:
  name: shop
spec:
  appID: "1517776481860111"
  secretRef:
    name: app-creds
  graphAPI:
    version: v24.0
---
apiVersion: v1
kind: Secret
metadata:
  name: app-creds
stringData:
  appSecret: app-secret
---
apiVersion: v1
kind: Secret
metadata:
  name: app-verify
stringData:
  verifyToken: generated-verify
---
apiVersion: messenger.handover.dev/v1alpha1
kind: HandoverPolicy
metadata:
  name: support
spec:
  welcome:
    text: "Hello"
`

func appPageDoc(name, pageID, secret string) string {
	return `---
apiVersion: messenger.handover.dev/v1alpha1
kind: MessengerPage
metadata:
  name: ` + name + `
spec:
  pageID: "` + pageID + `"
  appRef:
    name: shop
  secretRef:
    name: ` + secret + `
  policyRef:
    name: support
---
apiVersion: v1
kind: Secret
metadata:
  name: ` + name + `-creds
stringData:
  pageAccessToken: ` + name + `-token
`
}

type appRecorder struct {
	mu   sync.Mutex
	apps []App
}

func (r *appRecorder) ApplyApp(a App) {
	r.mu.Lock()
	r.apps = append(r.apps, a)
	r.mu.Unlock()
}

func (r *appRecorder) last(t *testing.T) App {
	t.Helper()
	if len(r.apps) == 0 {
		t.Fatal("nothing applied")
	}
	return r.apps[len(r.apps)-1]
}

func parseApp(t *testing.T, docs string) AppSnapshot {
	t.Helper()
	s, err := ParseApp([]File{{Name: "app.yaml", Data: []byte(docs)}}, appKey, "app-verify")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAppApplierServesEachPageWithTheAppsSettings(t *testing.T) {
	logs := &logBuffer{}
	rec := &appRecorder{}
	var states []PageState
	a := &AppApplier{Target: rec, Logger: slog.New(slog.NewTextHandler(logs, nil)), Report: func(s []PageState) { states = s }}

	docs := appDocs + appPageDoc("brand", "1000000000000011", "brand-creds") + appPageDoc("support", "1000000000000012", "support-creds")
	a.Update(parseApp(t, docs))
	app := rec.last(t)
	if app.AppID != "1517776481860111" || string(app.AppSecret) != "app-secret" || string(app.VerifyToken) != "generated-verify" ||
		app.Path != "/webhook" || len(app.Pages) != 2 {
		t.Fatalf("app %+v", app)
	}
	for _, p := range app.Pages {
		if string(p.PageAccessToken) != p.Name+"-token" || string(p.AppSecret) != "app-secret" || p.GraphVersion != "v24.0" ||
			p.GraphBaseURL != "https://graph.facebook.com" || p.Handover.AppID != app.AppID {
			t.Fatalf("page %s: %+v", p.Name, p)
		}
	}
	for _, st := range states {
		if st.Err != nil || st.Loading {
			t.Fatalf("state %+v", st)
		}
	}

	// The same snapshot again applies nothing.
	a.Update(parseApp(t, docs))
	if len(rec.apps) != 1 {
		t.Fatalf("%d applies for one configuration", len(rec.apps))
	}

	// support's Secret goes missing: brand is unaffected, support keeps its last good config and
	// says why (no secret value in the message).
	broken := appDocs + appPageDoc("brand", "1000000000000011", "brand-creds") + appPageDoc("support", "1000000000000012", "gone")
	a.Update(parseApp(t, broken))
	if len(rec.apps) != 1 {
		t.Fatal("a broken page changed what is served")
	}
	st := states[1]
	if st.Name != "support" || st.Err == nil || !strings.Contains(st.Err.Error(), `Secret "gone" not found`) || !st.Kept {
		t.Fatalf("support: %+v", st)
	}

	// A second page claiming brand's page id is refused.
	dup := appDocs + appPageDoc("brand", "1000000000000011", "brand-creds") + appPageDoc("copy", "1000000000000011", "copy-creds")
	a.Update(parseApp(t, dup))
	if got := rec.last(t); len(got.Pages) != 1 || got.Pages[0].Name != "brand" {
		t.Fatalf("pages served %+v", got.Pages)
	}
	if states[1].Name != "copy" || states[1].Err == nil || !strings.Contains(states[1].Err.Error(), "served by MessengerPage \"brand\"") {
		t.Fatalf("copy: %+v", states[1])
	}
	if strings.Contains(logs.String(), "app-secret") || strings.Contains(logs.String(), "-token") {
		t.Fatal("a secret reached the logs")
	}

	// The app's Secret goes missing: every page says so, the last good configuration serves.
	a.Update(parseApp(t, strings.Replace(docs, "name: app-creds\nstringData", "name: other\nstringData", 1)))
	for _, st := range states {
		if st.Err == nil || !strings.Contains(st.Err.Error(), `MessengerApp "shop" spec.secretRef: Secret "app-creds" not found`) {
			t.Fatalf("state %+v", st)
		}
	}
}

func TestParseAppTakesOnlyTheAppsPages(t *testing.T) {
	standalone := "---\n" + pageDoc + "---\n" + secretDoc
	s := parseApp(t, appDocs+appPageDoc("brand", "1000000000000011", "brand-creds")+standalone)
	if s.App == nil || len(s.Pages) != 1 || s.Pages[0].Name != "brand" || s.Policies["support"] == nil ||
		s.Secrets["brand-creds"] == nil || s.Secrets["app-creds"] == nil || s.Secrets["acme-credentials"] != nil {
		t.Fatalf("snapshot %+v", s)
	}
}
