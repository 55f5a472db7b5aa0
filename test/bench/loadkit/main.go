// Command loadkit holds the bench's own load pieces, used by hack/bench.sh unless BENCH_PEERS
// names outside peer tools:
//
//	loadkit graph   -listen ADDR   a fake Graph API: 200 with a Send-API-shaped answer, counts at /__stats
//	loadkit bare    -listen ADDR   the ceiling: net/http reading the body and answering 200
//	loadkit targets -n N -url URL  N signed text events (distinct mids from -from, -users senders, over -pages pages from -page) as vegeta JSON targets
//	loadkit summary < report.json  one line from a vegeta JSON report: rps p50_ms p99_ms success% ok_count codes
//	loadkit flood -url URL         -clients goroutines posting unsigned -size-byte bodies for -duration; answers by code
package main

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		log.Fatal("usage: loadkit graph|bare|targets [flags]")
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:0", "address (graph, bare)")
	appID := fs.String("owner-app", "1", "app id answered by thread_owner (graph)")
	n := fs.Int("n", 100000, "targets")
	from := fs.Int("from", 0, "first mid number (targets): distinct per attack, or the webhook drops duplicates")
	users := fs.Int("users", 1000, "distinct senders")
	url := fs.String("url", "http://127.0.0.1:1337/webhook", "webhook URL (targets)")
	secret := fs.String("secret", "appsecret", "app secret signing the bodies (targets)")
	pageID := fs.String("page", "1000000000000001", "page id (targets): the first one")
	pages := fs.Int("pages", 1, "pages the events are spread over, round robin, with consecutive ids from -page (targets)")
	clients := fs.Int("clients", 200, "concurrent clients (flood)")
	size := fs.Int("size", 1<<20, "body bytes (flood)")
	duration := fs.Duration("duration", 10*time.Second, "how long (flood)")
	_ = fs.Parse(os.Args[2:])
	switch os.Args[1] {
	case "graph":
		log.Fatal(http.ListenAndServe(*listen, newGraph(*appID)))
	case "bare":
		log.Fatal(http.ListenAndServe(*listen, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusOK)
		})))
	case "targets":
		if err := targets(os.Stdout, *from, *n, *users, *pages, *url, *secret, *pageID); err != nil {
			log.Fatal(err)
		}
	case "flood":
		if err := flood(os.Stdout, *url, *clients, *size, *duration); err != nil {
			log.Fatal(err)
		}
	case "summary":
		if err := summary(os.Stdin, os.Stdout); err != nil {
			log.Fatal(err)
		}
	default:
		log.Fatalf("unknown command %q", os.Args[1])
	}
}

// graph answers the calls a text event causes and counts them per endpoint.
type graph struct {
	owner                        string
	messages, threadOwner, other atomic.Int64
}

func newGraph(owner string) *graph { return &graph{owner: owner} }

func (g *graph) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	if r.URL.Path == "/__stats" {
		m, t, o := g.messages.Load(), g.threadOwner.Load(), g.other.Load()
		_ = json.NewEncoder(w).Encode(map[string]any{"total": m + t + o,
			"paths": map[string]int64{"POST messages": m, "GET thread_owner": t, "other": o}})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch {
	case strings.HasSuffix(r.URL.Path, "/messages"):
		g.messages.Add(1)
		_, _ = io.WriteString(w, `{"recipient_id":"1","message_id":"m_loadkit"}`)
	case strings.HasSuffix(r.URL.Path, "/thread_owner"):
		g.threadOwner.Add(1)
		_, _ = io.WriteString(w, `{"data":[{"thread_owner":{"app_id":"`+g.owner+`"}}]}`)
	default:
		g.other.Add(1)
		_, _ = io.WriteString(w, `{"success":true}`)
	}
}

// target is vegeta's JSON target format.
type target struct {
	Method string              `json:"method"`
	URL    string              `json:"url"`
	Body   string              `json:"body"` // base64
	Header map[string][]string `json:"header"`
}

func targets(out io.Writer, from, n, users, pages int, url, secret, firstPage string) error {
	first, err := strconv.ParseInt(firstPage, 10, 64)
	if err != nil || pages < 1 {
		return fmt.Errorf("-page %q -pages %d: a numeric page id and at least one page", firstPage, pages)
	}
	w := bufio.NewWriter(out)
	enc := json.NewEncoder(w)
	// Stamped now: the webhook ignores events older than an hour (the replay cut-off).
	now := time.Now().UnixMilli()
	for i := from; i < from+n; i++ {
		psid := strconv.Itoa(2000000000000000 + i%users)
		pageID := strconv.FormatInt(first+int64(i%pages), 10)
		body := fmt.Appendf(nil, `{"object":"page","entry":[{"id":%q,"time":%d,"messaging":[{"sender":{"id":%q},"recipient":{"id":%q},"timestamp":%d,"message":{"mid":"m_loadkit_%d","text":"hello number %d"}}]}]}`,
			pageID, now, psid, pageID, now, i, i)
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		err := enc.Encode(target{Method: "POST", URL: url, Body: base64.StdEncoding.EncodeToString(body),
			Header: map[string][]string{"Content-Type": {"application/json"}, "X-Hub-Signature-256": {"sha256=" + hex.EncodeToString(mac.Sum(nil))}}})
		if err != nil {
			return err
		}
	}
	return w.Flush()
}

// summary reads the fields of vegeta's JSON report that the table needs.
func summary(in io.Reader, out io.Writer) error {
	var r struct {
		Requests   int64   `json:"requests"`
		Throughput float64 `json:"throughput"`
		Success    float64 `json:"success"`
		Latencies  struct {
			P50 int64 `json:"50th"`
			P99 int64 `json:"99th"`
		} `json:"latencies"`
		StatusCodes map[string]int64 `json:"status_codes"`
	}
	if err := json.NewDecoder(in).Decode(&r); err != nil {
		return err
	}
	codes := make([]string, 0, len(r.StatusCodes))
	for c, k := range r.StatusCodes {
		codes = append(codes, c+":"+strconv.FormatInt(k, 10))
	}
	sort.Strings(codes)
	_, err := fmt.Fprintf(out, "%.0f %.2f %.2f %.1f %d %s\n", r.Throughput, float64(r.Latencies.P50)/1e6, float64(r.Latencies.P99)/1e6,
		r.Success*100, r.StatusCodes["200"], strings.Join(codes, ","))
	return err
}
