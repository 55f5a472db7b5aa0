package specs

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/messenger-operator/messenger-operator/internal/contract"
)

// The webhook learns the manager's Graph API hosts from its environment; none set, none passed.
func TestDeploymentPassesTheGraphAPIHosts(t *testing.T) {
	env := func(w Webhook) map[string]string {
		d := typed[appsv1.Deployment](t, Deployment(w))
		out := map[string]string{}
		for _, e := range d.Spec.Template.Spec.Containers[0].Env {
			out[e.Name] = e.Value
		}
		return out
	}
	if v, ok := env(Webhook{Page: testPage(), DefaultImage: "i"})[contract.EnvGraphAPIHosts]; ok {
		t.Fatalf("%s=%q without hosts", contract.EnvGraphAPIHosts, v)
	}
	w := Webhook{App: testApp(), DefaultImage: "i", GraphAPIHosts: []string{"graph.facebook.com", "127.0.0.1:9"}}
	if v := env(w)[contract.EnvGraphAPIHosts]; v != "graph.facebook.com,127.0.0.1:9" {
		t.Fatalf("%s=%q", contract.EnvGraphAPIHosts, v)
	}
}
