// Package monitoring checks the alert rules (config/components/prometheus-rule and the chart's
// copy) against the metrics the manager and the webhook register.
package monitoring

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/yaml"

	"github.com/messenger-operator/messenger-operator/controllers"
	"github.com/messenger-operator/messenger-operator/internal/webhook"
	"github.com/messenger-operator/messenger-operator/internal/webhook/runner"
	"github.com/messenger-operator/messenger-operator/test/testenv"
)

type rule struct {
	Alert       string            `json:"alert"`
	Expr        string            `json:"expr"`
	For         string            `json:"for,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

type ruleSpec struct {
	Groups []struct {
		Name  string `json:"name"`
		Rules []rule `json:"rules"`
	} `json:"groups"`
}

func readRules(t *testing.T) ruleSpec {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "components", "prometheus-rule", "prometheusrule.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var obj struct {
		APIVersion string         `json:"apiVersion"`
		Kind       string         `json:"kind"`
		Metadata   map[string]any `json:"metadata"`
		Spec       ruleSpec       `json:"spec"`
	}
	if err := yaml.UnmarshalStrict(b, &obj); err != nil {
		t.Fatal(err)
	}
	if obj.Kind != "PrometheusRule" || len(obj.Spec.Groups) == 0 {
		t.Fatalf("not a PrometheusRule with groups: %s", obj.Kind)
	}
	return obj.Spec
}

// recorder is a Registerer that keeps the names of the metrics registered with it.
type recorder struct{ names map[string]bool }

var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

func (r *recorder) Register(c prometheus.Collector) error {
	ch := make(chan *prometheus.Desc)
	go func() { c.Describe(ch); close(ch) }()
	for d := range ch {
		if m := fqName.FindStringSubmatch(d.String()); m != nil {
			r.names[m[1]] = true
		}
	}
	return nil
}

func (r *recorder) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		_ = r.Register(c)
	}
}

func (r *recorder) Unregister(prometheus.Collector) bool { return true }

// exported lists the metrics the manager (its status metrics) and the webhook (its server:
// callback and runner) register.
func exported(t *testing.T) map[string]bool {
	t.Helper()
	r := &recorder{names: map[string]bool{}}
	if err := controllers.RegisterStatusMetrics(r, nil); err != nil {
		t.Fatal(err)
	}
	webhook.NewServer(runner.Options{Registry: r})
	if len(r.names) < 10 {
		t.Fatalf("only %d metrics registered: %v", len(r.names), r.names)
	}
	return r.names
}

// PromQL words that are no metric: functions are followed by "(", these are not.
var keywords = map[string]bool{
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
	"and": true, "or": true, "unless": true, "bool": true, "offset": true,
}

var (
	strLit   = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'`)
	matchers = regexp.MustCompile(`\{[^}]*\}`)
	ranges   = regexp.MustCompile(`\[[^\]]*\]`)
	grouping = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	ident    = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?`)
)

// metricNames extracts the metric names of a PromQL expression: what remains once strings,
// label matchers, ranges and grouping label lists are removed, minus functions and keywords.
func metricNames(expr string) []string {
	s := strLit.ReplaceAllString(expr, `""`)
	s = matchers.ReplaceAllString(s, " ")
	s = ranges.ReplaceAllString(s, " ")
	s = grouping.ReplaceAllString(s, " ")
	var out []string
	for _, m := range ident.FindAllString(s, -1) {
		if strings.HasSuffix(m, "(") || keywords[m] {
			continue
		}
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

func TestMetricNames(t *testing.T) {
	got := metricNames(`sum by (namespace, pod) (rate(a_total{result!~"ok|x{1}"}[10m])) / on (pod) group_left sum(b) > 0.05 or time() - c_seconds < 7 * 24 * 3600 unless d`)
	if want := []string{"a_total", "b", "c_seconds", "d"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("metricNames = %v, want %v", got, want)
	}
}

// Every metric an alert names is one the binaries register, and the alerts the operations
// guide promises are there.
func TestAlertsUseExportedMetrics(t *testing.T) {
	names := exported(t)
	alerts := map[string]bool{}
	for _, g := range readRules(t).Groups {
		for _, r := range g.Rules {
			alerts[r.Alert] = true
			used := metricNames(r.Expr)
			if len(used) == 0 {
				t.Errorf("%s: no metric in %q", r.Alert, r.Expr)
			}
			for _, m := range used {
				base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(m, "_bucket"), "_sum"), "_count")
				if !names[m] && !names[base] {
					t.Errorf("%s: metric %s is not exported by the manager or the webhook", r.Alert, m)
				}
			}
			if r.Labels["severity"] == "" || r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: needs a severity, a summary and a description", r.Alert)
			}
		}
	}
	for _, a := range []string{"MessengerPageUnsubscribedByMeta", "MessengerSubscriptionFailing", "MessengerPageTokenInvalid",
		"MessengerPageTokenExpiringSoon", "MessengerGraphErrorRate", "MessengerWebhookDeadLetters", "MessengerHandoverStuckWithInbox"} {
		if !alerts[a] {
			t.Errorf("alert %s missing", a)
		}
	}
	doc, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	for a := range alerts {
		if !strings.Contains(string(doc), a) {
			t.Errorf("docs/operations.md does not list alert %s", a)
		}
	}
}

// The chart's PrometheusRule holds the same rules (hack/chart-sync.sh writes it).
func TestChartHoldsTheSameRules(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "dist", "chart", "templates", "prometheusrule.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	start := strings.Index(text, "\nspec:\n")
	end := strings.LastIndex(text, "{{- end }}")
	if start < 0 || end < start || !strings.Contains(text, "{{- if .Values.prometheusRule.enabled }}") {
		t.Fatalf("unexpected chart template:\n%s", text)
	}
	spec := strings.ReplaceAll(text[start+1:end], `{{ "{{" }}`, "{{")
	var chart struct {
		Spec ruleSpec `json:"spec"`
	}
	if err := yaml.UnmarshalStrict([]byte(spec), &chart); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(chart.Spec, readRules(t)) {
		t.Fatal("the chart's rules differ from config/components/prometheus-rule: run make manifests")
	}
}
