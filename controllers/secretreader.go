package controllers

import (
	"context"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// secretReader reads the user's Secrets that pages and apps name, by name through the API
// server, and keeps the data of each one it read with its resourceVersion: a later read of the
// same Secret answers from memory while the Secret metadata cache (which the controllers watch
// anyway) shows that resourceVersion, and goes to the API server again once it changed. Without
// it every reconcile of a page of an app read two Secrets (the page's, the app's) from the API
// server, the most frequent request of a page's way to Ready. Nothing is listed or watched with
// data: only Secrets read by name are kept, and a deleted one is dropped. Other objects and
// lists pass through to the API server.
type secretReader struct {
	api  client.Reader
	meta client.Reader // the Secret metadata cache

	mu   sync.Mutex
	kept map[types.NamespacedName]*corev1.Secret
}

var _ client.Reader = (*secretReader)(nil)

// newSecretReader reads through api and knows resourceVersions from the metadata cache c; a
// Secret's deletion seen there drops what is kept of it.
func newSecretReader(api client.Reader, c cache.Cache) (*secretReader, error) {
	s := &secretReader{api: api, meta: c, kept: map[types.NamespacedName]*corev1.Secret{}}
	inf, err := c.GetInformer(context.Background(), secretMetadata())
	if err != nil {
		return nil, err
	}
	_, err = inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{DeleteFunc: func(obj any) {
		if d, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
			obj = d.Obj
		}
		if o, ok := obj.(client.Object); ok {
			s.forget(client.ObjectKeyFromObject(o))
		}
	}})
	return s, err
}

func secretMetadata() *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	return m
}

// Get reads a Secret as described above; anything else from the API server.
func (s *secretReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	out, ok := obj.(*corev1.Secret)
	if !ok || len(opts) > 0 {
		return s.api.Get(ctx, key, obj, opts...)
	}
	m := secretMetadata()
	var seen string // the resourceVersion in the metadata cache
	if err := s.meta.Get(ctx, key, m); err == nil {
		seen = m.ResourceVersion
		s.mu.Lock()
		k := s.kept[key]
		s.mu.Unlock()
		if k != nil && k.ResourceVersion == seen {
			k.DeepCopyInto(out)
			return nil
		}
	}
	// Not kept, changed since, or not in the metadata cache yet (just created). A version seen in
	// the cache lets the API server answer from its watch cache (a read at least that new), not
	// from etcd: about half the CPU of a quorum read, etcd's share gone. Without one, or should
	// that read fail (an API server whose cache lags), a quorum read.
	var err error
	if seen != "" {
		err = s.api.Get(ctx, key, out, &client.GetOptions{Raw: &metav1.GetOptions{ResourceVersion: seen}})
	}
	if seen == "" || (err != nil && !apierrors.IsNotFound(err)) {
		err = s.api.Get(ctx, key, out)
	}
	if err != nil {
		if apierrors.IsNotFound(err) {
			s.forget(key)
		}
		return err
	}
	// Only what the readers use: the data and the identity.
	k := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: out.Namespace, Name: out.Name, UID: out.UID,
		ResourceVersion: out.ResourceVersion}, Data: out.Data, Type: out.Type}
	s.mu.Lock()
	s.kept[key] = k.DeepCopy()
	s.mu.Unlock()
	return nil
}

// List passes through to the API server.
func (s *secretReader) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	return s.api.List(ctx, list, opts...)
}

func (s *secretReader) forget(key types.NamespacedName) {
	s.mu.Lock()
	delete(s.kept, key)
	s.mu.Unlock()
}

// secretReaders hold one secretReader per manager, shared by the page and app controllers, on
// the manager's Secret metadata cache.
var secretReaders sync.Map // ctrl.Manager -> *secretReader
