package main

import (
	"context"
	"fmt"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/messenger-operator/messenger-operator/test/testenv"
)

// standalonePhase creates n standalone MessengerPages (a Secret each, policiesPer policies per
// namespace) and returns the time from the first create to every page Ready, and the operator's
// requests meanwhile.
func standalonePhase(ctx context.Context, c client.Client, w *watcher, n int, proxy *countingProxy, mgr *testenv.Process, metricsAddr string) (time.Duration, map[string]int, error) {
	var objs []client.Object
	for i := range namespaces {
		objs = append(objs, namespace(fmt.Sprintf("bench-pages-%d", i)))
	}
	if err := createAll(ctx, c, objs); err != nil {
		return 0, nil, err
	}
	objs = objs[:0]
	for i := range namespaces {
		ns := fmt.Sprintf("bench-pages-%d", i)
		for j := range policiesPer {
			objs = append(objs, policy(ns, fmt.Sprintf("policy-%d", j), fmt.Sprintf("Welcome from policy %d", j)))
		}
	}
	if err := createAll(ctx, c, objs); err != nil {
		return 0, nil, err
	}
	objs = objs[:0]
	for i := range n {
		ns := fmt.Sprintf("bench-pages-%d", i%namespaces)
		objs = append(objs, secret(ns, fmt.Sprintf("page-%d-credentials", i)))
	}
	pagesObjs := make([]client.Object, 0, n)
	for i := range n {
		ns := fmt.Sprintf("bench-pages-%d", i%namespaces)
		pagesObjs = append(pagesObjs, page(ns, i, fmt.Sprintf("policy-%d", i%policiesPer), "http://127.0.0.1:1"))
	}
	t0 := time.Now()
	if err := createAll(ctx, c, objs); err != nil {
		return 0, nil, err
	}
	if err := createAll(ctx, c, pagesObjs); err != nil {
		return 0, nil, err
	}
	t1, err := until(ctx, "MessengerPages Ready", n, 20*time.Minute, func() int { return w.readyPages(ctx, "bench-pages-") })
	if err != nil {
		return 0, nil, fmt.Errorf("%w\noperator output (tail):\n%s", err, tail(mgr.Output(), 30))
	}
	pagesTook := t1.Sub(t0)
	phase := proxy.take()
	note("%d MessengerPages Ready in %s; operator requests %d (%s), mean latency %s", n, pagesTook.Round(time.Millisecond), total(phase), verbs(phase), proxy.meanLatency())
	note("operator metrics: %s", scrape("http://"+metricsAddr+"/metrics"))

	return pagesTook, phase, nil
}
