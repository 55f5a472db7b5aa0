package specs

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
)

func TestNamesAreValidForEveryPageName(t *testing.T) {
	long := strings.Repeat("a", 253)
	for _, page := range []string{"acme", "acme.support", "1page", long, strings.Repeat("b.", 100) + "c", "a-" + strings.Repeat("9", 60)} {
		wn := WebhookName(page)
		if errs := validation.IsDNS1035Label(wn); len(errs) > 0 {
			t.Errorf("WebhookName(%q) = %q: %v", page, wn, errs)
		}
		if errs := validation.IsDNS1123Subdomain(VerifyTokenSecretName(page)); len(errs) > 0 {
			t.Errorf("VerifyTokenSecretName(%q): %v", page, errs)
		}
		if errs := validation.IsValidLabelValue(InstanceValue(page)); len(errs) > 0 {
			t.Errorf("InstanceValue(%q): %v", page, errs)
		}
	}
	if WebhookName("acme") != "acme-webhook" || VerifyTokenSecretName("acme") != "acme-verify-token" || InstanceValue("acme") != "acme" {
		t.Fatal("simple names are not the plain ones")
	}
	// Shortened names stay distinct.
	if WebhookName(long) == WebhookName(long[:252]+"b") || InstanceValue(long) == InstanceValue(long[:252]+"b") {
		t.Fatal("shortened names collide")
	}
}

func TestWebhookURL(t *testing.T) {
	p := testPage()
	if got := WebhookURL(p); got != "http://acme-webhook.shop.svc:80/webhook" {
		t.Fatalf("in-cluster URL %q", got)
	}
	p.Spec.Ingress = ingressSpec("m.acme.example", "/hooks/acme")
	if got := WebhookURL(p); got != "https://m.acme.example/hooks/acme" {
		t.Fatalf("ingress URL %q", got)
	}
	p.Spec.Ingress.Path = ""
	if got := WebhookURL(p); got != "https://m.acme.example/webhook" {
		t.Fatalf("ingress URL without path %q", got)
	}
}
