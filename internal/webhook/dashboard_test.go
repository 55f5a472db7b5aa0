package webhook

import (
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/messenger-operator/messenger-operator/internal/webhook/runner"
	"github.com/messenger-operator/messenger-operator/internal/webhook/store"
)

// dashboardFile is the Grafana dashboard built on the webhook's metrics.
const dashboardFile = "../../config/grafana/messenger-handover.json"

// descRecorder is a Registerer that notes the name and labels of every metric registered.
type descRecorder struct {
	prometheus.Registerer
	labels map[string][]string // metric name -> variable labels
}

var (
	fqNameRe = regexp.MustCompile(`fqName: "([^"]+)"`)
	labelsRe = regexp.MustCompile(`variableLabels: \{([^}]*)\}\}$`)
)

func (d *descRecorder) Register(c prometheus.Collector) error {
	ch := make(chan *prometheus.Desc, 16)
	go func() { c.Describe(ch); close(ch) }()
	for desc := range ch {
		s := desc.String()
		name := fqNameRe.FindStringSubmatch(s)
		labels := labelsRe.FindStringSubmatch(s)
		if name == nil || labels == nil {
			panic("unexpected Desc form: " + s)
		}
		var ls []string
		if labels[1] != "" {
			ls = strings.Split(labels[1], ",")
		}
		d.labels[name[1]] = ls
	}
	return d.Registerer.Register(c)
}

func (d *descRecorder) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := d.Register(c); err != nil {
			panic(err)
		}
	}
}

// exported gathers what a webhook registers: a page's server and an app's (with the memory
// store, whose threads are counted), and the configuration metrics.
func exported(t *testing.T) map[string][]string {
	rec := &descRecorder{Registerer: prometheus.NewRegistry(), labels: map[string][]string{}}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	newConfigMetrics(rec)
	u := newUnserved(rec, log, nil)
	for _, srv := range []*Server{
		NewServer(runner.Options{Registry: rec, Logger: log, Store: store.NewMemory(store.MemoryOptions{})}),
		NewAppServer(runner.Options{Registry: rec, Logger: log}, u.entry),
	} {
		t.Cleanup(func() { _ = srv.Shutdown(t.Context()) })
	}
	return rec.labels
}

// queries are every PromQL expression of the dashboard: the panels' targets and the template
// variables' label_values queries.
func queries(t *testing.T) []string {
	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
		Templating struct {
			List []struct {
				Name  string
				Type  string
				Query json.RawMessage
			}
		}
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	var out []string
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			out = append(out, tg.Expr)
		}
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q struct{ Query string }
		if err := json.Unmarshal(v.Query, &q); err != nil {
			t.Fatalf("variable %s: %v", v.Name, err)
		}
		inner := regexp.MustCompile(`^label_values\((.+), *([a-z_]+)\)$`).FindStringSubmatch(q.Query)
		if inner == nil {
			t.Fatalf("variable %s: %q is no label_values(metric, label)", v.Name, q.Query)
		}
		out = append(out, "sum by ("+inner[2]+") ("+inner[1]+")")
	}
	return out
}

var (
	metricRe  = regexp.MustCompile(`\b(messenger_[a-z0-9_]+)(\{[^}]*\})?`)
	matcherRe = regexp.MustCompile(`([a-z_]+) *(=~|!~|!=|=)`)
	byRe      = regexp.MustCompile(`\b(?:by|without) *\(([^)]*)\)`)
)

// Every query of the Grafana dashboard names metrics the webhook exports, with labels those
// metrics have.
func TestDashboardQueriesNameExportedMetrics(t *testing.T) {
	metrics := exported(t)
	qs := queries(t)
	if len(qs) < 8 {
		t.Fatalf("%d queries: the dashboard lost its panels", len(qs))
	}
	used := map[string]bool{}
	for _, q := range qs {
		found := metricRe.FindAllStringSubmatch(q, -1)
		if len(found) == 0 {
			t.Errorf("%q names no messenger_ metric", q)
			continue
		}
		var all []string
		for _, m := range found {
			name, labels, ok := lookup(metrics, m[1])
			if !ok {
				t.Errorf("%q: the webhook exports no %s", q, m[1])
				continue
			}
			used[name] = true
			all = append(all, labels...)
			for _, lm := range matcherRe.FindAllStringSubmatch(m[2], -1) {
				if !slices.Contains(labels, lm[1]) {
					t.Errorf("%q: %s has no label %q (it has %v)", q, m[1], lm[1], labels)
				}
			}
		}
		for _, by := range byRe.FindAllStringSubmatch(q, -1) {
			for _, l := range strings.Split(by[1], ",") {
				if l = strings.TrimSpace(l); l != "" && !slices.Contains(all, l) {
					t.Errorf("%q: grouped by %q, which none of its metrics has (%v)", q, l, all)
				}
			}
		}
	}
	// The handover metrics of the issue all have a panel.
	for _, name := range []string{"messenger_webhook_handovers_total", "messenger_webhook_inbox_first_reply_seconds",
		"messenger_webhook_agent_conversation_seconds", "messenger_webhook_idle_takebacks_total",
		"messenger_webhook_suppressed_messages_total", "messenger_webhook_threads"} {
		if !used[name] {
			t.Errorf("no panel shows %s", name)
		}
	}
}

// lookup finds a series name among the metrics: a histogram's _bucket (with le), _sum and
// _count are its own.
func lookup(metrics map[string][]string, series string) (string, []string, bool) {
	if l, ok := metrics[series]; ok {
		return series, l, true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(series, suffix); ok {
			if l, ok := metrics[base]; ok {
				if suffix == "_bucket" {
					l = append(slices.Clone(l), "le")
				}
				return base, l, true
			}
		}
	}
	return "", nil, false
}
