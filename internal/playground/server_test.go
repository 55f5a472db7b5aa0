package playground

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/messenger-operator/messenger-operator/internal/simulator"
)

// A simulator with one Page and no app: the customer's messages reach nobody, which is enough for
// the playground's side of the control API.
func newServer(t *testing.T) (*httptest.Server, *simulator.Simulator) {
	t.Helper()
	sim, err := simulator.New(simulator.Options{Pages: []simulator.PageConfig{{ID: "1000000000000001", Name: "Shop"}},
		Logf: func(string, ...any) {}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	simSrv := httptest.NewServer(sim.Handler())
	t.Cleanup(simSrv.Close)
	pg := New(Options{SimulatorURL: simSrv.URL, Pages: []Page{{ID: "1000000000000001", Name: "Shop"}},
		Customers: []Customer{{PSID: "2600000000000001", Name: "Ada"}}})
	srv := httptest.NewServer(pg.Handler())
	t.Cleanup(srv.Close)
	return srv, sim
}

func call(t *testing.T, method, url, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestCustomerActionsReachTheSimulator(t *testing.T) {
	srv, sim := newServer(t)
	if code, out := call(t, "POST", srv.URL+"/api/customer/say", `{"page":"1000000000000001","psid":"2600000000000001","text":"Hello"}`); code != 200 {
		t.Fatalf("say: %d %v", code, out)
	}
	msgs := sim.Messages("1000000000000001", "2600000000000001")
	if len(msgs) != 1 || msgs[0].Text != "Hello" || msgs[0].From != "customer" {
		t.Fatalf("the simulator has %+v", msgs)
	}
	code, out := call(t, "GET", srv.URL+"/api/thread?page=1000000000000001&psid=2600000000000001", "")
	if code != 200 || out["messages"] == nil || out["owner"] == nil || out["clock"] == nil {
		t.Fatalf("thread: %d %v", code, out)
	}
}

// Bad input: a clear error and nothing reaches the simulator.
func TestBadRequestsChangeNothing(t *testing.T) {
	srv, sim := newServer(t)
	for _, c := range []struct{ method, path, body, want string }{
		{"POST", "/api/customer/say", `{"page":"1000000000000001","psid":"999","text":"x"}`, "unknown page or customer"},
		{"POST", "/api/customer/faults", `{"page":"1000000000000001","psid":"2600000000000001"}`, "no such action"},
		{"POST", "/api/inbox/take", `{"page":"1000000000000001","psid":"2600000000000001"}`, "no such action"},
		{"POST", "/api/customer/say", `[1]`, "JSON object"},
		{"POST", "/api/clock/advance", `{"duration":"-5h"}`, "duration must be"},
		{"GET", "/api/thread?page=1&psid=2600000000000001", ``, "unknown page or customer"},
	} {
		code, out := call(t, c.method, srv.URL+c.path, c.body)
		if code/100 != 4 || !strings.Contains(out["error"].(string), c.want) {
			t.Errorf("%s %s %s: %d %v, want 4xx %q", c.method, c.path, c.body, code, out, c.want)
		}
	}
	if msgs := sim.Messages("1000000000000001", "2600000000000001"); len(msgs) != 0 {
		t.Errorf("the simulator got %+v", msgs)
	}
}

func TestThePageIsEmbeddedAndLoadsNothingFromElsewhere(t *testing.T) {
	srv, _ := newServer(t)
	for _, path := range []string{"/", "/static/app.js", "/static/style.css"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'self'") {
			t.Errorf("%s: %d, CSP %q", path, resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
		}
	}
	for _, name := range []string{"index.html", "app.js", "style.css"} {
		b, err := static.ReadFile("static/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "http://") || strings.Contains(string(b), "https://") {
			t.Errorf("%s names a URL elsewhere", name)
		}
	}
}
