package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// floorPrefix names the namespaces of the floor phase.
const floorPrefix = "bench-floor-"

// floorPhase replays the app phase's pages with neither the operator nor any webhook running:
// the bench itself does only the writes the design cannot do without, each page's Secret and page
// created, then its webhook's conditions (Served) and the operator's status applied as the app
// phase ended them, by the same field managers, a page's writes in a row on one of the same 32
// concurrent clients. It leaves out every read, every watch but the bench's, the apps' own
// objects, their Roles' grants and the apps' and policies' statuses, so no operator can bring
// its pages Ready faster on the same cluster: its time against the baseline is a lower bound of
// the app phase's ratio. It returns the time from the first create to every replayed page Ready;
// it calls started at the first create.
func floorPhase(ctx context.Context, c client.Client, w *watcher, apps int, started func()) (time.Duration, error) {
	var done v1alpha1.MessengerPageList
	if err := w.cache.List(ctx, &done); err != nil {
		return 0, err
	}
	var pages []*v1alpha1.MessengerPage
	for i := range done.Items {
		if p := &done.Items[i]; strings.HasPrefix(p.Namespace, appsPrefix) {
			pages = append(pages, p)
		}
	}
	if len(pages) == 0 {
		return 0, fmt.Errorf("no page of the app phase to replay")
	}
	floorNS := func(ns string) string { return floorPrefix + strings.TrimPrefix(ns, appsPrefix) }

	// Before the clock, as in the app phase: the namespaces and their policies.
	if err := appNamespaces(ctx, c, floorPrefix, apps); err != nil {
		return 0, err
	}
	started()
	t0 := time.Now()
	if err := createAll(ctx, c, appObjects(floorPrefix, apps)); err != nil {
		return 0, err
	}
	work := make(chan *v1alpha1.MessengerPage)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for range creators {
		wg.Go(func() {
			for p := range work {
				if err := replay(ctx, c, p, floorNS(p.Namespace)); err != nil {
					mu.Lock()
					if first == nil {
						first = fmt.Errorf("replaying %s/%s: %w", p.Namespace, p.Name, err)
					}
					mu.Unlock()
				}
			}
		})
	}
	for _, p := range pages {
		work <- p
	}
	close(work)
	wg.Wait()
	if first != nil {
		return 0, first
	}
	tReady, err := until(ctx, "floor pages Ready", len(pages), 10*time.Minute, func() int { return w.readyPages(ctx, floorPrefix) })
	if err != nil {
		return 0, err
	}
	return tReady.Sub(t0), nil
}

// replay writes page p again in namespace ns: its Secret, itself, its webhook's conditions and
// the operator's status.
func replay(ctx context.Context, c client.Client, p *v1alpha1.MessengerPage, ns string) error {
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: p.Spec.SecretRef.Name, Namespace: ns},
		StringData: map[string]string{"pageAccessToken": "bench-token"}}
	if err := c.Create(ctx, secret); err != nil {
		return err
	}
	page := &v1alpha1.MessengerPage{ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: ns}, Spec: *p.Spec.DeepCopy()}
	if err := c.Create(ctx, page); err != nil {
		return err
	}
	st := p.Status.DeepCopy()
	// The statuses name the app phase's generation: the replayed page's is its own.
	st.ObservedGeneration = page.Generation
	for i := range st.Conditions {
		st.Conditions[i].ObservedGeneration = page.Generation
	}
	types := p.ConditionTypes()
	hook := v1alpha1.MessengerPageStatus{Conditions: types.Owned(st.Conditions, v1alpha1.FieldManagerWebhook)}
	if err := applyStatus(ctx, c, page, hook, v1alpha1.FieldManagerWebhook); err != nil {
		return err
	}
	st.Conditions = types.Owned(st.Conditions, v1alpha1.FieldManagerOperator)
	st.WebhookVerifyToken = ""
	return applyStatus(ctx, c, page, *st, v1alpha1.FieldManagerOperator)
}

// applyStatus applies st as the page's status with field manager owner.
func applyStatus(ctx context.Context, c client.Client, page *v1alpha1.MessengerPage, st v1alpha1.MessengerPageStatus, owner string) error {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&st)
	if err != nil {
		return err
	}
	u := &unstructured.Unstructured{Object: map[string]any{"status": m}}
	u.SetAPIVersion(v1alpha1.GroupVersion.String())
	u.SetKind("MessengerPage")
	u.SetName(page.Name)
	u.SetNamespace(page.Namespace)
	return c.Status().Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(owner), client.ForceOwnership)
}
