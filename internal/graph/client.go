// Package graph is the Graph API client of one Messenger page: Send API, handover (thread
// control) calls, thread owner, user profile and subscribed apps. Errors are typed so that the
// caller can tell a call that certainly did not take effect (retry) from one that may have
// (never retry) and from a permanent refusal. The page token never appears in an error, a log
// line or a String of the client.
package graph

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Endpoint names a Graph call for metrics and errors.
type Endpoint string

const (
	EndpointSend           Endpoint = "messages"
	EndpointPass           Endpoint = "pass_thread_control"
	EndpointTake           Endpoint = "take_thread_control"
	EndpointRequest        Endpoint = "request_thread_control"
	EndpointRelease        Endpoint = "release_thread_control"
	EndpointThreadOwner    Endpoint = "thread_owner"
	EndpointProfile        Endpoint = "user_profile"
	EndpointSubscribedApps Endpoint = "subscribed_apps"
)

// Observer is told about every call: its endpoint, its result class (see Classify) and how long
// it took. It must be cheap and safe for concurrent use.
type Observer func(endpoint Endpoint, result Class, took time.Duration)

// Config configures the client of one page.
type Config struct {
	// BaseURL such as https://graph.facebook.com, and Version such as v25.0.
	BaseURL, Version string
	PageID           string
	// Token is the page access token.
	Token []byte
	// MaxSendsPerSecond limits Send API calls; 0 means unlimited.
	MaxSendsPerSecond int32
	// Timeout bounds one call (connection, request and response). Default 10s.
	Timeout time.Duration
	// Transport, when set, makes the calls through net/http with it instead of the page's own
	// HTTP/1.1 connection pool (also used, with a net/http transport, when a proxy applies).
	Transport http.RoundTripper
	// TLS configures HTTPS to the Graph API (a custom CA, say); default: system roots.
	TLS *tls.Config
	// Observer of calls, for metrics. Optional.
	Observer Observer
	// Profile cache: entries live ProfileTTL (default 24h), failures ProfileFailureTTL (default
	// 5m); at most ProfileCacheSize (default 10000) entries.
	ProfileTTL, ProfileFailureTTL time.Duration
	ProfileCacheSize              int
	// Now is the clock of the limiter and the profile cache. Default time.Now.
	Now func() time.Time
}

// Client calls the Graph API for one page. It is safe for concurrent use.
type Client struct {
	pageID   string
	version  string
	base     string // scheme://host/prefix, no trailing slash
	token    string
	pool     *h1Pool           // the page's own keep-alive pool (the default), or
	rt       http.RoundTripper // a net/http transport (given, or for a proxy); redirects are never followed
	own      *http.Transport   // the transport made here, to close its idle connections
	timeout  time.Duration
	observe  Observer
	limiter  *limiter
	profiles *profileCache
	now      func() time.Time

	// The fixed endpoints, parsed once; they hold the token: never print them.
	sendURL, passURL, takeURL, requestURL, releaseURL, subscribedURL *url.URL
}

// New checks cfg and builds a client with its own connection pool.
func New(cfg Config) (*Client, error) {
	if cfg.PageID == "" {
		return nil, errors.New("graph: page id is empty")
	}
	if len(cfg.Token) == 0 {
		return nil, errors.New("graph: page access token is empty")
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return nil, fmt.Errorf("graph: base URL %q is not an http(s) URL without query", cfg.BaseURL)
	}
	if cfg.Version == "" || strings.ContainsAny(cfg.Version, "/?#%") {
		return nil, fmt.Errorf("graph: version %q is not a version like v25.0", cfg.Version)
	}
	if strings.ContainsAny(cfg.PageID, "/?#") {
		return nil, fmt.Errorf("graph: page id %q is not an id", cfg.PageID)
	}
	c := &Client{
		pageID:  cfg.PageID,
		version: cfg.Version,
		base:    base,
		token:   string(cfg.Token),
		timeout: cfg.Timeout,
		observe: cfg.Observer,
		now:     cfg.Now,
	}
	if c.timeout <= 0 {
		c.timeout = 10 * time.Second
	}
	if c.now == nil {
		c.now = time.Now
	}
	switch {
	case cfg.Transport != nil:
		c.rt = cfg.Transport
	case usesProxy(u):
		// The page's own pool speaks to the Graph host directly; through a proxy, net/http does.
		c.own = newTransport()
		if cfg.TLS != nil {
			c.own.TLSClientConfig = cfg.TLS.Clone()
		}
		c.rt = c.own
	default:
		c.pool = newH1Pool(u, cfg.TLS)
	}
	if cfg.MaxSendsPerSecond > 0 {
		c.limiter = newLimiter(int(cfg.MaxSendsPerSecond))
	}
	c.profiles = newProfileCache(cfg.ProfileCacheSize, cfg.ProfileTTL, cfg.ProfileFailureTTL)
	q := "?access_token=" + url.QueryEscape(c.token)
	page := c.base + "/" + c.version + "/" + url.PathEscape(c.pageID) + "/"
	for _, e := range []struct {
		dst  **url.URL
		name string
	}{
		{&c.sendURL, "messages"}, {&c.passURL, "pass_thread_control"}, {&c.takeURL, "take_thread_control"},
		{&c.requestURL, "request_thread_control"}, {&c.releaseURL, "release_thread_control"},
		{&c.subscribedURL, "subscribed_apps"},
	} {
		if *e.dst, err = url.Parse(page + e.name + q); err != nil {
			return nil, fmt.Errorf("graph: cannot build the %s URL from the base URL and page id", e.name)
		}
	}
	return c, nil
}

// newTransport is one page's connection pool: keep-alives and enough idle connections per host
// for hundreds of sends per second without reconnecting.
func newTransport() *http.Transport {
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   5 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          512,
		MaxIdleConnsPerHost:   256,
		MaxConnsPerHost:       256,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// PageID is the page the client calls for.
func (c *Client) PageID() string { return c.pageID }

// String never shows the token.
func (c *Client) String() string {
	return "graph.Client{page=" + c.pageID + " base=" + c.base + " version=" + c.version + "}"
}

// GoString never shows the token.
func (c *Client) GoString() string { return c.String() }

// CloseIdleConnections releases the client's idle connections (after a configuration swap).
func (c *Client) CloseIdleConnections() {
	if c.own != nil {
		c.own.CloseIdleConnections()
	}
	if c.pool != nil {
		c.pool.closeIdle()
	}
}

// usesProxy reports whether the environment routes the Graph host through a proxy.
func usesProxy(base *url.URL) bool {
	p, err := http.ProxyFromEnvironment(&http.Request{URL: base})
	return err != nil || p != nil
}

var (
	jsonHeader = http.Header{"Content-Type": {"application/json"}}
	noHeader   = http.Header{}
)

// newRequest builds a request for a parsed URL (the page's fixed endpoints are parsed once).
func newRequest(ctx context.Context, method string, u *url.URL, body []byte) (*http.Request, error) {
	// URL and headers are shared between requests: a RoundTripper must not modify a request.
	req := &http.Request{Method: method, URL: u, Host: u.Host, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: noHeader}
	if body != nil {
		req.Header = jsonHeader
		req.ContentLength = int64(len(body))
		req.Body = io.NopCloser(bytes.NewReader(body))
		// Lets the transport resend on a fresh connection when a reused one was closed before
		// anything was written.
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	return req.WithContext(ctx), nil
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxResponse bounds what is read of an answer; Graph answers of these calls are small.
const maxResponse = 1 << 20

// parse parses a URL built per call (it holds the token: the error must not).
func (c *Client) parse(ep Endpoint, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, &TransportError{Endpoint: ep, Err: errors.New("cannot build the request URL")}
	}
	return u, nil
}

// call makes one request and decodes a 2xx answer into out (when out is not nil). idempotent
// says whether a request that was sent but not answered may be repeated (GETs).
func (c *Client) call(ctx context.Context, ep Endpoint, method string, u *url.URL, body []byte, idempotent bool, out func([]byte) error) error {
	start := time.Now()
	err := c.roundTrip(ctx, ep, method, u, body, idempotent, out)
	if c.observe != nil {
		c.observe(ep, Classify(err), time.Since(start))
	}
	return err
}

func (c *Client) roundTrip(ctx context.Context, ep Endpoint, method string, u *url.URL, body []byte, idempotent bool, out func([]byte) error) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	var status int
	if c.pool != nil {
		st, sent, err := c.pool.do(ctx, method, u, body, buf)
		if err != nil {
			return &TransportError{Endpoint: ep, Sent: sent, Idempotent: idempotent, Timeout: isTimeout(err) || ctx.Err() == context.DeadlineExceeded, Err: c.scrub(err)}
		}
		status = st
	} else {
		st, err := c.roundTripHTTP(ctx, ep, method, u, body, idempotent, buf)
		if err != nil {
			return err
		}
		status = st
	}
	if status < 200 || status > 299 {
		return c.parseError(ep, status, buf.Bytes())
	}
	if out != nil {
		if err := out(buf.Bytes()); err != nil {
			return &Error{Endpoint: ep, Status: status, Message: "unexpected answer: " + c.scrubString(err.Error())}
		}
	}
	return nil
}

// roundTripHTTP is the net/http path: the request's WroteRequest trace tells "certainly not
// sent" from "maybe sent".
func (c *Client) roundTripHTTP(ctx context.Context, ep Endpoint, method string, u *url.URL, body []byte, idempotent bool, buf *bytes.Buffer) (int, error) {
	var wrote atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteRequest: func(info httptrace.WroteRequestInfo) {
		if info.Err == nil {
			wrote.Store(true)
		}
	}})
	req, err := newRequest(ctx, method, u, body)
	if err != nil {
		return 0, &TransportError{Endpoint: ep, Err: errors.New("cannot build request")}
	}
	resp, err := c.rt.RoundTrip(req)
	if err != nil {
		return 0, &TransportError{Endpoint: ep, Sent: wrote.Load(), Idempotent: idempotent, Timeout: isTimeout(err), Err: c.scrub(err)}
	}
	defer resp.Body.Close()
	if _, err := buf.ReadFrom(io.LimitReader(resp.Body, maxResponse)); err != nil {
		// The server answered but the answer broke off: the call may have taken effect.
		return 0, &TransportError{Endpoint: ep, Sent: true, Idempotent: idempotent, Timeout: isTimeout(err), Err: c.scrub(err)}
	}
	return resp.StatusCode, nil
}

// scrub drops what an error could carry of the request: url.Error holds the URL, which holds the
// token; only the cause is kept, and any copy of the token in it is redacted.
func (c *Client) scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return errors.New(c.scrubString(err.Error()))
}

func (c *Client) scrubString(s string) string {
	if c.token != "" && strings.Contains(s, c.token) {
		s = strings.ReplaceAll(s, c.token, "[redacted]")
	}
	if esc := url.QueryEscape(c.token); esc != c.token && strings.Contains(s, esc) {
		s = strings.ReplaceAll(s, esc, "[redacted]")
	}
	return s
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
