package playground

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// simClient calls the simulator's control API (/_sim/...).
type simClient struct {
	base string // the simulator's base URL, without a trailing slash
	http *http.Client
}

func newSimClient(base string) *simClient {
	return &simClient{base: strings.TrimRight(base, "/"), http: &http.Client{Timeout: 60 * time.Second}}
}

// controlError is the simulator's refusal of a control call, passed on to the browser.
type controlError struct {
	status int
	body   string
}

func (e *controlError) Error() string {
	return fmt.Sprintf("simulator: %d %s", e.status, strings.TrimSpace(e.body))
}

// get answers GET /_sim/path?query as raw JSON.
func (c *simClient) get(ctx context.Context, path string, q url.Values) (json.RawMessage, error) {
	u := c.base + "/_sim/" + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	return c.do(req)
}

// post sends body as JSON to /_sim/path.
func (c *simClient) post(ctx context.Context, path string, body any) (json.RawMessage, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/_sim/"+path, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	return c.do(req)
}

func (c *simClient) do(req *http.Request) (json.RawMessage, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return nil, &controlError{status: resp.StatusCode, body: string(b)}
	}
	return b, nil
}

// stream opens the simulator's timeline as server-sent events from the start.
func (c *simClient) stream(ctx context.Context) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/_sim/timeline/stream?since=0", nil)
	if err != nil {
		return nil, err
	}
	resp, err := (&http.Client{}).Do(req) // no timeout: the stream lasts as long as ctx
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		_ = resp.Body.Close()
		return nil, fmt.Errorf("simulator timeline: %s", resp.Status)
	}
	return resp, nil
}
