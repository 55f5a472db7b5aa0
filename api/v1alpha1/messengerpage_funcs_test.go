package v1alpha1

import (
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func minimalPage() MessengerPageSpec {
	return MessengerPageSpec{PageID: "1", AppID: "2", SecretRef: SecretReference{Name: "creds"}, PolicyRef: LocalReference{Name: "support"}}
}

// Default fills what is absent, keeps what is set (0 included) and changes nothing the second time.
func TestMessengerPageDefault(t *testing.T) {
	s := minimalPage()
	s.Ingress = &IngressSpec{Host: "m.example.com", TLS: &IngressTLS{SecretName: "tls", Issuer: &IssuerReference{Name: "le"}}}
	s.Subscription = &SubscriptionSpec{}
	s.Default()
	if s.SecretRef.PageAccessTokenKey != "pageAccessToken" || s.SecretRef.AppSecretKey != "appSecret" || s.SecretRef.VerifyTokenKey != "verifyToken" ||
		s.GraphAPI.BaseURL != "https://graph.facebook.com" || s.GraphAPI.Version != "v25.0" || *s.GraphAPI.MaxSendsPerSecond != 250 ||
		*s.Webhook.Replicas != 1 || s.Ingress.Path != "/webhook" || s.Ingress.TLS.Issuer.Kind != "ClusterIssuer" ||
		!*s.Subscription.RegisterCallback || s.Subscription.AppAccessTokenKey != "appAccessToken" ||
		!reflect.DeepEqual(s.Subscription.Fields, DefaultSubscriptionFields()) {
		t.Fatalf("defaulted: %+v", s)
	}
	again := *s.DeepCopy()
	again.Default()
	if !reflect.DeepEqual(again, s) {
		t.Fatal("Default is not idempotent")
	}

	zero := int32(0)
	no := false
	set := minimalPage()
	set.GraphAPI.MaxSendsPerSecond = &zero
	set.Webhook.Replicas = &zero
	set.Subscription = &SubscriptionSpec{RegisterCallback: &no, Fields: []string{"messages"}}
	set.Default()
	if *set.GraphAPI.MaxSendsPerSecond != 0 || *set.Webhook.Replicas != 0 || *set.Subscription.RegisterCallback ||
		!reflect.DeepEqual(set.Subscription.Fields, []string{"messages"}) {
		t.Fatalf("set values changed: %+v", set)
	}
	// The default list is the caller's own: changing it changes no other page's.
	s.Subscription.Fields[0] = "changed"
	if DefaultSubscriptionFields()[0] != "messages" {
		t.Fatal("the default fields are shared")
	}

	var p MessengerPage
	p.Default()
	if p.Status.ObservedGeneration != -1 {
		t.Fatalf("a new page's status: %+v", p.Status)
	}
	p.Status = MessengerPageStatus{ObservedGeneration: 4}
	p.Default()
	if p.Status.ObservedGeneration != 4 {
		t.Fatal("Default changed a written status")
	}
}

// The getters give the defaults without changing the object.
func TestMessengerPageGetters(t *testing.T) {
	s := minimalPage()
	if s.SecretRef.GetPageAccessTokenKey() != DefaultPageAccessTokenKey || s.SecretRef.GetAppSecretKey() != DefaultAppSecretKey ||
		s.SecretRef.GetVerifyTokenKey() != DefaultVerifyTokenKey || s.GraphAPI.GetBaseURL() != DefaultGraphBaseURL ||
		s.GraphAPI.GetVersion() != DefaultGraphVersion || s.GraphAPI.GetMaxSendsPerSecond() != DefaultMaxSendsPerSecond ||
		s.Webhook.GetReplicas() != 1 || s.WebhookPath() != "/webhook" || (&IssuerReference{}).GetKind() != "ClusterIssuer" {
		t.Fatal("getter defaults")
	}
	if !reflect.DeepEqual(s, minimalPage()) {
		t.Fatal("a getter changed the spec")
	}
	s.SecretRef.VerifyTokenKey = "vt"
	s.Ingress = &IngressSpec{Host: "h.example.com", Path: "/hook"}
	if s.SecretRef.GetVerifyTokenKey() != "vt" || s.WebhookPath() != "/hook" {
		t.Fatal("getters ignore set values")
	}
	s.Ingress.Path = ""
	if s.WebhookPath() != "/webhook" {
		t.Fatal("an ingress without a path")
	}

	sub := &SubscriptionSpec{}
	if !sub.RegistersCallback() || sub.GetAppAccessTokenKey() != "appAccessToken" || len(sub.GetFields()) != 6 {
		t.Fatal("subscription defaults")
	}
	for _, tc := range []struct {
		spec     *metav1.Duration
		fallback time.Duration
		want     time.Duration
	}{
		{nil, 0, 10 * time.Minute},
		{nil, 3 * time.Minute, 3 * time.Minute},
		{&metav1.Duration{Duration: 2 * time.Minute}, 3 * time.Minute, 2 * time.Minute},
	} {
		sub.RecheckInterval = tc.spec
		if got := sub.GetRecheckInterval(tc.fallback); got != tc.want {
			t.Errorf("recheck %v, fallback %v: %v, want %v", tc.spec, tc.fallback, got, tc.want)
		}
	}
}

// Validate names the field at fault and accepts a minimal page.
func TestMessengerPageValidate(t *testing.T) {
	if err := (&MessengerPageSpec{PageID: "1", AppID: "2", SecretRef: SecretReference{Name: "creds"}, PolicyRef: LocalReference{Name: "p"}}).Validate(); err != nil {
		t.Fatalf("minimal page: %v", err)
	}
	onApp := minimalPage()
	onApp.AppID, onApp.AppRef = "", &LocalReference{Name: "acme"}
	onApp.Subscription = &SubscriptionSpec{Fields: []string{"messages"}}
	if err := onApp.Validate(); err != nil {
		t.Fatalf("a page of an app: %v", err)
	}
	wide := minimalPage()
	wide.BusinessName = strings.Repeat("店", 100) // 300 bytes, 100 characters: what the schema allows
	if err := wide.Validate(); err != nil {
		t.Fatalf("a business name of 100 characters: %v", err)
	}
	n := func(v int32) *int32 { return &v }
	for _, tc := range []struct {
		mutate func(*MessengerPageSpec)
		want   string
	}{
		{func(s *MessengerPageSpec) { s.PageID = "12a" }, "spec.pageID: "},
		{func(s *MessengerPageSpec) { s.AppID = "" }, "spec: set exactly one of spec.appID"},
		{func(s *MessengerPageSpec) { s.AppID = "2a" }, "spec.appID: "},
		{func(s *MessengerPageSpec) { s.AppRef = &LocalReference{Name: "acme"} }, "spec: set exactly one of spec.appID"},
		{func(s *MessengerPageSpec) { s.AppID, s.AppRef = "", &LocalReference{Name: "Acme"} }, "spec.appRef.name: "},
		{func(s *MessengerPageSpec) {
			s.AppID, s.AppRef, s.Ingress = "", &LocalReference{Name: "acme"}, &IngressSpec{Host: "h"}
		}, "spec.ingress: belongs to the MessengerApp"},
		{func(s *MessengerPageSpec) {
			s.AppID, s.AppRef, s.Webhook.Image = "", &LocalReference{Name: "acme"}, "img"
		}, "spec.webhook: belongs to the MessengerApp"},
		{func(s *MessengerPageSpec) {
			s.AppID, s.AppRef, s.GraphAPI.Version = "", &LocalReference{Name: "acme"}, "v24.0"
		}, "spec.graphAPI.baseURL and spec.graphAPI.version: belongs"},
		{func(s *MessengerPageSpec) {
			s.AppID, s.AppRef, s.SecretRef.AppSecretKey = "", &LocalReference{Name: "acme"}, "s"
		}, "spec.secretRef.appSecretKey and spec.secretRef.verifyTokenKey: belongs"},
		{func(s *MessengerPageSpec) {
			s.AppID, s.AppRef, s.Subscription = "", &LocalReference{Name: "acme"}, &SubscriptionSpec{CallbackURL: "https://x"}
		}, "spec.subscription.registerCallback, callbackURL"},
		{func(s *MessengerPageSpec) { s.SecretRef.Name = "" }, "spec.secretRef.name: required"},
		{func(s *MessengerPageSpec) { s.SecretRef.Name = "Creds" }, "spec.secretRef.name: "},
		{func(s *MessengerPageSpec) { s.PolicyRef.Name = "" }, "spec.policyRef.name: required"},
		{func(s *MessengerPageSpec) { s.GraphAPI.BaseURL = "ftp://graph" }, "spec.graphAPI.baseURL: "},
		{func(s *MessengerPageSpec) { s.GraphAPI.BaseURL = "https://graph.example.com/?x=1" }, "spec.graphAPI.baseURL: "},
		{func(s *MessengerPageSpec) { s.GraphAPI.BaseURL = "https://graph.facebook.com/v4.0" }, "spec.graphAPI.baseURL: ends in a Graph API version"},
		{func(s *MessengerPageSpec) { s.GraphAPI.BaseURL = "https://graph.facebook.com/v25.0/" }, "spec.graphAPI.baseURL: ends in a Graph API version"},
		{func(s *MessengerPageSpec) { s.GraphAPI.Version = "25" }, "spec.graphAPI.version: "},
		{func(s *MessengerPageSpec) { s.GraphAPI.MaxSendsPerSecond = n(301) }, "spec.graphAPI.maxSendsPerSecond: "},
		{func(s *MessengerPageSpec) { s.GraphAPI.MaxSendsPerSecond = n(-1) }, "spec.graphAPI.maxSendsPerSecond: "},
		{func(s *MessengerPageSpec) { s.Ingress = &IngressSpec{Host: "h", Path: "hook"} }, "spec.ingress.path: "},
		{func(s *MessengerPageSpec) { s.BusinessName = strings.Repeat("x", 101) }, "spec.businessName: "},
		{func(s *MessengerPageSpec) { s.SecretRef.AppSecretKey = "a/b" }, "spec.secretRef.appSecretKey: "},
	} {
		s := minimalPage()
		tc.mutate(&s)
		before := *s.DeepCopy()
		err := s.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("error %v, want %q", err, tc.want)
		}
		if !reflect.DeepEqual(before, s) {
			t.Errorf("Validate changed the spec: %+v", s)
		}
	}
}
