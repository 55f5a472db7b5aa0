package v1alpha1

import (
	"strings"
	"testing"
)

// Validate repeats the CEL rule on replicas and the store's schema, for pages and apps read from
// a directory.
func TestWebhookStoreValidate(t *testing.T) {
	n := func(v int32) *int32 { return &v }
	redis := func(name, key, prefix string) *WebhookStoreSpec {
		return &WebhookStoreSpec{Redis: &RedisStoreSpec{URLSecretRef: SecretKeySelector{Name: name, Key: key}, KeyPrefix: prefix}}
	}
	for _, tc := range []struct {
		webhook WebhookSpec
		want    string // "" for valid
	}{
		{WebhookSpec{Replicas: n(1)}, ""},
		{WebhookSpec{Replicas: n(2)}, "spec.webhook.replicas: replicas > 1 needs spec.webhook.store.redis"},
		{WebhookSpec{Replicas: n(2), Store: &WebhookStoreSpec{}}, "spec.webhook.replicas: replicas > 1 needs spec.webhook.store.redis"},
		{WebhookSpec{Replicas: n(3), Store: redis("redis", "url", "")}, ""},
		{WebhookSpec{Store: redis("Redis", "url", "")}, "spec.webhook.store.redis.urlSecretRef.name: "},
		{WebhookSpec{Store: redis("redis", "", "")}, "spec.webhook.store.redis.urlSecretRef.key: "},
		{WebhookSpec{Store: redis("redis", "url", "a b")}, "spec.webhook.store.redis.keyPrefix: "},
	} {
		page := minimalPage()
		page.Webhook = tc.webhook
		app := &MessengerAppSpec{AppID: "2", SecretRef: AppSecretReference{Name: "creds"}, Webhook: tc.webhook}
		for what, err := range map[string]error{"page": page.Validate(), "app": app.Validate()} {
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("%s %+v: %v", what, tc.webhook, err)
			case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)):
				t.Errorf("%s %+v: %v, want %q", what, tc.webhook, err, tc.want)
			}
		}
	}
}

func TestRedisKeyPrefixAndURL(t *testing.T) {
	w := WebhookSpec{}
	if got := w.RedisKeyPrefix("app", "shop", "acme"); got != "mo:{shop/app/acme}:" {
		t.Fatalf("default prefix %q", got)
	}
	w.Store = &WebhookStoreSpec{Redis: &RedisStoreSpec{KeyPrefix: "x:"}}
	if got := w.RedisKeyPrefix("app", "shop", "acme"); got != "x:" {
		t.Fatalf("set prefix %q", got)
	}
	for url, ok := range map[string]bool{
		"redis://r:6379/0": true, "rediss://:secret@r.example.com:6380/2": true,
		"http://r:6379": false, "redis://": false, "r:6379": false, "rediss://:secret@%zz": false,
	} {
		err := CheckRedisURL(url)
		if (err == nil) != ok {
			t.Errorf("%q: %v", url, err)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("the error repeats the URL: %v", err)
		}
	}
}
