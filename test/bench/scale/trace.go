package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// timeline records, per page of the app phase, when the bench saw each step of its way to
// Ready: created (its create returned), its first status from the operator, its Secret granted by
// its app's Role (the first Role version naming it), Served by the app's webhook, Ready. It
// says where a page's time goes.
type timeline struct {
	prefix string

	mu      sync.Mutex
	created map[string]time.Time // namespace/page
	status  map[string]time.Time
	served  map[string]time.Time
	ready   map[string]time.Time
	granted map[string]time.Time // namespace/secret
	secret  map[string]string    // namespace/page -> namespace/secret
}

func newTimeline(prefix string) *timeline {
	return &timeline{prefix: prefix, created: map[string]time.Time{}, status: map[string]time.Time{}, served: map[string]time.Time{},
		ready: map[string]time.Time{}, granted: map[string]time.Time{}, secret: map[string]string{}}
}

// follow records from the bench's watch of pages and Roles.
func (tl *timeline) follow(ctx context.Context, w *watcher) error {
	pages, err := w.cache.GetInformer(ctx, &v1alpha1.MessengerPage{})
	if err != nil {
		return err
	}
	roles, err := w.cache.GetInformer(ctx, &rbacv1.Role{})
	if err != nil {
		return err
	}
	onPage := func(o any) {
		if p, ok := o.(*v1alpha1.MessengerPage); ok && strings.HasPrefix(p.Namespace, tl.prefix) {
			tl.page(p, time.Now())
		}
	}
	onRole := func(o any) {
		if r, ok := o.(*rbacv1.Role); ok && strings.HasPrefix(r.Namespace, tl.prefix) {
			tl.role(r, time.Now())
		}
	}
	if _, err := pages.AddEventHandler(toolscache.ResourceEventHandlerFuncs{AddFunc: onPage, UpdateFunc: func(_, n any) { onPage(n) }}); err != nil {
		return err
	}
	_, err = roles.AddEventHandler(toolscache.ResourceEventHandlerFuncs{AddFunc: onRole, UpdateFunc: func(_, n any) { onRole(n) }})
	return err
}

// createdAt records that page's create returned at t.
func (tl *timeline) createdAt(ns, name string, t time.Time) {
	tl.mu.Lock()
	tl.created[ns+"/"+name] = t
	tl.mu.Unlock()
}

func (tl *timeline) page(p *v1alpha1.MessengerPage, t time.Time) {
	key := p.Namespace + "/" + p.Name
	tl.mu.Lock()
	defer tl.mu.Unlock()
	tl.secret[key] = p.Namespace + "/" + p.Spec.SecretRef.Name
	first := func(m map[string]time.Time) {
		if _, ok := m[key]; !ok {
			m[key] = t
		}
	}
	if meta.FindStatusCondition(p.Status.Conditions, v1alpha1.ConditionReady) != nil {
		first(tl.status)
	}
	if c := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.ConditionServed); c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == p.Generation {
		first(tl.served)
	}
	if c := meta.FindStatusCondition(p.Status.Conditions, v1alpha1.ConditionReady); c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == p.Generation {
		first(tl.ready)
	}
}

func (tl *timeline) role(r *rbacv1.Role, t time.Time) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	for _, rule := range r.Rules {
		if !slices.Contains(rule.Resources, "secrets") {
			continue
		}
		for _, n := range rule.ResourceNames {
			if _, ok := tl.granted[r.Namespace+"/"+n]; !ok {
				tl.granted[r.Namespace+"/"+n] = t
			}
		}
	}
}

// stepTimes are the durations of one step, over the pages that made it.
type stepTimes struct {
	name string
	d    []time.Duration // sorted
}

// quantile q of the step (0 when no page made it).
func (s stepTimes) quantile(q float64) time.Duration {
	if len(s.d) == 0 {
		return 0
	}
	return s.d[min(len(s.d)-1, int(q*float64(len(s.d))))]
}

func (s stepTimes) String() string { return fmt.Sprintf("%-45s %s", s.name, percentiles(s.d)) }

// steps are the durations of each step of the pages' way to Ready.
func (tl *timeline) steps() []stepTimes {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	type step struct {
		name     string
		from, to func(string) (time.Time, bool)
	}
	at := func(m map[string]time.Time) func(string) (time.Time, bool) {
		return func(k string) (time.Time, bool) { t, ok := m[k]; return t, ok }
	}
	granted := func(k string) (time.Time, bool) { t, ok := tl.granted[tl.secret[k]]; return t, ok }
	var out []stepTimes
	for _, s := range []step{
		{"created -> first operator status", at(tl.created), at(tl.status)},
		{"created -> Secret granted by the app's Role", at(tl.created), granted},
		{"Secret granted -> Served", granted, at(tl.served)},
		{"Served -> Ready", at(tl.served), at(tl.ready)},
		{"created -> Served", at(tl.created), at(tl.served)},
		{"created -> Ready", at(tl.created), at(tl.ready)},
	} {
		var d []time.Duration
		for k := range tl.created {
			a, ok1 := s.from(k)
			b, ok2 := s.to(k)
			if ok1 && ok2 {
				d = append(d, b.Sub(a))
			}
		}
		slices.Sort(d)
		out = append(out, stepTimes{s.name, d})
	}
	return out
}

// percentiles of sorted d: p50 / p90 / p99 / max and how many.
func percentiles(d []time.Duration) string {
	if len(d) == 0 {
		return "no pages"
	}
	p := func(q float64) string { return ms(d[min(len(d)-1, int(q*float64(len(d))))]) }
	return fmt.Sprintf("p50 %s  p90 %s  p99 %s  max %s  (%d pages)", p(0.5), p(0.9), p(0.99), ms(d[len(d)-1]), len(d))
}
