package specs

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

func withRedis(w *v1alpha1.WebhookSpec, replicas int32, prefix string) {
	w.Replicas = &replicas
	w.Store = &v1alpha1.WebhookStoreSpec{Redis: &v1alpha1.RedisStoreSpec{
		URLSecretRef: v1alpha1.SecretKeySelector{Name: "redis", Key: "url"}, KeyPrefix: prefix}}
}

// With Redis the replicas share their state: a rolling update with no pod unavailable, pods
// spread over nodes, and the URL and key prefix in the environment (the URL by secretKeyRef,
// so the webhook's Role needs no access to that Secret).
func TestDeploymentWithRedis(t *testing.T) {
	page := testPage()
	withRedis(&page.Spec.Webhook, 3, "")
	w := Webhook{Page: page, DefaultImage: "op:1", StoreURLHash: StoreURLHash([]byte("redis://:pw@r:6379/0"))}
	d := typed[appsv1.Deployment](t, Deployment(w))
	if s := d.Spec.Strategy; s.Type != appsv1.RollingUpdateDeploymentStrategyType || s.RollingUpdate.MaxUnavailable.IntValue() != 0 || s.RollingUpdate.MaxSurge.IntValue() != 1 {
		t.Fatalf("strategy: %+v", s)
	}
	pod := d.Spec.Template.Spec
	if len(pod.TopologySpreadConstraints) != 1 {
		t.Fatalf("topology spread: %+v", pod.TopologySpreadConstraints)
	}
	tsc := pod.TopologySpreadConstraints[0]
	if tsc.TopologyKey != corev1.LabelHostname || tsc.MaxSkew != 1 || tsc.LabelSelector == nil || tsc.LabelSelector.MatchLabels[LabelInstance] != page.Name {
		t.Fatalf("topology spread: %+v", tsc)
	}
	env := map[string]corev1.EnvVar{}
	for _, e := range pod.Containers[0].Env {
		env[e.Name] = e
	}
	url := env["REDIS_URL"]
	if url.Value != "" || url.ValueFrom == nil || url.ValueFrom.SecretKeyRef == nil ||
		url.ValueFrom.SecretKeyRef.Name != "redis" || url.ValueFrom.SecretKeyRef.Key != "url" {
		t.Fatalf("REDIS_URL: %+v", url)
	}
	if p := env["REDIS_KEY_PREFIX"].Value; p != "mo:{shop/page/acme}:" {
		t.Fatalf("REDIS_KEY_PREFIX %q", p)
	}
	for _, a := range d.Spec.Template.Annotations {
		if strings.Contains(a, "pw") || strings.Contains(a, "redis://") {
			t.Fatalf("the URL leaks into the pod template: %q", a)
		}
	}
	// Role untouched: the pods read the URL through the kubelet.
	role := Role(w, "creds")
	for _, r := range role.Rules {
		for _, n := range r.ResourceNames {
			if n == "redis" {
				t.Fatalf("the webhook's Role grants the store's Secret: %+v", r)
			}
		}
	}
	// A set prefix is used as it is.
	withRedis(&page.Spec.Webhook, 3, "support:{a}:")
	if got := (Webhook{Page: page}).RedisKeyPrefix(); got != "support:{a}:" {
		t.Fatalf("prefix %q", got)
	}
	app := testApp()
	withRedis(&app.Spec.Webhook, 2, "")
	if got := (Webhook{App: app}).RedisKeyPrefix(); got != "mo:{shop/app/acme}:" {
		t.Fatalf("app prefix %q", got)
	}
}

// A new URL rolls the pods (a new spec hash); the same URL does not.
func TestStoreURLRollsThePods(t *testing.T) {
	page := testPage()
	withRedis(&page.Spec.Webhook, 2, "")
	hash := func(url string) string {
		return PodSpecHash(Webhook{Page: page, DefaultImage: "op:1", StoreURLHash: StoreURLHash([]byte(url))})
	}
	a, b := hash("redis://r1:6379/0"), hash("redis://r2:6379/0")
	if a == b {
		t.Fatal("a changed Redis URL keeps the pod template")
	}
	if a != hash("redis://r1:6379/0") {
		t.Fatal("the same URL changes the pod template")
	}
}

// The PodDisruptionBudget exists only with Redis and two replicas or more.
func TestPodDisruptionBudget(t *testing.T) {
	page := testPage()
	if PodDisruptionBudget(Webhook{Page: page}) != nil {
		t.Fatal("a budget with the memory store")
	}
	withRedis(&page.Spec.Webhook, 1, "")
	if PodDisruptionBudget(Webhook{Page: page}) != nil {
		t.Fatal("a budget of one for one replica would block every drain")
	}
	withRedis(&page.Spec.Webhook, 2, "")
	p := typed[policyv1.PodDisruptionBudget](t, PodDisruptionBudget(Webhook{Page: page}))
	if p.Name != "acme-webhook" || p.Spec.MinAvailable == nil || p.Spec.MinAvailable.IntValue() != 1 ||
		p.Spec.Selector.MatchLabels[LabelInstance] != page.Name || len(p.OwnerReferences) != 1 {
		t.Fatalf("budget: %+v", p)
	}
}
