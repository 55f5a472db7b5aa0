package main

import (
	"context"
	"fmt"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

const (
	namespaces  = 10 // objects are spread over this many namespaces of each phase
	policiesPer = 3  // HandoverPolicies per namespace, shared by its pages
	creators    = 32 // concurrent creations
)

func namespace(name string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
}

// plainDeployment is the baseline: what the operator's webhook Deployment is to the control
// plane (one replica, one container), without the operator.
func plainDeployment(ns string, i int) *appsv1.Deployment {
	labels := map[string]string{"app": fmt.Sprintf("plain-%d", i), "bench": "baseline"}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("plain-%d", i), Namespace: ns, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "app", Image: "bench.invalid/plain:1",
					Ports: []corev1.ContainerPort{{ContainerPort: 1337}},
				}}},
			},
		},
	}
}

func policy(ns, name, welcome string) *v1alpha1.HandoverPolicy {
	return &v1alpha1.HandoverPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec:       v1alpha1.HandoverPolicySpec{Welcome: v1alpha1.Message{Text: welcome}},
	}
}

func secret(ns, name string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		StringData: map[string]string{"pageAccessToken": "bench-token", "appSecret": "appsecret", "verifyToken": "bench-verify"},
	}
}

// page i: its own page and app ids (pages of one app are legal but every one of them would be
// reported as sharing with all the others), one of the namespace's policies, its own Secret.
func page(ns string, i int, policyName, graphURL string) *v1alpha1.MessengerPage {
	return &v1alpha1.MessengerPage{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("page-%d", i), Namespace: ns},
		Spec: v1alpha1.MessengerPageSpec{
			PageID:    fmt.Sprintf("%d", 1000000000000000+i),
			AppID:     fmt.Sprintf("%d", 1500000000000000+i),
			SecretRef: v1alpha1.SecretReference{Name: fmt.Sprintf("page-%d-credentials", i)},
			PolicyRef: v1alpha1.LocalReference{Name: policyName},
			GraphAPI:  v1alpha1.GraphAPISpec{BaseURL: graphURL, MaxSendsPerSecond: ptr.To[int32](0)},
		},
	}
}

// createAll creates objs with a few concurrent clients and returns the first error.
func createAll(ctx context.Context, c client.Client, objs []client.Object) error {
	return createAllThen(ctx, c, objs, nil)
}

// createAllThen is createAll, calling then (when set) as each create returns.
func createAllThen(ctx context.Context, c client.Client, objs []client.Object, then func(client.Object)) error {
	work := make(chan client.Object)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for range creators {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for o := range work {
				if err := c.Create(ctx, o); err != nil {
					mu.Lock()
					if first == nil {
						first = fmt.Errorf("creating %T %s/%s: %w", o, o.GetNamespace(), o.GetName(), err)
					}
					mu.Unlock()
				} else if then != nil {
					then(o)
				}
			}
		}()
	}
	for _, o := range objs {
		work <- o
	}
	close(work)
	wg.Wait()
	return first
}
