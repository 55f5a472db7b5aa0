package graph

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countConns counts the connections a test server accepted.
func countConns(srv *httptest.Server) *atomic.Int32 {
	var n atomic.Int32
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			n.Add(1)
		}
	}
	return &n
}

func TestPoolReusesConnections(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { ok(w, r, nil) }))
	conns := countConns(srv)
	srv.Start()
	defer srv.Close()
	c := newClient(t, srv.URL)
	if c.pool == nil {
		t.Fatal("the default client does not use the page's pool")
	}
	for i := range 20 {
		if err := c.Send(context.Background(), "42", map[string]any{"text": fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections for 20 sequential calls, want 1", n)
	}
	// Concurrent calls open more connections, then reuse them.
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				if err := c.Send(context.Background(), "42", map[string]any{"text": "x"}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if n := conns.Load(); n > 9 {
		t.Errorf("%d connections for 8 concurrent callers", n)
	}
}

func TestPoolServerClosesIdleConnection(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { ok(w, r, nil) }))
	conns := countConns(srv)
	srv.Start()
	defer srv.Close()
	c := newClient(t, srv.URL)
	if err := c.Send(context.Background(), "42", map[string]any{"text": "a"}); err != nil {
		t.Fatal(err)
	}
	srv.CloseClientConnections() // the server drops the idle keep-alive connection
	deadline := time.Now().Add(5 * time.Second)
	for {
		// The probe notices the dead connection: the next call goes through, on a new one.
		err := c.Send(context.Background(), "42", map[string]any{"text": "b"})
		if err == nil {
			break
		}
		if MeaningOf(err) == Ambiguous || time.Now().After(deadline) {
			t.Fatalf("send after the server closed the idle connection: %v (%s)", err, MeaningOf(err))
		}
	}
	if n := conns.Load(); n != 2 {
		t.Errorf("%d connections, want 2", n)
	}
}

// rawServer answers each request on a raw TCP connection with the given bytes.
func rawServer(t *testing.T, answer func(n int) string) (string, *atomic.Int32) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var conns atomic.Int32
	var reqs atomic.Int32
	go func() {
		for {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer nc.Close()
				br := bufio.NewReader(nc)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					_, _ = io.Copy(io.Discard, req.Body)
					a := answer(int(reqs.Add(1)))
					if _, err := io.WriteString(nc, a); err != nil {
						return
					}
					if strings.Contains(a, "Connection: close") || strings.HasPrefix(a, "HTTP/1.0") {
						return
					}
				}
			}()
		}
	}()
	return "http://" + l.Addr().String(), &conns
}

func TestPoolResponseFraming(t *testing.T) {
	// Each answer is {"success":true}, which a take decodes: a body read wrong fails the call.
	for _, tc := range []struct {
		name      string
		answer    string
		wantErr   bool
		wantConns int32 // after 3 calls
	}{
		{"content-length", "HTTP/1.1 200 OK\r\nContent-Length: 16\r\n\r\n{\"success\":true}", false, 1},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7;ext=1\r\n{\"succe\r\n9\r\nss\":true}\r\n0\r\nX-Trailer: t\r\n\r\n", false, 1},
		{"interim 100", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 16\r\n\r\n{\"success\":true}", false, 1},
		{"connection close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 16\r\n\r\n{\"success\":true}", false, 3},
		{"http/1.0 until close", "HTTP/1.0 200 OK\r\n\r\n{\"success\":true}", false, 3},
		{"long header", "HTTP/1.1 200 OK\r\nX-Long: " + strings.Repeat("a", 10000) + "\r\nContent-Length: 16\r\n\r\n{\"success\":true}", false, 1},
		{"too large", "HTTP/1.1 200 OK\r\nContent-Length: 2000000\r\n\r\n", true, 3},
		{"garbage", "HELLO\r\n\r\n", true, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url, conns := rawServer(t, func(int) string { return tc.answer })
			c := newClient(t, url)
			for range 3 {
				err := c.TakeThreadControl(context.Background(), "42", "")
				if tc.wantErr {
					if err == nil {
						t.Fatal("no error")
					}
					if MeaningOf(err) != Ambiguous {
						t.Errorf("a broken answer to a sent request must be ambiguous: %s", MeaningOf(err))
					}
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if n := conns.Load(); n != tc.wantConns {
				t.Errorf("%d connections, want %d", n, tc.wantConns)
			}
		})
	}
}

func TestPoolErrorAnswerKeepsConnection(t *testing.T) {
	url, conns := rawServer(t, func(n int) string {
		if n == 1 {
			b := `{"error":{"code":4,"message":"limit"}}`
			return fmt.Sprintf("HTTP/1.1 400 Bad Request\r\nContent-Length: %d\r\n\r\n%s", len(b), b)
		}
		return "HTTP/1.1 200 OK\r\nContent-Length: 16\r\n\r\n{\"success\":true}"
	})
	c := newClient(t, url)
	if err := c.TakeThreadControl(context.Background(), "42", ""); MeaningOf(err) != Throttled {
		t.Fatalf("first: %v", err)
	}
	if err := c.TakeThreadControl(context.Background(), "42", ""); err != nil {
		t.Fatal(err)
	}
	if conns.Load() != 1 {
		t.Errorf("%d connections", conns.Load())
	}
}

func TestPoolTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { ok(w, r, nil) }))
	defer srv.Close()
	roots := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	c := newClient(t, srv.URL)
	u, _ := url.Parse(srv.URL)
	c.pool = newH1Pool(u, "Bearer "+testToken, &tls.Config{RootCAs: roots})
	for range 3 {
		if err := c.Send(context.Background(), "42", map[string]any{"text": "x"}); err != nil {
			t.Fatal(err)
		}
	}
	// Without the test CA the certificate is refused: nothing was sent.
	c2 := newClient(t, srv.URL)
	err := c2.Send(context.Background(), "42", map[string]any{"text": "x"})
	if MeaningOf(err) != NotSent {
		t.Fatalf("untrusted certificate: %v (%s)", err, MeaningOf(err))
	}
	assertNoToken(t, err.Error())
}

// The net/http path (a given transport) classifies the same way.
func TestNetHTTPTransportPath(t *testing.T) {
	f := newFakeGraph(t, graphError(400, `{"error":{"code":10,"error_subcode":2018300}}`))
	c := newClient(t, f.URL, func(c *Config) { c.Transport = &http.Transport{} })
	if c.pool != nil {
		t.Fatal("pool used despite a transport")
	}
	err := c.Send(context.Background(), "42", map[string]any{"text": "x"})
	if MeaningOf(err) != NotOwner {
		t.Fatalf("%v", err)
	}
	h, _ := hangingGraph(t)
	c = newClient(t, h.URL, func(c *Config) { c.Transport = &http.Transport{}; c.Timeout = 100 * time.Millisecond })
	if err := c.Send(context.Background(), "42", map[string]any{"text": "x"}); MeaningOf(err) != Ambiguous {
		t.Fatalf("timeout after send: %s", MeaningOf(err))
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	c = newClient(t, "http://"+addr, func(c *Config) { c.Transport = &http.Transport{} })
	if err := c.Send(context.Background(), "42", map[string]any{"text": "x"}); MeaningOf(err) != NotSent {
		t.Fatalf("refused: %s", MeaningOf(err))
	} else {
		assertNoToken(t, err.Error())
	}
}

func TestPoolCancelInterruptsCall(t *testing.T) {
	f, got := hangingGraph(t)
	c := newClient(t, f.URL, func(c *Config) { c.Timeout = time.Minute })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		err := c.Send(ctx, "42", map[string]any{"text": "x"})
		done <- err
	}()
	for deadline := time.Now().Add(10 * time.Second); got.Load() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the request never arrived")
		}
	}
	cancel()
	select {
	case err := <-done:
		if MeaningOf(err) != Ambiguous {
			t.Errorf("cancelled after sending: %s", MeaningOf(err))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("cancellation did not interrupt the call")
	}
}
