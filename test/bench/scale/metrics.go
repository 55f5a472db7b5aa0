package main

import (
	"bufio"
	"net/http"
	"strconv"
	"strings"
	"time"
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

// queueDepth is the sum of the operator's page and app work queue depths (-1 when unreadable).
func queueDepth(url string) float64 {
	resp, err := http.Get(url)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	depth := 0.0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if !strings.HasPrefix(l, "workqueue_depth{") || (!strings.Contains(l, `name="messengerpage"`) && !strings.Contains(l, `name="messengerapp"`)) {
			continue
		}
		f := strings.Fields(l)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			return -1
		}
		depth += v
	}
	return depth
}

// settle waits until the operator's work queues stay empty for 2 s (the last pages' work after
// Ready: the results of their first Graph checks), at most limit, and returns how long it took.
func settle(url string, limit time.Duration) time.Duration {
	start := time.Now()
	empty := 0
	for time.Since(start) < limit && empty < 4 {
		if queueDepth(url) == 0 {
			empty++
		} else {
			empty = 0
		}
		time.Sleep(500 * time.Millisecond)
	}
	return time.Since(start)
}
