package kwok

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// settled waits until every page in the cluster runs image (unless it sets its own) with its
// rollout complete and is Ready for its generation. Tests leave their pages, and an operator
// started later manages them too: a test that counts writes starts from this state.
func settled(t *testing.T, image string) []messengerv1alpha1.MessengerPage {
	t.Helper()
	ctx := context.Background()
	var list messengerv1alpha1.MessengerPageList
	eventually(t, 90*time.Second, "every page rolled out on "+image+" and Ready", func() (bool, string) {
		if err := cluster.Client.List(ctx, &list); err != nil {
			return false, err.Error()
		}
		for _, p := range list.Items {
			d := &appsv1.Deployment{}
			if err := cluster.Client.Get(ctx, webhookKey(&p), d); err != nil {
				return false, fmt.Sprintf("%s/%s: %v", p.Namespace, p.Name, err)
			}
			want := image
			if p.Spec.Webhook.Image != "" {
				want = p.Spec.Webhook.Image
			}
			s := d.Status
			if d.Spec.Template.Spec.Containers[0].Image != want || s.ObservedGeneration != d.Generation ||
				s.UpdatedReplicas != *d.Spec.Replicas || s.Replicas != *d.Spec.Replicas || s.AvailableReplicas != *d.Spec.Replicas {
				return false, fmt.Sprintf("%s/%s: deployment on %s: %s", p.Namespace, p.Name, d.Spec.Template.Spec.Containers[0].Image, stringify(s))
			}
			r := apimeta.FindStatusCondition(p.Status.Conditions, messengerv1alpha1.ConditionReady)
			if r == nil || r.Status != metav1.ConditionTrue || r.ObservedGeneration != p.Generation || p.Status.ObservedGeneration != p.Generation ||
				apimeta.IsStatusConditionTrue(p.Status.Conditions, messengerv1alpha1.ConditionReconciling) {
				return false, fmt.Sprintf("%s/%s: %s", p.Namespace, p.Name, stringify(p.Status))
			}
		}
		return true, ""
	})
	return list.Items
}

// writesBy are the requests of actor since mark that changed something. The access reviews
// of the metrics endpoint (the tests' scrapes) are questions, not writes.
func writesBy(t *testing.T, mark int64, actor string) []auditEvent {
	t.Helper()
	var out []auditEvent
	for _, e := range auditSince(t, mark, actor) {
		switch e.Verb {
		case "get", "list", "watch":
			continue
		}
		if e.ObjectRef != nil && (e.ObjectRef.APIGroup == "authentication.k8s.io" || e.ObjectRef.APIGroup == "authorization.k8s.io") {
			continue
		}
		out = append(out, e)
	}
	return out
}
