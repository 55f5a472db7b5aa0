package pagesource

import (
	"context"
	"log/slog"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// The resources of the API kinds, for the dynamic client.
var (
	PagesResource    = v1alpha1.GroupVersion.WithResource("messengerpages")
	PoliciesResource = v1alpha1.GroupVersion.WithResource("handoverpolicies")
)

// ClusterSource watches a page's objects in the cluster: one informer per named object, each
// field-selected on metadata.name, which is what lets list/watch work with a Role that grants
// them by resourceNames. It follows the page's references: when secretRef, policyRef or
// status.verifyTokenSecret name another object, the informer of the old one stops and one for
// the new one starts. While the API server is unreachable the informers keep what they had, so
// nothing changes until it is back.
type ClusterSource struct {
	Dynamic dynamic.Interface
	Kube    kubernetes.Interface
	Page    types.NamespacedName
	Logger  *slog.Logger
}

// Run delivers a snapshot whenever one of the watched objects changes, once every running
// informer has synced, until ctx is done.
func (c *ClusterSource) Run(ctx context.Context, update func(Snapshot)) error {
	kick := make(chan struct{}, 1)
	signal := func() {
		select {
		case kick <- struct{}{}:
		default:
		}
	}
	ns := c.Page.Namespace
	page := c.watch(ctx, c.Page.Name, signal, func(tweak func(*metav1.ListOptions)) cache.SharedIndexInformer {
		return dynamicinformer.NewFilteredDynamicInformer(c.Dynamic, PagesResource, ns, 0, cache.Indexers{}, tweak).Informer()
	})
	startPolicy := func(name string) *namedInformer {
		return c.watch(ctx, name, signal, func(tweak func(*metav1.ListOptions)) cache.SharedIndexInformer {
			return dynamicinformer.NewFilteredDynamicInformer(c.Dynamic, PoliciesResource, ns, 0, cache.Indexers{}, tweak).Informer()
		})
	}
	startSecret := func(name string) *namedInformer {
		return c.watch(ctx, name, signal, func(tweak func(*metav1.ListOptions)) cache.SharedIndexInformer {
			return coreinformers.NewFilteredSecretInformer(c.Kube, ns, 0, cache.Indexers{}, tweak)
		})
	}
	var policy, secret, verify *namedInformer
	defer func() {
		for _, w := range []*namedInformer{page, policy, secret, verify} {
			w.stop()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-kick:
		}
		if !page.inf.HasSynced() {
			continue // its sync kicks again
		}
		var s Snapshot
		var refs Refs
		if obj := page.get(); obj != nil {
			s.Page = &v1alpha1.MessengerPage{}
			if !c.convert(obj, s.Page) {
				s.Page = nil
			} else {
				refs = RefsOf(s.Page)
			}
		}
		policy = retarget(policy, refs.Policy, startPolicy)
		secret = retarget(secret, refs.Secret, startSecret)
		if !policy.synced() || !secret.synced() {
			continue
		}
		userSecret, _ := secret.get().(*corev1.Secret)
		// The generated verify token is watched only while the user's Secret lacks one: an
		// informer that cannot sync (a name the Role does not grant) must not hold up the rest.
		verifyName := ""
		if !hasVerifyToken(s.Page, userSecret) {
			verifyName = refs.VerifyTokenSecret
		}
		verify = retarget(verify, verifyName, startSecret)
		if !verify.synced() {
			continue
		}
		if obj := policy.get(); obj != nil {
			s.Policy = &v1alpha1.HandoverPolicy{}
			if !c.convert(obj, s.Policy) {
				s.Policy = nil
			}
		}
		s.Secret = userSecret
		if obj, ok := verify.get().(*corev1.Secret); ok {
			s.VerifyTokenSecret = obj
		}
		update(s)
	}
}

// hasVerifyToken says whether the user's Secret holds the page's verify token.
func hasVerifyToken(page *v1alpha1.MessengerPage, secret *corev1.Secret) bool {
	if page == nil || secret == nil {
		return false
	}
	return len(secretData(secret)[page.Spec.SecretRef.GetVerifyTokenKey()]) > 0
}

// namedInformer is an informer on one object, by name.
type namedInformer struct {
	name   string
	ns     string
	inf    cache.SharedIndexInformer
	cancel context.CancelFunc
}

func (c *ClusterSource) watch(ctx context.Context, name string, signal func(), build func(func(*metav1.ListOptions)) cache.SharedIndexInformer) *namedInformer {
	selector := fields.OneTermEqualSelector("metadata.name", name).String()
	inf := build(func(o *metav1.ListOptions) { o.FieldSelector = selector })
	// Strip what the webhook never reads: the informer keeps one copy per object for the life of
	// the process.
	_ = inf.SetTransform(func(obj any) (any, error) {
		if m, ok := obj.(metav1.Object); ok {
			m.SetManagedFields(nil)
		}
		return obj, nil
	})
	on := func(any) { signal() }
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    on,
		UpdateFunc: func(_, _ any) { signal() },
		DeleteFunc: on,
	})
	ictx, cancel := context.WithCancel(ctx)
	go inf.RunWithContext(ictx)
	go func() {
		if cache.WaitForCacheSync(ictx.Done(), inf.HasSynced) {
			signal()
		}
	}()
	return &namedInformer{name: name, ns: c.Page.Namespace, inf: inf, cancel: cancel}
}

// retarget keeps w when it already watches name, else stops it and starts one on name (none
// for an empty name).
func retarget(w *namedInformer, name string, start func(string) *namedInformer) *namedInformer {
	if w != nil && w.name == name {
		return w
	}
	w.stop()
	if name == "" {
		return nil
	}
	return start(name)
}

func (w *namedInformer) stop() {
	if w != nil {
		w.cancel()
	}
}

// synced is true for no informer at all (nothing to wait for).
func (w *namedInformer) synced() bool {
	return w == nil || w.inf.HasSynced()
}

func (w *namedInformer) get() any {
	if w == nil {
		return nil
	}
	obj, ok, err := w.inf.GetStore().GetByKey(w.ns + "/" + w.name)
	if err != nil || !ok {
		return nil
	}
	return obj
}

// convert turns an object of the dynamic informer into its API type.
func (c *ClusterSource) convert(obj any, into runtime.Object) bool {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return false
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, into); err != nil {
		log := c.Logger
		if log == nil {
			log = slog.Default()
		}
		log.Error("cannot read object", "kind", u.GetKind(), "name", u.GetName(), "error", err.Error())
		return false
	}
	return true
}
