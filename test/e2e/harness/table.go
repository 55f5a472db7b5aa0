package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/client-go/rest"
)

// Get prints a resource list as `kubectl get` does, from the API server's Table rendering (the
// CRD's printer columns), so no kubectl is needed: path is the collection's API path, such as
// /apis/messenger.handover.dev/v1alpha1/namespaces/shop/messengerpages.
func (e *Env) Get(ctx context.Context, path string) (string, error) {
	hc, err := rest.HTTPClientFor(e.Cluster.Config)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(e.Cluster.Config.Host, "/")+path, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s: %s", path, resp.Status, body)
	}
	var t metav1.Table
	if err := json.Unmarshal(body, &t); err != nil {
		return "", err
	}
	return renderTable(&t, time.Now()), nil
}

func renderTable(t *metav1.Table, now time.Time) string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 8, 3, ' ', 0)
	var cols []int
	var head []string
	for i, c := range t.ColumnDefinitions {
		if c.Priority == 0 {
			cols = append(cols, i)
			head = append(head, strings.ToUpper(c.Name))
		}
	}
	_, _ = fmt.Fprintln(w, strings.Join(head, "\t"))
	for _, row := range t.Rows {
		var cells []string
		for _, i := range cols {
			cell := ""
			if i < len(row.Cells) && row.Cells[i] != nil {
				cell = fmt.Sprint(row.Cells[i])
			}
			if t.ColumnDefinitions[i].Type == "date" {
				if ts, err := time.Parse(time.RFC3339, cell); err == nil {
					cell = duration.HumanDuration(now.Sub(ts))
				}
			}
			if cell == "" {
				cell = "<none>"
			}
			cells = append(cells, cell)
		}
		_, _ = fmt.Fprintln(w, strings.Join(cells, "\t"))
	}
	_ = w.Flush()
	return b.String()
}
