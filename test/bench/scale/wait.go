package main

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/test/testenv"
)

// watcher follows Deployments and MessengerPages through one watch each, so that waiting for
// 1000 objects costs the API server nothing but the events.
type watcher struct{ cache cache.Cache }

func startWatcher(ctx context.Context, cfg *rest.Config) (*watcher, error) {
	c, err := cache.New(cfg, cache.Options{Scheme: testenv.Scheme(), DefaultTransform: cache.TransformStripManagedFields()})
	if err != nil {
		return nil, err
	}
	for _, o := range []client.Object{&appsv1.Deployment{}, &v1alpha1.MessengerPage{}, &rbacv1.Role{}} {
		if _, err := c.GetInformer(ctx, o); err != nil {
			return nil, err
		}
	}
	go func() { _ = c.Start(ctx) }()
	if !c.WaitForCacheSync(ctx) {
		return nil, fmt.Errorf("the bench's cache did not sync")
	}
	return &watcher{c}, nil
}

// roles is 1 when the Role ns/name exists, else 0.
func (w *watcher) roles(ctx context.Context, ns, name string) int {
	var r rbacv1.Role
	if err := w.cache.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &r); err != nil {
		return 0
	}
	return 1
}

// availableDeployments counts the Deployments labelled bench=baseline that are Available.
func (w *watcher) availableDeployments(ctx context.Context) int {
	var l appsv1.DeploymentList
	if err := w.cache.List(ctx, &l, client.MatchingLabels{"bench": "baseline"}); err != nil {
		return 0
	}
	n := 0
	for i := range l.Items {
		d := &l.Items[i]
		if d.Status.ObservedGeneration == d.Generation && d.Status.AvailableReplicas >= 1 && deploymentAvailable(d) {
			n++
		}
	}
	return n
}

func deploymentAvailable(d *appsv1.Deployment) bool {
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentAvailable {
			return c.Status == "True"
		}
	}
	return false
}

// readyPages counts the MessengerPages in namespaces with the prefix that are Ready for their
// current generation.
func (w *watcher) readyPages(ctx context.Context, prefix string) int {
	var l v1alpha1.MessengerPageList
	if err := w.cache.List(ctx, &l); err != nil {
		return 0
	}
	n := 0
	for i := range l.Items {
		p := &l.Items[i]
		if len(p.Namespace) < len(prefix) || p.Namespace[:len(prefix)] != prefix {
			continue
		}
		c := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.ConditionReady)
		if c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == p.Generation {
			n++
		}
	}
	return n
}

// until polls count (in memory) until it reaches want; it returns when that happened.
func until(ctx context.Context, what string, want int, timeout time.Duration, count func() int) (time.Time, error) {
	deadline := time.Now().Add(timeout)
	last := time.Now()
	for {
		n := count()
		if n >= want {
			return time.Now(), nil
		}
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("%s: %d of %d after %s", what, n, want, timeout)
		}
		if time.Since(last) > 10*time.Second {
			note("%s: %d of %d", what, n, want)
			last = time.Now()
		}
		select {
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
