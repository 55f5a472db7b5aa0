package webhookrig

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// App is an app's fixture: the MessengerApp Name in NS with its Secret Name+"-creds" (app secret
// and verify token), served at AppHookPath, calling GraphURL.
type App struct {
	NS, Name, AppID        string
	GraphURL               string
	AppSecret, VerifyToken string
	Pages                  []*AppPage
}

// AppPage is one page of an App: the MessengerPage Name with its policy Name+"-policy" (welcoming
// with Welcome) and its Secret Name+"-creds" (Token).
type AppPage struct {
	Name, PageID, Welcome, Token string
}

// AppHookPath is the ingress path of fixture apps.
const AppHookPath = "/hooks/app"

// Key names the app.
func (a *App) Key() types.NamespacedName { return types.NamespacedName{Namespace: a.NS, Name: a.Name} }

// PageKey names the page name of the app.
func (a *App) PageKey(name string) types.NamespacedName {
	return types.NamespacedName{Namespace: a.NS, Name: name}
}

// SecretName is the Secret of the app (page "") or of its page name.
func (a *App) SecretName(page string) string {
	if page == "" {
		return a.Name + "-creds"
	}
	return page + "-creds"
}

// AppObject is the MessengerApp.
func (a *App) AppObject() *v1alpha1.MessengerApp {
	return &v1alpha1.MessengerApp{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: "MessengerApp"},
		ObjectMeta: metav1.ObjectMeta{Name: a.Name, Namespace: a.NS},
		Spec: v1alpha1.MessengerAppSpec{
			AppID:     a.AppID,
			SecretRef: v1alpha1.AppSecretReference{Name: a.SecretName("")},
			GraphAPI:  v1alpha1.AppGraphAPISpec{BaseURL: a.GraphURL},
			Ingress:   &v1alpha1.IngressSpec{Host: a.NS + ".example", Path: AppHookPath},
		},
	}
}

// Objects are the app's objects: its Secret, the MessengerApp, and each page's policy, Secret and
// MessengerPage.
func (a *App) Objects() []client.Object {
	objs := []client.Object{a.secret("", map[string]string{"appSecret": a.AppSecret, "verifyToken": a.VerifyToken}), a.AppObject()}
	for _, p := range a.Pages {
		objs = append(objs, a.PageObjects(p)...)
	}
	return objs
}

// PageObjects are the policy, the Secret and the MessengerPage of p.
func (a *App) PageObjects(p *AppPage) []client.Object {
	pol := Policy(a.NS, p.Name+"-policy", p.Welcome)
	pol.TypeMeta = metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: "HandoverPolicy"}
	return []client.Object{pol, a.secret(p.Name, map[string]string{"pageAccessToken": p.Token}), &v1alpha1.MessengerPage{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: "MessengerPage"},
		ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: a.NS},
		Spec: v1alpha1.MessengerPageSpec{
			PageID:    p.PageID,
			AppRef:    &v1alpha1.LocalReference{Name: a.Name},
			SecretRef: v1alpha1.SecretReference{Name: a.SecretName(p.Name)},
			PolicyRef: v1alpha1.LocalReference{Name: p.Name + "-policy"},
			GraphAPI:  v1alpha1.GraphAPISpec{MaxSendsPerSecond: ptr.To[int32](0)},
		},
	}}
}

func (a *App) secret(page string, data map[string]string) *corev1.Secret {
	return &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Name: a.SecretName(page), Namespace: a.NS},
		StringData: data,
	}
}

// Create creates objs in the cluster.
func Create(t *testing.T, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		Must(t, Env.Client.Create(context.Background(), o))
	}
}

// AppUser writes the Role the app's webhook needs - its MessengerApp, its pages, their policies,
// and only the Secrets named in secrets, by resourceNames - binds it to the app's ServiceAccount
// and returns that user's connection. Call it again to change the Secrets granted.
func AppUser(t *testing.T, a *App, secrets ...string) *rest.Config {
	t.Helper()
	sa := a.Name + "-app-webhook"
	read := []string{"get", "list", "watch"}
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: sa, Namespace: a.NS},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{v1alpha1.GroupVersion.Group}, Resources: []string{"messengerapps"}, ResourceNames: []string{a.Name}, Verbs: read},
			{APIGroups: []string{v1alpha1.GroupVersion.Group}, Resources: []string{"messengerpages"}, Verbs: []string{"list", "watch"}},
			{APIGroups: []string{v1alpha1.GroupVersion.Group}, Resources: []string{"handoverpolicies"}, Verbs: read},
			{APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: secrets, Verbs: read},
			{APIGroups: []string{v1alpha1.GroupVersion.Group}, Resources: []string{"messengerpages/status"}, Verbs: []string{"patch"}},
			{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"create"}},
		},
	}
	kube := kubernetes.NewForConfigOrDie(Env.Config)
	ctx := context.Background()
	if _, err := kube.RbacV1().Roles(a.NS).Update(ctx, role, metav1.UpdateOptions{}); err != nil {
		_, err = kube.RbacV1().Roles(a.NS).Create(ctx, role, metav1.CreateOptions{})
		Must(t, err)
	}
	user := "system:serviceaccount:" + a.NS + ":" + sa
	_, _ = kube.RbacV1().RoleBindings(a.NS).Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: sa, Namespace: a.NS},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: sa},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}},
	}, metav1.CreateOptions{})
	cfg, err := Env.AddUser(user, "system:serviceaccounts", "system:serviceaccounts:"+a.NS)
	Must(t, err)
	return cfg
}

// WaitServed waits until the page's Served condition has the status and reason and observes
// the page's current generation, and returns it.
func WaitServed(t *testing.T, key types.NamespacedName, want metav1.ConditionStatus, reason string) metav1.Condition {
	t.Helper()
	var cond *metav1.Condition
	Eventually(t, fmt.Sprintf("Served=%s (%s) on %s", want, reason, key), func() bool {
		p := GetPage(t, key)
		cond = meta.FindStatusCondition(p.Status.Conditions, v1alpha1.ConditionServed)
		return cond != nil && cond.Status == want && cond.Reason == reason && cond.ObservedGeneration == p.Generation
	})
	return *cond
}
