// Command soak runs `make soak`: the webhook binary in standalone mode (--manifests) answers a
// sustained, fixed-rate load of signed Messenger events sent by vegeta, with the Messenger
// Platform simulator as its Graph API. It reports errors, latency and the webhook's RSS, and
// fails on any error or when the RSS at the end exceeds 1.2 times the RSS after the warm-up.
//
// Environment: SOAK_DURATION (default 60s), SOAK_WARMUP (15s), SOAK_RATE (events/s, 200),
// SOAK_USERS (200), VEGETA (path of the vegeta binary).
package main

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/messenger-operator/messenger-operator/internal/simulator"
)

const (
	pageID    = "1000000000000001"
	appID     = "1517776481860111"
	appSecret = "soak-app-secret"
	pageToken = "EAA-soak-page-token"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

type settings struct {
	duration, warmup time.Duration
	rate, users      int
	vegeta           string
}

func readSettings() (settings, error) {
	s := settings{duration: 60 * time.Second, warmup: 15 * time.Second, rate: 200, users: 200, vegeta: os.Getenv("VEGETA")}
	var err error
	for name, d := range map[string]*time.Duration{"SOAK_DURATION": &s.duration, "SOAK_WARMUP": &s.warmup} {
		if v := os.Getenv(name); v != "" {
			if *d, err = time.ParseDuration(v); err != nil || *d <= 0 {
				return s, fmt.Errorf("%s=%q: a positive duration such as 60s", name, v)
			}
		}
	}
	for name, n := range map[string]*int{"SOAK_RATE": &s.rate, "SOAK_USERS": &s.users} {
		if v := os.Getenv(name); v != "" {
			if *n, err = strconv.Atoi(v); err != nil || *n <= 0 {
				return s, fmt.Errorf("%s=%q: a positive integer", name, v)
			}
		}
	}
	if s.vegeta == "" {
		if s.vegeta, err = exec.LookPath("vegeta"); err != nil {
			return s, fmt.Errorf("vegeta not found: run it through `make soak`, or set VEGETA")
		}
	}
	return s, nil
}

func run() error {
	cfg, err := readSettings()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "soak-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	fmt.Printf("soak: building the webhook\n")
	bin := filepath.Join(tmp, "webhook")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/webhook").CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/webhook: %v\n%s", err, out)
	}
	webAddr, probeAddr := freeAddr(), freeAddr()
	webURL := "http://" + webAddr + "/webhook"

	// The platform: the page's users, our app delivering to the webhook, the Graph API.
	sim, err := simulator.New(simulator.Options{
		Pages:  []simulator.PageConfig{{ID: pageID, Name: "Soak", DefaultApp: "bot"}},
		Apps:   []simulator.AppConfig{{ID: appID, Name: "bot", Secret: appSecret, CallbackURL: webURL, CanTake: true}},
		Tokens: []simulator.TokenConfig{{App: "bot", Page: pageID, Token: pageToken}},
		// The soak measures the webhook at rates beyond Meta's per-Page budget (300 sends a second,
		// 200 calls per engaged user a day); the platform's limits are not what it measures.
		Limits: simulator.Unlimited,
		Logf:   func(string, ...any) {},
	})
	if err != nil {
		return err
	}
	defer sim.Close()
	simSrv, err := sim.Start("127.0.0.1:0")
	if err != nil {
		return err
	}
	defer simSrv.Close()

	manifests := filepath.Join(tmp, "manifests")
	if err := writeManifests(manifests, simSrv.URL); err != nil {
		return err
	}
	logFile, err := os.Create(filepath.Join(tmp, "webhook.log"))
	if err != nil {
		return err
	}
	wh := exec.Command(bin, "--manifests", manifests, "--page", "soak/acme", "--listen", webAddr, "--probe-addr", probeAddr, "--log-level", "warn")
	wh.Stdout, wh.Stderr = logFile, logFile
	if err := wh.Start(); err != nil {
		return err
	}
	defer func() {
		_ = wh.Process.Signal(syscall.SIGTERM)
		_ = wh.Wait()
	}()
	if err := waitReady("http://" + probeAddr + "/readyz"); err != nil {
		return err
	}

	// Each user writes once through the platform: the messaging window opens, the thread is ours.
	psids := make([]string, cfg.users)
	for i := range psids {
		psids[i] = fmt.Sprintf("27%014d", i+1)
		if err := sim.Customer(pageID, psids[i]).Say("hi"); err != nil {
			return fmt.Errorf("opening the conversation of %s: %w", psids[i], err)
		}
	}

	warmTargets := filepath.Join(tmp, "warm.json")
	mainTargets := filepath.Join(tmp, "main.json")
	warmN := int(cfg.warmup.Seconds()*float64(cfg.rate)) + cfg.rate
	mainN := int(cfg.duration.Seconds()*float64(cfg.rate)) + cfg.rate
	if err := writeTargets(warmTargets, webURL, psids, 0, warmN); err != nil {
		return err
	}
	if err := writeTargets(mainTargets, webURL, psids, warmN, mainN); err != nil {
		return err
	}

	pid := wh.Process.Pid
	fmt.Printf("soak: warm-up %v at %d events/s\n", cfg.warmup, cfg.rate)
	if _, err := attack(cfg, warmTargets, cfg.warmup, filepath.Join(tmp, "warm.bin")); err != nil {
		return err
	}
	if err := waitDrained(probeAddr); err != nil {
		return err
	}
	rssWarm, err := rss(pid)
	if err != nil {
		return err
	}
	fmt.Printf("soak: RSS after warm-up %s; %v at %d events/s from %d users\n", mib(rssWarm), cfg.duration, cfg.rate, cfg.users)

	stopSampling := make(chan struct{})
	peak := make(chan int64, 1)
	go func() {
		top := rssWarm
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-stopSampling:
				peak <- top
				return
			case <-t.C:
				if v, err := rss(pid); err == nil && v > top {
					top = v
				}
			}
		}
	}()
	rep, err := attack(cfg, mainTargets, cfg.duration, filepath.Join(tmp, "main.bin"))
	close(stopSampling)
	if err != nil {
		return err
	}
	rssPeak := <-peak
	rssEnd, err := rss(pid)
	if err != nil {
		return err
	}
	if err := waitDrained(probeAddr); err != nil {
		return err
	}
	rssDrained, _ := rss(pid)

	metrics := scrape("http://" + probeAddr + "/metrics")
	replies := 0
	for _, p := range psids {
		for _, m := range sim.Messages(pageID, p) {
			if m.From == "bot" {
				replies++
			}
		}
	}
	events := int(metric(metrics, `messenger_webhook_events_total{channel="messaging",kind="message"}`))

	non200 := 0
	for code, n := range rep.StatusCodes {
		if code != "200" {
			non200 += n
		}
	}
	fmt.Printf("requests        %d in %v (%.1f/s), success %.2f%%, status codes %v\n",
		rep.Requests, cfg.duration, rep.Throughput, rep.Success*100, rep.StatusCodes)
	fmt.Printf("errors          %d (non-200: %d; transport: %d)\n", non200+len(rep.Errors), non200, len(rep.Errors))
	fmt.Printf("latency         p50 %s  p90 %s  p99 %s  max %s\n", ms(rep.Latencies.P50), ms(rep.Latencies.P90), ms(rep.Latencies.P99), ms(rep.Latencies.Max))
	fmt.Printf("RSS             after warm-up %s, peak %s, at the end %s (%.2fx), drained %s\n",
		mib(rssWarm), mib(rssPeak), mib(rssEnd), float64(rssEnd)/float64(rssWarm), mib(rssDrained))
	fmt.Printf("webhook         %d messages accepted, %d replies sent (Graph), dead letters %.0f, 503 busy %.0f\n",
		events, replies, metric(metrics, "messenger_webhook_dead_letters_total"),
		metric(metrics, `messenger_webhook_requests_total{code="503",method="POST"}`))

	var fails []string
	if non200+len(rep.Errors) > 0 {
		fails = append(fails, fmt.Sprintf("%d errors (%v)", non200+len(rep.Errors), first(rep.Errors, 3)))
	}
	if float64(rssEnd) > 1.2*float64(rssWarm) {
		fails = append(fails, fmt.Sprintf("RSS grew from %s to %s (> 1.2x)", mib(rssWarm), mib(rssEnd)))
	}
	if len(fails) > 0 {
		return fmt.Errorf("FAILED: %s", strings.Join(fails, "; "))
	}
	fmt.Println("soak: PASS")
	return nil
}

type report struct {
	Requests    int            `json:"requests"`
	Throughput  float64        `json:"throughput"`
	Success     float64        `json:"success"`
	StatusCodes map[string]int `json:"status_codes"`
	Errors      []string       `json:"errors"`
	Latencies   struct {
		P50 int64 `json:"50th"`
		P90 int64 `json:"90th"`
		P99 int64 `json:"99th"`
		Max int64 `json:"max"`
	} `json:"latencies"`
}

// attack runs vegeta at the fixed rate for d and returns its JSON report.
func attack(cfg settings, targets string, d time.Duration, results string) (report, error) {
	var rep report
	a := exec.Command(cfg.vegeta, "attack", "-format", "json", "-targets", targets, "-rate", fmt.Sprintf("%d/1s", cfg.rate),
		"-duration", d.String(), "-timeout", "5s", "-max-workers", "256", "-output", results)
	a.Stderr = os.Stderr
	if err := a.Run(); err != nil {
		return rep, fmt.Errorf("vegeta attack: %w", err)
	}
	out, err := exec.Command(cfg.vegeta, "report", "-type", "json", results).Output()
	if err != nil {
		return rep, fmt.Errorf("vegeta report: %w", err)
	}
	return rep, json.Unmarshal(out, &rep)
}

// writeTargets writes n signed message events with distinct mids, from the users in turn, as
// vegeta JSON targets.
func writeTargets(path, url string, psids []string, from, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	now := time.Now().UnixMilli()
	for i := from; i < from+n; i++ {
		psid := psids[i%len(psids)]
		body := fmt.Sprintf(`{"object":"page","entry":[{"id":"%s","time":%d,"messaging":[{"sender":{"id":"%s"},"recipient":{"id":"%s"},"timestamp":%d,"message":{"mid":"m_soak_%d","text":"hello %d"}}]}]}`,
			pageID, now, psid, pageID, now+int64(i), i, i)
		mac := hmac.New(sha256.New, []byte(appSecret))
		mac.Write([]byte(body))
		t, _ := json.Marshal(map[string]any{
			"method": "POST", "url": url, "body": base64.StdEncoding.EncodeToString([]byte(body)),
			"header": map[string][]string{"Content-Type": {"application/json"}, "X-Hub-Signature-256": {"sha256=" + hex.EncodeToString(mac.Sum(nil))}},
		})
		w.Write(t)
		w.WriteByte('\n')
	}
	return w.Flush()
}

func writeManifests(dir, graphURL string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	y := `apiVersion: messenger.handover.dev/v1alpha1
kind: MessengerPage
metadata: {name: acme, namespace: soak}
spec:
  pageID: "` + pageID + `"
  appID: "` + appID + `"
  secretRef: {name: creds}
  policyRef: {name: support}
  graphAPI: {baseURL: "` + graphURL + `", maxSendsPerSecond: 0}
---
apiVersion: messenger.handover.dev/v1alpha1
kind: HandoverPolicy
metadata: {name: support, namespace: soak}
spec:
  welcome: {text: "Hello! How can I help?"}
---
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: soak}
stringData: {pageAccessToken: "` + pageToken + `", appSecret: "` + appSecret + `", verifyToken: "soak-verify"}
`
	return os.WriteFile(filepath.Join(dir, "page.yaml"), []byte(y), 0o600)
}

func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitReady(url string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("the webhook was not ready within 30s")
}

// waitDrained waits until the webhook has handled every accepted event (queue depth 0).
func waitDrained(probeAddr string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		if metric(scrape("http://"+probeAddr+"/metrics"), "messenger_webhook_queue_depth") == 0 {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("the webhook's queue did not drain within 60s")
}

var vmRSS = regexp.MustCompile(`(?m)^VmRSS:\s+(\d+) kB`)

// rss reads the process's resident set size in bytes from /proc.
func rss(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	m := vmRSS.FindSubmatch(b)
	if m == nil {
		return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
	}
	kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return kb << 10, nil
}

func scrape(url string) string {
	resp, err := http.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var sb strings.Builder
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		sb.WriteString(sc.Text())
		sb.WriteByte('\n')
	}
	return sb.String()
}

// metric sums the samples whose name (with labels, when given) starts the line.
func metric(text, series string) float64 {
	total := 0.0
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, series) {
			continue
		}
		rest := line[len(series):]
		if !strings.Contains(series, "{") && strings.HasPrefix(rest, "{") {
			rest = rest[strings.Index(rest, "}")+1:]
		}
		if !strings.HasPrefix(rest, " ") {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
		if err == nil {
			total += v
		}
	}
	return total
}

func ms(ns int64) string { return fmt.Sprintf("%.2fms", float64(ns)/1e6) }

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func first(s []string, n int) []string { return s[:min(n, len(s))] }
