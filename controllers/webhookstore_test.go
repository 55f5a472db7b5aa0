package controllers_test

import (
	"fmt"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/specs"
)

const redisPassword = "hunter2-redis-password"

func redisStore(replicas int32) messengerv1alpha1.WebhookSpec {
	return messengerv1alpha1.WebhookSpec{Replicas: ptr.To(replicas), Store: &messengerv1alpha1.WebhookStoreSpec{
		Redis: &messengerv1alpha1.RedisStoreSpec{URLSecretRef: messengerv1alpha1.SecretKeySelector{Name: "redis", Key: "url"}}}}
}

func (s *pageSuite) redisSecret(t *testing.T, ns, url string) *corev1.Secret {
	t.Helper()
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "redis", Namespace: ns}, Data: map[string][]byte{"url": []byte(url)}}
	s.must(t, s.c.Create(s.ctx, sec))
	return sec
}

// pdb reads the webhook's PodDisruptionBudget; nil when there is none.
func (s *pageSuite) pdb(t *testing.T, k types.NamespacedName) *policyv1.PodDisruptionBudget {
	t.Helper()
	p := &policyv1.PodDisruptionBudget{}
	err := s.c.Get(s.ctx, k, p)
	if apierrors.IsNotFound(err) {
		return nil
	}
	s.must(t, err)
	return p
}

// With spec.webhook.store.redis: a rolling update, a PodDisruptionBudget from two replicas on,
// pods spread over nodes, the URL by secretKeyRef (never in the pod template, the Role or the
// status), and a new URL rolls the pods. Back on the memory store: Recreate and no budget.
func testWebhookStore(t *testing.T, s *pageSuite) {
	ns := s.namespace(t, "store")
	s.secret(t, ns, "creds", "pageAccessToken", "appSecret", "verifyToken")
	s.policy(t, ns, "support")
	sec := s.redisSecret(t, ns, "redis://:"+redisPassword+"@redis-a:6379/0")
	p := newPage(ns, "acme", "1"+fmt.Sprint(nsCounter.Load()), "42"+fmt.Sprint(nsCounter.Load()))
	p.Spec.Webhook = redisStore(2)
	s.must(t, s.c.Create(s.ctx, p))
	k := webhookKey(p)

	var budget *policyv1.PodDisruptionBudget
	s.eventually(t, "the PodDisruptionBudget", func() (bool, string) {
		budget = s.pdb(t, k)
		return budget != nil, "none"
	})
	if budget.Spec.MinAvailable.IntValue() != 1 || budget.Spec.Selector.MatchLabels[specs.LabelInstance] != "acme" {
		t.Errorf("budget: %+v", budget.Spec)
	}
	d := s.deployment(t, p)
	if st := d.Spec.Strategy; st.Type != appsv1.RollingUpdateDeploymentStrategyType || st.RollingUpdate.MaxUnavailable.IntValue() != 0 {
		t.Errorf("strategy %+v", st)
	}
	if tsc := d.Spec.Template.Spec.TopologySpreadConstraints; len(tsc) != 1 || tsc[0].TopologyKey != corev1.LabelHostname {
		t.Errorf("topology spread %+v", tsc)
	}
	var url *corev1.EnvVar
	for i, e := range d.Spec.Template.Spec.Containers[0].Env {
		if e.Name == "REDIS_URL" {
			url = &d.Spec.Template.Spec.Containers[0].Env[i]
		}
	}
	if url == nil || url.ValueFrom == nil || url.ValueFrom.SecretKeyRef == nil || url.ValueFrom.SecretKeyRef.Name != "redis" {
		t.Fatalf("REDIS_URL %+v", url)
	}
	hash := d.Spec.Template.Annotations[specs.SpecHashAnnotation]

	// A new URL in the Secret rolls the pods.
	s.modify(t, sec, func() { sec.Data["url"] = []byte("redis://:" + redisPassword + "@redis-b:6379/0") })
	s.eventually(t, "a new pod template", func() (bool, string) {
		d = s.deployment(t, p)
		h := d.Spec.Template.Annotations[specs.SpecHashAnnotation]
		return h != hash, h
	})
	noPassword := func(what string, v any) {
		t.Helper()
		if strings.Contains(fmt.Sprintf("%+v", v), redisPassword) {
			t.Errorf("the Redis password is in the %s", what)
		}
	}
	noPassword("Deployment", d)
	noPassword("page", s.get(t, p))

	// A value that is no Redis URL stalls the page, without repeating the value.
	s.modify(t, sec, func() { sec.Data["url"] = []byte("http://" + redisPassword + "@x") })
	got := s.waitReady(t, p, want{metav1.ConditionFalse, messengerv1alpha1.ReasonSecretKeyMissing, `is not a redis:// or rediss:// URL`, status.FailedStatus})
	noPassword("page status", got.Status)

	// One replica: no budget (it would block every drain).
	s.modify(t, sec, func() { sec.Data["url"] = []byte("redis://redis-a:6379/0") })
	s.modify(t, p, func() { p.Spec.Webhook.Replicas = ptr.To(int32(1)) })
	s.eventually(t, "the budget gone", func() (bool, string) { return s.pdb(t, k) == nil, "still there" })

	// The memory store: Recreate, never two pods at once.
	s.modify(t, p, func() { p.Spec.Webhook.Store = nil })
	s.eventually(t, "the Recreate strategy", func() (bool, string) {
		d = s.deployment(t, p)
		return d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType && len(d.Spec.Template.Spec.TopologySpreadConstraints) == 0,
			fmt.Sprintf("%+v", d.Spec.Strategy)
	})

	// An app's webhook has the same shape.
	s.secret(t, ns, "acme-app-creds", "appSecret")
	app := newApp(ns, "acme-app", "77"+fmt.Sprint(nsCounter.Load()))
	app.Spec.Webhook = redisStore(3)
	s.must(t, s.c.Create(s.ctx, app))
	s.eventually(t, "the app's PodDisruptionBudget", func() (bool, string) {
		return s.pdb(t, appWebhookKey(app)) != nil, "none"
	})
}
