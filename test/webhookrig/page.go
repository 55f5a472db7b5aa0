package webhookrig

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/specs"
)

// The names every fixture page uses in its own namespace.
const (
	PageName   = "acme"
	PolicyName = "support"
	SecretName = "creds"
	HookPath   = "/hooks/acme" // the page's ingress path
)

// Page is one page's fixture: the MessengerPage PageName in NS, its policy PolicyName and its
// Secret SecretName, and the app that answers for it on the simulator.
type Page struct {
	NS                     string
	PageID, AppID, AppName string
	Welcome                string // the policy's welcome text
	GraphURL               string // the Graph API the webhook calls
	// The Secret's values.
	Token, AppSecret, VerifyToken string
}

// Key names the page.
func (p *Page) Key() types.NamespacedName {
	return types.NamespacedName{Namespace: p.NS, Name: PageName}
}

// runs makes namespaces unique across repeated runs (-count) on the same API server.
var runs atomic.Int32

// UniqueNS returns prefix with a number no other call in this process returned.
func UniqueNS(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, runs.Add(1))
}

// Policy is a HandoverPolicy that only welcomes.
func Policy(ns, name, welcome string) *v1alpha1.HandoverPolicy {
	return &v1alpha1.HandoverPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec:       v1alpha1.HandoverPolicySpec{Welcome: v1alpha1.Message{Text: welcome}},
	}
}

// CreatePage creates the page's namespace, its policy and the page itself (no Secret: see
// CreateSecret).
func CreatePage(t *testing.T, p *Page) {
	t.Helper()
	ctx := context.Background()
	c := Env.Client
	Must(t, c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: p.NS}}))
	Must(t, c.Create(ctx, Policy(p.NS, PolicyName, p.Welcome)))
	Must(t, c.Create(ctx, &v1alpha1.MessengerPage{
		ObjectMeta: metav1.ObjectMeta{Name: PageName, Namespace: p.NS},
		Spec: v1alpha1.MessengerPageSpec{
			PageID: p.PageID, AppID: p.AppID,
			SecretRef: v1alpha1.SecretReference{Name: SecretName},
			PolicyRef: v1alpha1.LocalReference{Name: PolicyName},
			GraphAPI:  v1alpha1.GraphAPISpec{BaseURL: p.GraphURL, MaxSendsPerSecond: ptr.To[int32](0)},
			Ingress:   &v1alpha1.IngressSpec{Host: p.NS + ".example", Path: HookPath},
		},
	}))
}

// CreateSecret creates the page's Secret with its token, app secret and verify token.
func CreateSecret(t *testing.T, p *Page) {
	t.Helper()
	Must(t, Env.Client.Create(context.Background(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: SecretName, Namespace: p.NS},
		StringData: map[string]string{"pageAccessToken": p.Token, "appSecret": p.AppSecret, "verifyToken": p.VerifyToken},
	}))
}

// applyOpts writes as the operator does.
var applyOpts = metav1.ApplyOptions{FieldManager: "messenger-operator", Force: true}

// Grant applies the Role the operator writes for the page as it is now, granting the page's
// Secret and the generated one (as when the generated verify token is in use), and the Secrets
// named in more.
func Grant(t *testing.T, key types.NamespacedName, more ...string) {
	t.Helper()
	page := GetPage(t, key)
	secrets := append([]string{page.Spec.SecretRef.Name, specs.VerifyTokenSecretName(page.Name)}, more...)
	role := specs.Role(specs.Webhook{Page: page}, secrets...)
	_, err := kubernetes.NewForConfigOrDie(Env.Config).RbacV1().Roles(key.Namespace).Apply(context.Background(), role, applyOpts)
	Must(t, err)
}

// WebhookUser grants the page's webhook its Role and RoleBinding, as the operator does, and
// returns the connection of the webhook's ServiceAccount.
func WebhookUser(t *testing.T, key types.NamespacedName) *rest.Config {
	t.Helper()
	Grant(t, key)
	binding := specs.RoleBinding(specs.Webhook{Page: GetPage(t, key)})
	_, err := kubernetes.NewForConfigOrDie(Env.Config).RbacV1().RoleBindings(key.Namespace).Apply(context.Background(), binding, applyOpts)
	Must(t, err)
	sa := "system:serviceaccount:" + key.Namespace + ":" + specs.WebhookName(key.Name)
	cfg, err := Env.AddUser(sa, "system:serviceaccounts", "system:serviceaccounts:"+key.Namespace)
	Must(t, err)
	return cfg
}

// GetPage reads the page.
func GetPage(t *testing.T, key types.NamespacedName) *v1alpha1.MessengerPage {
	t.Helper()
	var p v1alpha1.MessengerPage
	Must(t, Env.Client.Get(context.Background(), key, &p))
	return &p
}
