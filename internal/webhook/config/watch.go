package config

import (
	"context"
	"fmt"
	"maps"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// Watcher starts typed controller-runtime caches, each scoped to one namespace and one field
// selector, and calls changed whenever an object in any of them changes or one of them syncs.
// The caches share one HTTP client (one connection pool for every watch) and a fixed REST
// mapper: the webhook's Role grants no discovery, and its kinds are known.
type Watcher struct {
	cfg       *rest.Config
	namespace string
	opts      cache.Options
	changed   func()
}

// NewWatcher prepares caches on cfg in namespace.
func NewWatcher(cfg *rest.Config, namespace string, changed func()) (*Watcher, error) {
	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes HTTP client: %w", err)
	}
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := rbacv1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	mapper := meta.NewDefaultRESTMapper(nil)
	for gvk, plural := range map[schema.GroupVersionKind]string{
		corev1.SchemeGroupVersion.WithKind("Secret"):     "secrets",
		v1alpha1.GroupVersion.WithKind("MessengerPage"):  "messengerpages",
		v1alpha1.GroupVersion.WithKind("HandoverPolicy"): "handoverpolicies",
		v1alpha1.GroupVersion.WithKind("MessengerApp"):   "messengerapps",
		rbacv1.SchemeGroupVersion.WithKind("Role"):       "roles",
	} {
		mapper.AddSpecific(gvk, gvk.GroupVersion().WithResource(plural), gvk.GroupVersion().WithResource(plural), meta.RESTScopeNamespace)
	}
	// The app's pages are listed from their cache: the list kind maps too.
	pageList := v1alpha1.GroupVersion.WithKind("MessengerPageList")
	mapper.AddSpecific(pageList, pageList.GroupVersion().WithResource("messengerpages"), pageList.GroupVersion().WithResource("messengerpages"), meta.RESTScopeNamespace)
	return &Watcher{
		cfg:       cfg,
		namespace: namespace,
		opts: cache.Options{
			HTTPClient: httpClient,
			Scheme:     scheme,
			Mapper:     mapper,
			// One namespace: the Role grants nothing outside it.
			DefaultNamespaces: map[string]cache.Config{namespace: {}},
			// A cache keeps a copy of each object for the life of the process; the webhook never
			// reads the managed fields.
			DefaultTransform: cache.TransformStripManagedFields(),
		},
		changed: changed,
	}, nil
}

// scoped is one running cache: the objects of one kind that match a field selector.
type scoped struct {
	cache    cache.Cache
	informer cache.Informer
	cancel   context.CancelFunc
	// refused: the API server answered the cache's list or watch with Forbidden (RBAC does not
	// grant it, or not yet); its reflector retries with backoff.
	refused atomic.Bool
}

// watch starts a cache of the objects of obj's kind that match field, until ctx is done or stop.
// While the API server is unreachable the cache keeps what it has (its informer retries), so
// nothing read from it changes.
func (w *Watcher) watch(ctx context.Context, obj client.Object, field fields.Selector) (*scoped, error) {
	s := &scoped{}
	opts := w.opts
	opts.ByObject = map[client.Object]cache.ByObject{obj: {Field: field}}
	opts.DefaultWatchErrorHandler = func(ctx context.Context, r *toolscache.Reflector, err error) {
		if apierrors.IsForbidden(err) && !s.refused.Swap(true) {
			w.changed() // the source may stop waiting for it
		}
		toolscache.DefaultWatchErrorHandler(ctx, r, err)
	}
	c, err := cache.New(w.cfg, opts)
	if err != nil {
		return nil, err
	}
	inf, err := c.GetInformer(ctx, obj, cache.BlockUntilSynced(false))
	if err != nil {
		return nil, err
	}
	changed := func(any) { w.changed() }
	if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc: changed,
		UpdateFunc: func(o, n any) {
			if readChanged(o, n) {
				w.changed()
			}
		},
		DeleteFunc: changed,
	}); err != nil {
		return nil, err
	}
	cctx, cancel := context.WithCancel(ctx)
	go func() { _ = c.Start(cctx) }()
	go func() {
		if c.WaitForCacheSync(cctx) {
			w.changed() // an empty list adds nothing: the sync itself is news
		}
	}()
	s.cache, s.informer, s.cancel = c, inf, cancel
	return s, nil
}

// readChanged says whether an update may change what the webhook reads. One that changes only
// the status of an object with a generation (a page, the app, a policy: the generation, labels,
// annotations and deletion as they were) does not: the webhook reads no status, and the
// operator and the webhook itself write the pages' statuses often (each page's first status,
// Served, Ready; the app's count of pages served), each of which rebuilt the whole app's
// configuration. Objects without a generation (Secrets, Roles) always count.
func readChanged(old, new any) bool {
	o, ok1 := old.(client.Object)
	n, ok2 := new.(client.Object)
	if !ok1 || !ok2 || n.GetGeneration() == 0 {
		return true
	}
	return o.GetGeneration() != n.GetGeneration() || !maps.Equal(o.GetLabels(), n.GetLabels()) ||
		!maps.Equal(o.GetAnnotations(), n.GetAnnotations()) || !o.GetDeletionTimestamp().Equal(n.GetDeletionTimestamp())
}

func (s *scoped) synced() bool { return s.informer.HasSynced() }

// isRefused says whether the cache was refused and has not synced since.
func (s *scoped) isRefused() bool { return s.refused.Load() && !s.synced() }

func (s *scoped) stop() { s.cancel() }

// Named watches objects of one kind by name, each with its own cache field-selected on
// metadata.name: a Role that grants objects by resourceNames lets list and watch only that.
// Set follows the names in use (a page's references; the Secrets of an app's pages as pages join
// and leave), starting a cache for each new name and stopping the caches of the names that left.
// A Named is used from one goroutine.
type Named[T client.Object] struct {
	w      *Watcher
	newObj func() T
	byName map[string]*scoped
}

// NewNamed returns an empty set; newObj makes an empty object of the kind.
func NewNamed[T client.Object](w *Watcher, newObj func() T) *Named[T] {
	return &Named[T]{w: w, newObj: newObj, byName: map[string]*scoped{}}
}

// Set makes names the watched set (empty names are ignored); it keeps the caches of the names
// already watched.
func (n *Named[T]) Set(ctx context.Context, names ...string) error {
	want := make(map[string]bool, len(names))
	for _, name := range names {
		if name != "" {
			want[name] = true
		}
	}
	for name, s := range n.byName {
		if !want[name] {
			s.stop()
			delete(n.byName, name)
		}
	}
	for name := range want {
		if n.byName[name] != nil {
			continue
		}
		s, err := n.w.watch(ctx, n.newObj(), fields.OneTermEqualSelector("metadata.name", name))
		if err != nil {
			return fmt.Errorf("watching %T %q: %w", n.newObj(), name, err)
		}
		n.byName[name] = s
	}
	return nil
}

// Synced reports whether every watched name's cache has synced (true for none).
func (n *Named[T]) Synced() bool {
	for _, s := range n.byName {
		if !s.synced() {
			return false
		}
	}
	return true
}

// SyncedName reports whether name is watched and its cache has synced.
func (n *Named[T]) SyncedName(name string) bool {
	s := n.byName[name]
	return s != nil && s.synced()
}

// Refused reports whether name is watched and its cache, not synced, was refused by the API
// server (RBAC does not grant the name, or not yet).
func (n *Named[T]) Refused(name string) bool {
	s := n.byName[name]
	return s != nil && s.isRefused()
}

// Get returns the object name from its synced cache; false when it is not watched, not synced
// or does not exist.
func (n *Named[T]) Get(ctx context.Context, name string) (T, bool) {
	var zero T
	s := n.byName[name]
	if s == nil || !s.synced() {
		return zero, false
	}
	obj := n.newObj()
	if err := s.cache.Get(ctx, types.NamespacedName{Namespace: n.w.namespace, Name: name}, obj); err != nil {
		return zero, false // not found (a synced cache answers nothing else)
	}
	return obj, true
}

// Stop stops every cache.
func (n *Named[T]) Stop() {
	_ = n.Set(context.Background())
}

// RetryRefused restarts the caches that were refused and have not synced since (their RBAC
// grant may have come), rather than leave them to their reflector's backoff.
func (n *Named[T]) RetryRefused(ctx context.Context) error {
	var names []string
	for name, s := range n.byName {
		if s.isRefused() {
			s.stop()
			delete(n.byName, name)
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	keep := make([]string, 0, len(n.byName)+len(names))
	for name := range n.byName {
		keep = append(keep, name)
	}
	return n.Set(ctx, append(keep, names...)...)
}
