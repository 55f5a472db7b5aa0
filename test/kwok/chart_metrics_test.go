package kwok

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"
)

// With serviceMonitor.enabled the chart gives Prometheus a token that actually collects: the
// ServiceMonitor's authorization names the token Secret of a ServiceAccount the chart binds to
// metrics-reader, the cluster fills it, and the manager's metrics endpoint answers it. (The
// ServiceMonitor itself needs the Prometheus Operator's CRD, which this cluster has not: it is
// read from the rendering, and the rest applied.)
func TestChartServiceMonitorTokenCollects(t *testing.T) {
	ctx := context.Background()
	release, ns := "mon", fmt.Sprintf("helm-metrics-%d", seq.Add(1))
	createNamespace(t, ns, map[string]string{"pod-security.kubernetes.io/enforce": "restricted"})
	out := helmTemplate(t, release, ns, "serviceMonitor.enabled=true", "serviceMonitor.labels.release=prometheus", "watchNamespaces={"+ns+"}")
	var rest [][]byte
	var secretName, secretKey string
	for _, doc := range bytes.Split(out, []byte("\n---\n")) {
		var sm struct {
			Kind     string
			Metadata struct{ Labels map[string]string }
			Spec     struct {
				Endpoints []struct {
					Authorization struct {
						Type        string
						Credentials struct{ Name, Key string }
					}
				}
			}
		}
		must(t, yaml.Unmarshal(doc, &sm))
		if sm.Kind != "ServiceMonitor" {
			rest = append(rest, doc)
			continue
		}
		if sm.Metadata.Labels["release"] != "prometheus" || len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Authorization.Type != "Bearer" {
			t.Fatalf("ServiceMonitor %+v", sm)
		}
		secretName, secretKey = sm.Spec.Endpoints[0].Authorization.Credentials.Name, sm.Spec.Endpoints[0].Authorization.Credentials.Key
	}
	if secretName == "" {
		t.Fatal("no ServiceMonitor rendered")
	}
	kubectl(t, bytes.Join(rest, []byte("\n---\n")), "apply", "--server-side", "--field-manager=helm-test", "-f", "-")
	inst := install{namespace: ns, deployment: release + "-messenger-operator-manager",
		managerRole: release + "-messenger-operator-manager", metricsReader: release + "-messenger-operator-metrics-reader"}
	waitAvailable(t, inst)

	var token string
	eventually(t, 60*time.Second, "the token controller filling Secret "+secretName, func() (bool, string) {
		s := &corev1.Secret{}
		if err := cluster.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: secretName}, s); err != nil {
			return false, err.Error()
		}
		token = string(s.Data[secretKey])
		return token != "", fmt.Sprintf("keys %d", len(s.Data))
	})
	op := newOperator(t, inst)
	op.start(t)
	// The metrics server starts next to the probes; wait for it to answer.
	eventually(t, 30*time.Second, "the metrics with the ServiceMonitor's token", func() (bool, string) {
		code, text, err := op.fetchMetrics(token)
		if err != nil {
			return false, err.Error()
		}
		return code == http.StatusOK && strings.Contains(text, "controller_runtime_reconcile_total{"), fmt.Sprintf("%d %s", code, tail(text, 5))
	})
	if code, _ := op.getMetrics(t, ""); code != http.StatusUnauthorized {
		t.Fatalf("metrics without a token: %d, want 401", code)
	}
}
