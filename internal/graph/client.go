// Package graph is the Graph API client of the operator and the webhook: the Send API, the
// handover calls, thread owner and user profile of a page, and the page's and the app's webhook
// subscriptions. The access token travels only in the Authorization header, never in a URL, and
// every call carries appsecret_proof (reference §7.4). MeaningOf, the one place that reads
// Meta's error codes, says what an outcome means: retry, never retry, who owns the thread, what
// the page's owner must fix. No secret appears in an error, a log line or a String of the client.
package graph

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
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
	EndpointThreadOwner    Endpoint = "thread_owner"
	EndpointProfile        Endpoint = "user_profile"
	EndpointSubscribedApps Endpoint = "subscribed_apps"
	EndpointSubscriptions  Endpoint = "subscriptions"
	// EndpointMessengerProfile is the Page's welcome screen and menu (/me/messenger_profile).
	EndpointMessengerProfile Endpoint = "messenger_profile"
)

// Observer is told about every call: its endpoint, what its outcome means and how long it took.
// It must be cheap and safe for concurrent use.
type Observer func(endpoint Endpoint, result Meaning, took time.Duration)

// Config configures a client: one access token, with the app secret that signs it.
type Config struct {
	// BaseURL such as https://graph.facebook.com, and Version such as v25.0.
	BaseURL, Version string
	// Token is the access token of every call: the page access token for the page's calls, or
	// an app access token (AppToken) for the app's subscriptions.
	Token []byte
	// AppSecret signs every call: appsecret_proof = hex(HMAC-SHA256(AppSecret, Token)).
	AppSecret []byte
	// PageID is the page of the page calls (send, handover, thread owner, subscribed apps).
	PageID string
	// MaxSendsPerSecond limits Send API calls; 0 means unlimited.
	MaxSendsPerSecond int32
	// Timeout bounds one call (connection, request and answer). Default 10s.
	Timeout time.Duration
	// Transport, when set, makes the calls through net/http with it (the operator shares one).
	// Default: the client's own HTTP/1.1 connection pool (h1.go), or net/http's when a proxy
	// applies.
	Transport http.RoundTripper
	// Observer of calls, for metrics. Optional.
	Observer Observer
	// Now is the clock of the limiter and the profile cache. Default time.Now.
	Now func() time.Time
}

// AppToken is Meta's app access token form "{app-id}|{app-secret}".
func AppToken(appID string, appSecret []byte) []byte {
	return append([]byte(appID+"|"), appSecret...)
}

// Client calls the Graph API with one token. It is safe for concurrent use.
type Client struct {
	pageID  string
	version string
	base    string // scheme://host/prefix, no trailing slash
	proof   string // "appsecret_proof=<hex>", the query of every call
	secrets []string
	pool    *h1Pool           // the client's own keep-alive pool (the default), or
	rt      http.RoundTripper // a net/http transport (given, or for a proxy); redirects are never followed
	own     *http.Transport   // the transport made here, to close its idle connections
	timeout time.Duration
	observe Observer
	limiter *limiter
	// profiles caches first names per PSID.
	profiles *profileCache
	now      func() time.Time

	// Headers of every request, shared (a RoundTripper never modifies a request); they hold the
	// token: never print them.
	getHeader, jsonHeader, formHeader http.Header
	// The page's fixed endpoints, parsed once.
	sendURL, passURL, takeURL, subscribedURL *url.URL
}

// New checks cfg and builds a client.
func New(cfg Config) (*Client, error) {
	if len(cfg.Token) == 0 {
		return nil, errors.New("graph: the access token is empty")
	}
	for _, b := range cfg.Token {
		if b <= ' ' || b > '~' {
			return nil, errors.New("graph: the access token holds a character an HTTP header cannot carry")
		}
	}
	if len(cfg.AppSecret) == 0 {
		return nil, errors.New("graph: the app secret is empty (every call carries appsecret_proof)")
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("graph: base URL %q is not an http(s) URL without query", cfg.BaseURL)
	}
	if cfg.Version == "" || strings.ContainsAny(cfg.Version, "/?#%") {
		return nil, fmt.Errorf("graph: version %q is not a version like v25.0", cfg.Version)
	}
	if cfg.PageID != "" && !isID(cfg.PageID) {
		return nil, fmt.Errorf("graph: page id %q is not a Graph id (digits)", cfg.PageID)
	}
	mac := hmac.New(sha256.New, cfg.AppSecret)
	mac.Write(cfg.Token)
	token, secret := string(cfg.Token), string(cfg.AppSecret)
	auth := "Bearer " + token
	c := &Client{
		pageID:     cfg.PageID,
		version:    cfg.Version,
		base:       base,
		proof:      "appsecret_proof=" + hex.EncodeToString(mac.Sum(nil)),
		secrets:    secretForms(token, secret),
		timeout:    cfg.Timeout,
		observe:    cfg.Observer,
		now:        cfg.Now,
		getHeader:  http.Header{"Authorization": {auth}},
		jsonHeader: http.Header{"Authorization": {auth}, "Content-Type": {"application/json"}},
		formHeader: http.Header{"Authorization": {auth}, "Content-Type": {"application/x-www-form-urlencoded"}},
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
		// The own pool speaks to the Graph host directly; through a proxy, net/http does.
		c.own = NewTransport()
		c.rt = c.own
	default:
		c.pool = newH1Pool(u, auth, nil)
	}
	if cfg.MaxSendsPerSecond > 0 {
		c.limiter = newLimiter(int(cfg.MaxSendsPerSecond))
	}
	c.profiles = newProfileCache(profileCacheSize, c.now)
	if c.pageID != "" {
		for _, e := range []struct {
			dst  **url.URL
			edge Endpoint
		}{{&c.sendURL, EndpointSend}, {&c.passURL, EndpointPass}, {&c.takeURL, EndpointTake}, {&c.subscribedURL, EndpointSubscribedApps}} {
			if *e.dst, err = c.url(c.pageID+"/"+string(e.edge), ""); err != nil {
				return nil, err
			}
		}
	}
	return c, nil
}

// secretForms are the secrets as they may appear in a text: raw and URL-escaped.
func secretForms(secrets ...string) []string {
	var out []string
	for _, s := range secrets {
		if len(s) < 4 {
			continue // too short to tell from other text; never printed by this package anyway
		}
		out = append(out, s)
		for _, esc := range []string{url.QueryEscape(s), url.PathEscape(s)} {
			if esc != s {
				out = append(out, esc)
			}
		}
	}
	return out
}

// NewTransport is a connection pool for Graph calls: keep-alives and enough idle connections per
// host for hundreds of sends per second without reconnecting.
func NewTransport() *http.Transport {
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

// isID: Graph ids are digits; anything else could change the path.
func isID(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// url builds base/version/path?appsecret_proof=...[&query].
func (c *Client) url(path, query string) (*url.URL, error) {
	raw := c.base + "/" + c.version + "/" + path + "?" + c.proof
	if query != "" {
		raw += "&" + query
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("graph: cannot build a request URL from the base URL %q", c.base)
	}
	return u, nil
}

// needPage refuses a page call on a client without a page.
func (c *Client) needPage(ep Endpoint) error {
	if c.pageID == "" {
		return fmt.Errorf("graph %s: the client has no page id", ep)
	}
	return nil
}

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

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxResponse bounds what is read of an answer; Graph answers of these calls are small.
const maxResponse = 1 << 20

// request is one call: idempotent says whether a request that was sent but not answered may be
// repeated (GETs); out decodes a 2xx answer (when not nil).
type request struct {
	ep          Endpoint
	method      string
	u           *url.URL
	header      http.Header // for net/http; the pool writes the same headers itself
	contentType string
	body        []byte
	idempotent  bool
	out         func([]byte) error
	secrets     []string // besides the client's, scrubbed from errors
}

func (c *Client) get(ep Endpoint, u *url.URL, out func([]byte) error) request {
	return request{ep: ep, method: http.MethodGet, u: u, header: c.getHeader, idempotent: true, out: out}
}

func (c *Client) postJSON(ep Endpoint, u *url.URL, body []byte, out func([]byte) error) request {
	return request{ep: ep, method: http.MethodPost, u: u, header: c.jsonHeader, contentType: "application/json", body: body, out: out}
}

func (c *Client) postForm(ep Endpoint, u *url.URL, form url.Values, out func([]byte) error) request {
	return request{ep: ep, method: http.MethodPost, u: u, header: c.formHeader, contentType: "application/x-www-form-urlencoded",
		body: []byte(form.Encode()), out: out}
}

// call makes one request and tells the observer.
func (c *Client) call(ctx context.Context, r request) error {
	start := time.Now()
	err := c.roundTrip(ctx, &r)
	if c.observe != nil {
		c.observe(r.ep, MeaningOf(err), time.Since(start))
	}
	return err
}

// roundTrip makes the request through the pool or net/http and decodes the answer.
func (c *Client) roundTrip(ctx context.Context, r *request) error {
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer bufPool.Put(buf)
	var status int
	if c.pool != nil {
		// The pool takes the call's deadline as a time, not as a derived context: a context with
		// a timeout per call cost about 4 % of the webhook's CPU per event.
		deadline := time.Now().Add(c.timeout)
		if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
			deadline = d
		}
		st, sent, err := c.pool.do(ctx, deadline, r.method, r.u, r.contentType, r.body, buf)
		if err != nil {
			timeout := isTimeout(err) || ctx.Err() == context.DeadlineExceeded || !time.Now().Before(deadline)
			return &transportError{Endpoint: r.ep, Sent: sent, Idempotent: r.idempotent, Timeout: timeout, Err: c.scrubErr(err, r.secrets)}
		}
		status = st
	} else {
		ctx, cancel := context.WithTimeout(ctx, c.timeout)
		defer cancel()
		st, err := c.roundTripHTTP(ctx, r, buf)
		if err != nil {
			return err
		}
		status = st
	}
	if status < 200 || status > 299 {
		return c.parseError(r, status, buf.Bytes())
	}
	if r.out != nil {
		if err := r.out(buf.Bytes()); err != nil {
			return &apiError{Endpoint: r.ep, Status: status, Message: truncate(c.scrub("unexpected answer: "+err.Error(), r.secrets), maxMessage)}
		}
	}
	return nil
}

// roundTripHTTP is the net/http path: the request's WroteRequest trace tells "certainly not
// sent" from "maybe sent".
func (c *Client) roundTripHTTP(ctx context.Context, r *request, buf *bytes.Buffer) (int, error) {
	var wrote atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteRequest: func(info httptrace.WroteRequestInfo) {
		if info.Err == nil {
			wrote.Store(true)
		}
	}})
	req := (&http.Request{Method: r.method, URL: r.u, Host: r.u.Host, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: r.header}).WithContext(ctx)
	if r.body != nil {
		body := r.body
		req.ContentLength = int64(len(body))
		req.Body = io.NopCloser(bytes.NewReader(body))
		// Lets the transport resend on a fresh connection when a reused one was closed before
		// anything was written.
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	resp, err := c.rt.RoundTrip(req)
	if err != nil {
		return 0, &transportError{Endpoint: r.ep, Sent: wrote.Load(), Idempotent: r.idempotent, Timeout: isTimeout(err), Err: c.scrubErr(err, r.secrets)}
	}
	defer resp.Body.Close()
	if _, err := buf.ReadFrom(io.LimitReader(resp.Body, maxResponse)); err != nil {
		// The server answered but the answer broke off: the call may have taken effect.
		return 0, &transportError{Endpoint: r.ep, Sent: true, Idempotent: r.idempotent, Timeout: isTimeout(err), Err: c.scrubErr(err, r.secrets)}
	}
	return resp.StatusCode, nil
}

// scrubErr drops what an error could carry of the request: url.Error holds the URL; only the
// cause is kept, and any copy of a secret in it is redacted.
func (c *Client) scrubErr(err error, extra []string) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return errors.New(c.scrub(err.Error(), extra))
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
