package webhook_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/messenger-operator/messenger-operator/internal/webhook"
)

const connPage = `apiVersion: messenger.handover.dev/v1alpha1
kind: MessengerPage
metadata: {name: acme, namespace: shop}
spec:
  pageID: "1000000000000001"
  appID: "42"
  secretRef: {name: creds}
  policyRef: {name: support}
---
apiVersion: messenger.handover.dev/v1alpha1
kind: HandoverPolicy
metadata: {name: support}
spec: {}
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {pageAccessToken: t, appSecret: s, verifyToken: v}
`

// verifyGET is Meta's subscription check with the right token: answered 200 on a kept-alive
// connection.
const verifyGET = "GET /webhook?hub.mode=subscribe&hub.verify_token=v&hub.challenge=7 HTTP/1.1\r\nHost: x\r\n\r\n"

// ask sends verifyGET on c and reads the status line, waiting at most d.
func ask(c net.Conn, r *bufio.Reader, d time.Duration) (int, error) {
	if _, err := io.WriteString(c, verifyGET); err != nil {
		return 0, err
	}
	_ = c.SetReadDeadline(time.Now().Add(d))
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// While MaxConnections connections are open, the next one is not served (it waits in the
// kernel's backlog); once one of them closes, it is.
func TestConnectionCap(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "page.yaml"), []byte(connPage), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- webhook.Run(ctx, webhook.Options{Page: types.NamespacedName{Namespace: "shop", Name: "acme"}, ManifestsDir: dir,
			Listener: ln, ProbeListener: probe, DrainTimeout: time.Second, Logger: slog.New(slog.DiscardHandler)})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	addr := ln.Addr().String()

	open := make([]net.Conn, 0, webhook.MaxConnections)
	defer func() {
		for _, c := range open {
			_ = c.Close()
		}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for len(open) < webhook.MaxConnections {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		code, err := ask(c, bufio.NewReader(c), 10*time.Second)
		if err != nil || code != http.StatusOK {
			_ = c.Close()
			if time.Now().After(deadline) {
				t.Fatalf("connection %d: %d %v", len(open)+1, code, err)
			}
			time.Sleep(20 * time.Millisecond) // not configured yet
			continue
		}
		open = append(open, c)
	}

	extra, err := net.Dial("tcp", addr) // the kernel accepts it into the backlog
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = extra.Close() }()
	r := bufio.NewReader(extra)
	// A while without an answer (the wait bounds the test; it is not measured).
	if code, err := ask(extra, r, time.Second); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("connection %d answered (%d, %v) while %d were open", webhook.MaxConnections+1, code, err, webhook.MaxConnections)
	}
	_ = open[0].Close()
	open = open[1:]
	_ = extra.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(r, nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("once one closed: %v %v", resp, err)
	}
	_ = resp.Body.Close()
}
