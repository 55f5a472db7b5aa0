// Command scale measures the operator on a kwok cluster (a real control plane, simulated nodes):
// the time for N plain Deployments to become Available (the baseline), then for N MessengerPages
// to become Ready with the operator running as a process (first spread over MessengerApps, then
// standalone), the API requests it makes per page, its
// memory, its writes in steady state, and how fast a HandoverPolicy update reaches a webhook.
// It prints the rows of hack/bench.sh's table (lines starting with ROW|) on stdout.
//
//	go run ./test/bench/scale -pages 1000 -steady 60s
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/messenger-operator/messenger-operator/test/testenv"
)

func main() {
	pages := flag.Int("pages", envInt("BENCH_PAGES", 1000), "Deployments of the baseline and MessengerPages (env BENCH_PAGES)")
	steady := flag.Duration("steady", envDuration("BENCH_STEADY", time.Minute), "steady-state window (env BENCH_STEADY)")
	nodes := flag.Int("nodes", 0, "kwok nodes (default: enough for both phases' pods, at least 10)")
	rounds := flag.Int("rounds", 5, "policy updates for the propagation figure")
	apps := flag.Int("apps", envInt("BENCH_APPS", 10), "MessengerApps the app phase spreads its pages over (env BENCH_APPS; 0: no app phase)")
	standalone = flag.Bool("standalone", os.Getenv("BENCH_STANDALONE") != "0", "run the phase of standalone pages (env BENCH_STANDALONE=0 skips it)")
	floor = flag.Bool("floor", os.Getenv("BENCH_FLOOR") != "0", "at the end, replay the app phase's required writes with no operator and no webhook running (env BENCH_FLOOR=0 skips it)")
	reconciles = flag.Int("reconciles", envInt("BENCH_RECONCILES", 0), "the operator's --max-concurrent-reconciles (env BENCH_RECONCILES; 0: its default)")
	managerPath = flag.String("manager", "", "the manager binary (default: built from ./cmd/manager)")
	webhookPath = flag.String("webhook", "", "the webhook binary (default: built from ./cmd/webhook)")
	managerLog = flag.String("manager-log", "", "write the operator's output here at the end")
	flag.Parse()
	// The bench's own watch logs nothing; the operator's logs are kept by its Process.
	ctrllog.SetLogger(logr.Discard())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *pages, *steady, *nodes, *rounds, *apps); err != nil {
		fmt.Fprintln(os.Stderr, "scale:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, n int, steady time.Duration, nodes, rounds, apps int) error {
	if nodes == 0 {
		// kwok's nodes take 110 pods each; both phases' pods stay.
		nodes = max(10, (2*n+apps+50)/100+1)
	}
	start := time.Now()
	cl, err := testenv.StartKwok(testenv.KwokOptions{Name: fmt.Sprintf("bench-%d", os.Getpid()), Nodes: nodes, DisableQPSLimits: true})
	if err != nil {
		return err
	}
	defer cl.Stop()
	note("kwok cluster with %d nodes up in %s", nodes, time.Since(start).Round(time.Second))
	// kwokctl's API server allocates Service IPs from a /24; every page has a Service.
	if err := cl.Client.Create(ctx, &networkingv1.ServiceCIDR{ObjectMeta: metav1.ObjectMeta{Name: "bench"},
		Spec: networkingv1.ServiceCIDRSpec{CIDRs: []string{"10.128.0.0/16"}}}); err != nil {
		return fmt.Errorf("adding Service IPs: %w", err)
	}
	// Build the binaries now, not while something is being timed.
	managerBin, webhookBin := *managerPath, *webhookPath
	if managerBin == "" {
		if managerBin, err = testenv.Binary("manager"); err != nil {
			return err
		}
	}
	if webhookBin == "" {
		if webhookBin, err = testenv.Binary("webhook"); err != nil {
			return err
		}
	}
	w, err := startWatcher(ctx, cl.Config)
	if err != nil {
		return err
	}
	tl := newTimeline(appsPrefix)
	if err := tl.follow(ctx, w); err != nil {
		return err
	}
	c := cl.Client

	// Baseline: plain Deployments, no operator.
	var objs []client.Object
	for i := range namespaces {
		objs = append(objs, namespace(fmt.Sprintf("bench-base-%d", i)))
	}
	if err := createAll(ctx, c, objs); err != nil {
		return err
	}
	objs = objs[:0]
	for i := range n {
		objs = append(objs, plainDeployment(fmt.Sprintf("bench-base-%d", i%namespaces), i))
	}
	t0 := time.Now()
	if err := createAll(ctx, c, objs); err != nil {
		return err
	}
	t1, err := until(ctx, "Deployments Available", n, 15*time.Minute, func() int { return w.availableDeployments(ctx) })
	if err != nil {
		return err
	}
	base := t1.Sub(t0)
	note("%d Deployments Available in %s", n, base.Round(time.Millisecond))

	// The operator, as a process, through the counting proxy.
	proxy, err := startProxy(cl.Config)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "bench-scale-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	kc, err := proxy.kubeconfig(dir)
	if err != nil {
		return err
	}
	metricsAddr := freeAddr()
	args := []string{"--webhook-image", "bench.invalid/webhook:1",
		"--metrics-bind-address", metricsAddr, "--metrics-secure=false", "--health-probe-bind-address", freeAddr(),
		"--zap-log-level", "error",
		// The pages' and apps' Graph API: a closed loopback port, and the propagation phase's fake.
		"--graph-api-hosts", "127.0.0.1"}
	if *reconciles > 0 {
		args = append(args, fmt.Sprintf("--max-concurrent-reconciles=%d", *reconciles))
	}
	mgr, err := testenv.StartProcess(managerBin, args, "KUBECONFIG="+kc)
	if err != nil {
		return err
	}
	defer func() {
		_ = mgr.Stop(20 * time.Second)
		if *managerLog != "" {
			_ = os.WriteFile(*managerLog, []byte(mgr.Output()), 0o644)
		}
	}()
	// Its caches sync, then it is idle: nothing to reconcile yet.
	time.Sleep(3 * time.Second)
	startup := proxy.take()
	proxy.takeResources()
	note("operator started: %d requests (%s)", total(startup), verbs(startup))

	// Pages of MessengerApps: one Deployment per app, the pages only status.
	mgrCPU := cpuSeconds(mgr.Pid())
	machine0, cores := machineCPU()
	cluster0 := clusterCPU(cl.Name)
	self0 := cpuSeconds(os.Getpid())
	var appsTook time.Duration
	var appPhase map[string]int
	var steps []stepTimes
	stopApps := func() {}
	if apps > 0 {
		appsTook, stopApps, err = appsPhase(ctx, cl, w, webhookBin, n, apps, tl)
		defer stopApps()
		if err != nil {
			return fmt.Errorf("%w\noperator output (tail):\n%s", err, tail(mgr.Output(), 30))
		}
		appPhase = proxy.take()
		note("%d MessengerPages over %d MessengerApps Ready in %s; operator requests %d (%s), mean latency %s", n, apps, appsTook.Round(time.Millisecond), total(appPhase), verbs(appPhase), proxy.meanLatency())
		note("operator requests by resource: %s", verbs(proxy.takeResources()))
		note("CPU time in the app phase of the cluster's processes: %s; of the bench itself (its creates, its watch, the counting proxies) %.1f s",
			cpuSince(cluster0, clusterCPU(cl.Name)), cpuSeconds(os.Getpid())-self0)
		note("app pages, the steps of each page as the bench saw them:")
		machine1, _ := machineCPU()
		note("CPU time in the app phase: the operator %.1f s; the whole machine (other work included) %.1f s of %.1f s on %d cores",
			cpuSeconds(mgr.Pid())-mgrCPU, machine1-machine0, appsTook.Seconds()*float64(cores), cores)
		note("operator metrics after the app phase:%s", scrape("http://"+metricsAddr+"/metrics"))
		steps = tl.steps()
		for _, s := range steps {
			note("  %s", s)
		}
	}

	var pagesTook time.Duration
	var phase map[string]int
	if *standalone {
		if pagesTook, phase, err = standalonePhase(ctx, c, w, n, proxy, mgr, metricsAddr); err != nil {
			return err
		}
	}
	mgrRSS, mgrPeak := rss(mgr.Pid())

	// Steady state: nothing changes, so the operator must write nothing. It starts once the
	// operator's queues are empty: the last pages' work after Ready (their first Graph checks'
	// results) is not steady state.
	note("operator's work queues empty %s after the last page was Ready (%d requests meanwhile: %s)",
		settle("http://"+metricsAddr+"/metrics", 2*time.Minute).Round(100*time.Millisecond), total(proxy.take()), verbs(proxy.takeResources()))
	time.Sleep(steady)
	quiet := proxy.take()
	steadyRSS, steadyPeak := rss(mgr.Pid())
	mgrPeak = max(mgrPeak, steadyPeak)
	note("steady %s: %d requests (%s); by resource: %s", steady, total(quiet), verbs(quiet), verbs(proxy.takeResources()))

	row("3 operator scale", fmt.Sprintf("%d plain Deployments to Available (baseline)", n), secs(base), "", "")
	if *standalone {
		ratio := pagesTook.Seconds() / base.Seconds()
		conc := "its default"
		if *reconciles > 0 {
			conc = fmt.Sprintf("--max-concurrent-reconciles=%d", *reconciles)
		}
		row("3 operator scale", fmt.Sprintf("%d MessengerPages (%d policies, a Secret each) to Ready, operator with %s", n, namespaces*policiesPer, conc), secs(pagesTook), "", "")
		row("3 operator scale", "pages / baseline", fmt.Sprintf("%.2fx", ratio), "<= 2x", passMiss(ratio <= 2))
	}
	if apps > 0 {
		r := appsTook.Seconds() / base.Seconds()
		row("3 operator scale", fmt.Sprintf("%d MessengerPages over %d MessengerApps to Ready (a webhook process per app marks them Served)", n, apps), secs(appsTook), "", "")
		row("3 operator scale", "app pages / baseline", fmt.Sprintf("%.2fx", r), "<= 0.5x", passMiss(r <= 0.5))
		var parts []string
		for _, s := range steps[1:4] {
			parts = append(parts, fmt.Sprintf("%s %s / %s", s.name, ms(s.quantile(0.5)), ms(s.quantile(0.99))))
		}
		row("3 operator scale", "app page steps, p50 / p99", strings.Join(parts, "; "), "", "")
		row("3 operator scale", "operator API requests per app page (writes per page)",
			fmt.Sprintf("%.2f (%.2f)", float64(total(appPhase))/float64(n), float64(mutating(appPhase))/float64(n)), "", "")
	}
	if *standalone {
		row("3 operator scale", "operator API requests per page (writes per page)",
			fmt.Sprintf("%.2f (%.2f)", float64(total(phase))/float64(n), float64(mutating(phase))/float64(n)), "", "")
	}
	row("3 operator scale", "operator RSS after Ready / after steady / peak",
		fmt.Sprintf("%.0f / %.0f / %.0f MiB", mgrRSS, steadyRSS, mgrPeak), "< 150 MiB", passMiss(mgrPeak < 150))
	row("3 operator scale", fmt.Sprintf("mutating requests in %s of steady state, app and standalone pages (all requests)", steady),
		fmt.Sprintf("%d (%d)", mutating(quiet), total(quiet)), "0", passMiss(mutating(quiet) == 0))

	took, _, err := propagation(ctx, cl, webhookBin, rounds)
	if err != nil {
		return fmt.Errorf("propagation: %w", err)
	}
	med, worst := took[len(took)/2], took[len(took)-1]
	row("4 policy propagation", fmt.Sprintf("HandoverPolicy update to new answer, median / max of %d (cluster mode)", len(took)),
		fmt.Sprintf("%s / %s", ms(med), ms(worst)), "< 1 s", passMiss(worst < time.Second))

	if *floor && apps > 0 {
		// Nothing but the bench may write the replayed pages.
		stopApps()
		_ = mgr.Stop(20 * time.Second)
		var machine0 float64
		var cluster0 map[string]float64
		took, err := floorPhase(ctx, c, w, apps, func() { machine0, _ = machineCPU(); cluster0 = clusterCPU(cl.Name) })
		if err != nil {
			return fmt.Errorf("floor: %w", err)
		}
		machine1, _ := machineCPU()
		r := took.Seconds() / base.Seconds()
		note("floor: the app phase's %d pages replayed (Secret and page created, Served and the operator's status applied) and Ready in %s, %.2fx the baseline; CPU time of the cluster's processes %s; the whole machine %.1f s of %.1f s",
			n, took.Round(time.Millisecond), r, cpuSince(cluster0, clusterCPU(cl.Name)), machine1-machine0, took.Seconds()*float64(cores))
		row("3 operator scale", "the same pages' required writes alone, no operator, no webhook (a lower bound of the app pages' time)", secs(took), "", "")
		row("3 operator scale", "required writes alone / baseline", fmt.Sprintf("%.2fx", r), "", "")
	}
	return nil
}

var (
	managerPath, webhookPath *string
	managerLog               *string
	reconciles               *int
	standalone, floor        *bool
)

func secs(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }
func ms(d time.Duration) string   { return fmt.Sprintf("%.0f ms", float64(d.Microseconds())/1000) }

func verbs(c map[string]int) string {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s=%d", k, c[k])
	}
	return b.String()
}

func tail(s string, lines int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}

func pageMeta(ns, name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: ns, Name: name} }

func envInt(name string, def int) int {
	var v int
	if _, err := fmt.Sscan(os.Getenv(name), &v); err != nil {
		return def
	}
	return v
}

func envDuration(name string, def time.Duration) time.Duration {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	if d, err := time.ParseDuration(s); err == nil {
		return d
	}
	// A bare number is seconds.
	var v int
	if _, err := fmt.Sscan(s, &v); err == nil {
		return time.Duration(v) * time.Second
	}
	return def
}
