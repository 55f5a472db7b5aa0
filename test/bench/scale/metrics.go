package main

import (
	"bufio"
	"net/http"
	"strings"
)

// scrape picks the operator's reconcile and work queue figures from its metrics endpoint: what
// explains a slow scale run (errors and requeues, time items wait in the queue).
func scrape(url string) string {
	resp, err := http.Get(url)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	var keep []string
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "#") || (!strings.Contains(l, "messengerpage") && !strings.Contains(l, "messengerapp")) {
			continue
		}
		for _, m := range []string{"controller_runtime_reconcile_total", "controller_runtime_reconcile_errors_total",
			"controller_runtime_reconcile_time_seconds_sum", "controller_runtime_reconcile_time_seconds_count",
			"workqueue_queue_duration_seconds_sum", "workqueue_queue_duration_seconds_count", "workqueue_retries_total", "workqueue_adds_total"} {
			if strings.HasPrefix(l, m+"{") || strings.HasPrefix(l, m+" ") {
				if strings.HasSuffix(l, " 0") {
					break
				}
				keep = append(keep, l)
			}
		}
	}
	return "\n  " + strings.Join(keep, "\n  ")
}
