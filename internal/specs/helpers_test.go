package specs

import (
	"encoding/json"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

func testPage() *v1alpha1.MessengerPage {
	replicas := int32(1)
	return &v1alpha1.MessengerPage{
		ObjectMeta: metav1.ObjectMeta{Name: "acme", Namespace: "shop", UID: "uid-1", Labels: map[string]string{"argocd.argoproj.io/instance": "x"}},
		Spec: v1alpha1.MessengerPageSpec{
			PageID:    "1000000000000001",
			AppID:     "42",
			SecretRef: v1alpha1.SecretReference{Name: "creds", PageAccessTokenKey: "pageAccessToken", AppSecretKey: "appSecret", VerifyTokenKey: "verifyToken"},
			PolicyRef: v1alpha1.LocalReference{Name: "support"},
			Webhook:   v1alpha1.WebhookSpec{Replicas: &replicas},
		},
	}
}

// typed converts an apply configuration into the API type it configures, to assert on plain
// fields.
func typed[T any](t *testing.T, ac any) *T {
	t.Helper()
	b, err := json.Marshal(ac)
	if err != nil {
		t.Fatal(err)
	}
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return &out
}

func v1alpha1SecretRef(name, page, app, verify string) v1alpha1.SecretReference {
	return v1alpha1.SecretReference{Name: name, PageAccessTokenKey: page, AppSecretKey: app, VerifyTokenKey: verify}
}

func testApp() *v1alpha1.MessengerApp {
	replicas := int32(2)
	return &v1alpha1.MessengerApp{
		ObjectMeta: metav1.ObjectMeta{Name: "acme", Namespace: "shop", UID: "uid-app"},
		Spec: v1alpha1.MessengerAppSpec{
			AppID:     "42",
			SecretRef: v1alpha1.AppSecretReference{Name: "app-creds"},
			Webhook:   v1alpha1.WebhookSpec{Replicas: &replicas},
		},
	}
}
