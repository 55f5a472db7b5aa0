package kwok

import (
	"context"
	"fmt"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/specs"
)

var seq atomic.Int32

// namespace creates a fresh namespace named after prefix.
func namespace(t *testing.T, prefix string, labels map[string]string) string {
	t.Helper()
	return createNamespace(t, fmt.Sprintf("%s-%d", prefix, seq.Add(1)), labels)
}

// credentials creates the user's Secret; without a verify token the operator generates one.
func credentials(t *testing.T, ns, name string, verifyToken bool) {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, StringData: map[string]string{
		"pageAccessToken": "page-token-" + name, "appSecret": "app-secret-" + name,
	}}
	if verifyToken {
		s.StringData["verifyToken"] = "verify-" + name
	}
	must(t, cluster.Client.Create(context.Background(), s))
}

func policy(t *testing.T, ns, name string) {
	t.Helper()
	must(t, cluster.Client.Create(context.Background(), &messengerv1alpha1.HandoverPolicy{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}))
}

// newPage creates a page on Secret creds and policy support (which the caller creates), with a
// page ID unique in the cluster.
func newPage(t *testing.T, ns, name string, mutate func(*messengerv1alpha1.MessengerPage)) *messengerv1alpha1.MessengerPage {
	t.Helper()
	n := seq.Add(1)
	p := &messengerv1alpha1.MessengerPage{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: messengerv1alpha1.MessengerPageSpec{
			PageID:    fmt.Sprint(7100000 + n),
			AppID:     fmt.Sprint(8100000 + n),
			SecretRef: messengerv1alpha1.SecretReference{Name: "creds"},
			PolicyRef: messengerv1alpha1.LocalReference{Name: "support"},
		},
	}
	if mutate != nil {
		mutate(p)
	}
	must(t, cluster.Client.Create(context.Background(), p))
	return p
}

func withIngress(p *messengerv1alpha1.MessengerPage) {
	p.Spec.Ingress = &messengerv1alpha1.IngressSpec{
		Host:      p.Name + ".example.com",
		ClassName: ptr.To("nginx"),
		TLS:       &messengerv1alpha1.IngressTLS{SecretName: p.Name + "-tls"},
	}
}

// waitReady waits until the page's status is current and Ready=True with reason Available.
func waitReady(t *testing.T, p client.Object) *messengerv1alpha1.MessengerPage {
	t.Helper()
	got := &messengerv1alpha1.MessengerPage{}
	eventually(t, 90*time.Second, "page "+p.GetNamespace()+"/"+p.GetName()+" Ready", func() (bool, string) {
		if err := cluster.Client.Get(context.Background(), client.ObjectKeyFromObject(p), got); err != nil {
			return false, err.Error()
		}
		r := apimeta.FindStatusCondition(got.Status.Conditions, messengerv1alpha1.ConditionReady)
		ok := r != nil && r.Status == metav1.ConditionTrue && r.Reason == messengerv1alpha1.ReasonAvailable &&
			got.Status.ObservedGeneration == got.Generation && r.ObservedGeneration == got.Generation
		return ok, stringify(got.Status)
	})
	return got
}

// allPagesReady waits for every page in the cluster to be Ready: the tests leave theirs, and
// an operator started later manages them too.
func webhookKey(p client.Object) types.NamespacedName {
	return types.NamespacedName{Namespace: p.GetNamespace(), Name: specs.WebhookName(p.GetName())}
}

// ownedKinds are the objects a page may own, each new for every lookup.
func ownedKinds() map[string]func() client.Object {
	return map[string]func() client.Object{
		"ServiceAccount": func() client.Object { return &corev1.ServiceAccount{} },
		"Role":           func() client.Object { return &rbacv1.Role{} },
		"RoleBinding":    func() client.Object { return &rbacv1.RoleBinding{} },
		"Deployment":     func() client.Object { return &appsv1.Deployment{} },
		"Service":        func() client.Object { return &corev1.Service{} },
		"Ingress":        func() client.Object { return &networkingv1.Ingress{} },
		"Secret":         func() client.Object { return &corev1.Secret{} },
	}
}

// ownedName is the name of the page's object of kind (the generated verify-token Secret for
// Secret).
func ownedName(p client.Object, kind string) types.NamespacedName {
	if kind == "Secret" {
		return types.NamespacedName{Namespace: p.GetNamespace(), Name: specs.VerifyTokenSecretName(p.GetName())}
	}
	return webhookKey(p)
}

// objState identifies one version of one object: a recreated object has a new UID, a written
// one a new resourceVersion.
type objState struct {
	UID             types.UID
	ResourceVersion string
	Generation      int64
}

// ownedObjects lists the page's objects that exist, by kind, and checks each is controlled by
// the page.
func ownedObjects(t *testing.T, p *messengerv1alpha1.MessengerPage) map[string]objState {
	t.Helper()
	out := map[string]objState{}
	for kind, newObj := range ownedKinds() {
		o := newObj()
		err := cluster.Client.Get(context.Background(), ownedName(p, kind), o)
		if client.IgnoreNotFound(err) != nil {
			t.Fatal(err)
		}
		if err != nil {
			continue
		}
		if !metav1.IsControlledBy(o, p) {
			t.Fatalf("%s %s is not controlled by page %s (owners %v)", kind, o.GetName(), p.Name, o.GetOwnerReferences())
		}
		out[kind] = objState{o.GetUID(), o.GetResourceVersion(), o.GetGeneration()}
	}
	return out
}

// managedCounts counts, per namespace/instance/kind, the objects labelled as the operator's:
// a duplicate (a second Deployment for one page, say) shows as a count above one.
func managedCounts(t *testing.T, namespaces ...string) map[string]int {
	t.Helper()
	lists := map[string]client.ObjectList{
		"ServiceAccount": &corev1.ServiceAccountList{}, "Role": &rbacv1.RoleList{}, "RoleBinding": &rbacv1.RoleBindingList{},
		"Deployment": &appsv1.DeploymentList{}, "Service": &corev1.ServiceList{}, "Ingress": &networkingv1.IngressList{},
		"Secret": &corev1.SecretList{},
	}
	out := map[string]int{}
	for _, ns := range namespaces {
		for kind, l := range lists {
			must(t, cluster.Client.List(context.Background(), l, client.InNamespace(ns), client.MatchingLabels(specs.ManagedSelector)))
			items, err := apimeta.ExtractList(l)
			must(t, err)
			for _, it := range items {
				o := it.(client.Object)
				k := fmt.Sprintf("%s/%s %s", ns, o.GetLabels()[specs.LabelInstance], kind)
				if kind == "Secret" { // an owner may have two: the generated verify token and the audit key
					k += " " + o.GetName()
				}
				out[k]++
			}
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
