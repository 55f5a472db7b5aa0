package kwok

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/messenger-operator/messenger-operator/internal/specs"
)

// A restarted operator finds every page as it left it: it reconciles each one and makes no
// request that changes anything (counted by the apiserver's audit log, so nothing the manager
// does escapes the count), and no object is duplicated, recreated or rewritten.
func TestRestartedOperatorWritesNothing(t *testing.T) {
	inst := installKustomize(t)
	op := newOperator(t, inst)
	op.start(t)
	ns := namespace(t, "restart", nil)
	credentials(t, ns, "creds", false) // a generated verify-token Secret too
	policy(t, ns, "support")
	newPage(t, ns, "with-ingress", withIngress)
	newPage(t, ns, "plain", nil)
	pages := settled(t, op.webhookImg)
	token := op.scraperToken(t, true)
	op.quiesce(t, token, len(pages))

	before := map[string]map[string]objState{}
	namespaces := map[string]bool{}
	for i := range pages {
		before[pages[i].Namespace+"/"+pages[i].Name] = ownedObjects(t, &pages[i])
		namespaces[pages[i].Namespace] = true
	}
	op.stop(t)

	mark := auditMark(t)
	op.start(t)
	op.quiesce(t, token, len(pages)) // each page came through the queue of the new process
	var w []auditEvent
	for _, e := range writesBy(t, mark, op.user) {
		// The new leader announces itself with an event on its Lease, in its own namespace;
		// the pages' events are in theirs.
		if e.ObjectRef.Resource == "events" && e.ObjectRef.Namespace == inst.namespace && e.Verb == "create" {
			continue
		}
		w = append(w, e)
	}
	if len(w) > 0 {
		t.Errorf("the restarted operator made %d writes to unchanged pages:", len(w))
		for _, e := range w {
			t.Errorf("  %s", e)
		}
	}
	// The count can see the operator's writes: a deleted Service comes back, and the log
	// shows the operator creating it.
	svc := &corev1.Service{}
	svc.Name, svc.Namespace = specs.WebhookName("plain"), ns
	drift := auditMark(t)
	must(t, cluster.Client.Delete(context.Background(), svc))
	eventually(t, 30*time.Second, "the operator recreating the Service, in the audit log", func() (bool, string) {
		for _, e := range writesBy(t, drift, op.user) {
			if e.Verb == "patch" && e.ObjectRef.Resource == "services" && e.ObjectRef.Name == svc.Name {
				return true, ""
			}
		}
		return false, stringify(writesBy(t, drift, op.user))
	})
	delete(before, ns+"/plain")
	for i := range pages {
		key := pages[i].Namespace + "/" + pages[i].Name
		after := ownedObjects(t, &pages[i])
		for kind, b := range before[key] {
			if a, ok := after[kind]; !ok || a != b {
				t.Errorf("%s: %s %+v after the restart, %+v before", key, kind, a, b)
			}
		}
	}
	for k, n := range managedCounts(t, sortedKeys(namespaces)...) {
		if n != 1 {
			t.Errorf("%d objects for %s", n, k)
		}
	}
}
