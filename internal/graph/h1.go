package graph

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// h1Pool is the client's own HTTP/1.1 client: a pool of keep-alive connections to the Graph
// host, each request written and its answer read on the caller's goroutine. net/http's transport
// hands every request to two goroutines per connection (a writer and a reader) and parses
// headers into maps; with it the webhook spends about a fifth more CPU per event (measured:
// docs/architecture.md, "Hand-written parts"). Answers are read whole (they are small, and
// bounded), so a connection goes back to the pool before the caller even looks at the answer.
type h1Pool struct {
	scheme, addr, host string // addr is host:port to dial; host the Host header / SNI
	auth               string // the Authorization header line: it holds the token, never print it
	tls                *tls.Config
	dialer             net.Dialer
	sem                chan struct{} // bounds open connections
	idleTimeout        time.Duration

	mu   sync.Mutex
	idle []*h1Conn // most recently used last
}

type h1Conn struct {
	nc net.Conn
	// rc is the TCP connection under TLS, to probe an idle connection; probe and its results are
	// made once per connection (a closure per probe would be an allocation per request).
	rc      syscall.RawConn
	probe   func(fd uintptr) bool
	probeOK bool
	peek    [1]byte
	br      *bufio.Reader
	bw      *bufio.Writer
	usedAt  time.Time
}

const (
	h1MaxConns    = 256
	h1IdleTimeout = 50 * time.Second // below the usual 60s+ of servers, so they rarely close first
	maxHeaderLine = 64 << 10
)

func newH1Pool(base *url.URL, auth string, tlsConf *tls.Config) *h1Pool {
	p := &h1Pool{
		scheme:      base.Scheme,
		host:        base.Host,
		auth:        "Authorization: " + auth + "\r\n",
		addr:        base.Host,
		dialer:      net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second},
		sem:         make(chan struct{}, h1MaxConns),
		idleTimeout: h1IdleTimeout,
	}
	if base.Port() == "" {
		if base.Scheme == "https" {
			p.addr = net.JoinHostPort(base.Hostname(), "443")
		} else {
			p.addr = net.JoinHostPort(base.Hostname(), "80")
		}
	}
	if base.Scheme == "https" {
		if tlsConf != nil {
			p.tls = tlsConf.Clone()
		} else {
			p.tls = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		if p.tls.ServerName == "" {
			p.tls.ServerName = base.Hostname()
		}
		p.tls.NextProtos = []string{"http/1.1"} // this pool speaks HTTP/1.1 only
	}
	return p
}

var errAnswerTooLarge = errors.New("answer larger than 1 MiB")

// do sends one request before deadline; ctx cancels it (shutdown). The request counts as sent
// once it was completely written: from then on the server may act on it whatever happens to the
// answer.
func (p *h1Pool) do(ctx context.Context, deadline time.Time, method string, u *url.URL, contentType string, body []byte, out *bytes.Buffer) (int, bool, error) {
	if err := p.acquire(ctx, deadline); err != nil {
		return 0, false, err
	}
	defer func() { <-p.sem }()
	for attempt := 0; ; attempt++ {
		c, reused, err := p.get(ctx, deadline)
		if err != nil {
			return 0, false, err
		}
		status, keep, sent, err := p.exchange(ctx, deadline, c, method, u, contentType, body, out)
		if err == nil {
			if keep {
				p.put(c)
			} else {
				c.nc.Close()
			}
			return status, true, nil
		}
		c.nc.Close()
		// A pooled connection the server closed meanwhile fails on write: nothing reached the
		// server, so one more try on a fresh connection is safe.
		if !sent && reused && attempt == 0 && ctx.Err() == nil && time.Now().Before(deadline) {
			continue
		}
		return 0, sent, err
	}
}

// acquire takes a connection slot, waiting at most until deadline.
func (p *h1Pool) acquire(ctx context.Context, deadline time.Time) error {
	select {
	case p.sem <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case p.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return context.DeadlineExceeded
	}
}

func (p *h1Pool) get(ctx context.Context, deadline time.Time) (*h1Conn, bool, error) {
	now := time.Now()
	p.mu.Lock()
	for n := len(p.idle); n > 0; n = len(p.idle) {
		c := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		if now.Sub(c.usedAt) < p.idleTimeout && c.alive() {
			return c, true, nil
		}
		c.nc.Close()
		p.mu.Lock()
	}
	p.mu.Unlock()
	// A new connection is rare: here a derived context is cheap enough.
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	nc, err := p.dialer.DialContext(ctx, "tcp", p.addr)
	if err != nil {
		return nil, false, err
	}
	c := &h1Conn{nc: nc}
	if sc, ok := nc.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			c.rc = rc
			c.probe = c.probeFD
		}
	}
	if p.tls != nil {
		tc := tls.Client(nc, p.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			nc.Close()
			return nil, false, err
		}
		c.nc = tc
	}
	c.br = bufio.NewReaderSize(c.nc, 4096)
	c.bw = bufio.NewWriterSize(c.nc, 4096)
	return c, false, nil
}

func (p *h1Pool) put(c *h1Conn) {
	c.usedAt = time.Now()
	var stale []*h1Conn
	p.mu.Lock()
	// The least recently used are at the bottom; those idle too long go (the top is reused first,
	// so the bottom would otherwise hold its connections until the server drops them).
	n := 0
	for n < len(p.idle) && c.usedAt.Sub(p.idle[n].usedAt) >= p.idleTimeout {
		n++
	}
	if n > 0 {
		stale = append(stale, p.idle[:n]...)
		p.idle = append(p.idle[:0], p.idle[n:]...)
	}
	if len(p.idle) < h1MaxConns {
		p.idle = append(p.idle, c)
		c = nil
	}
	p.mu.Unlock()
	if c != nil {
		c.nc.Close()
	}
	for _, s := range stale {
		s.nc.Close()
	}
}

func (p *h1Pool) closeIdle() {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, c := range idle {
		c.nc.Close()
	}
}

// alive probes an idle connection without blocking: a server that closed it (FIN or RST) or
// sent something unasked (which only a closing TLS peer does) makes it unusable.
func (c *h1Conn) alive() bool {
	if c.br.Buffered() > 0 {
		return false
	}
	if c.rc == nil {
		return true
	}
	c.probeOK = true
	_ = c.rc.Read(c.probe) // the probe reports through probeOK
	return c.probeOK
}

// probeFD peeks at the socket without blocking; it runs inside RawConn.Read.
func (c *h1Conn) probeFD(fd uintptr) bool {
	n, _, err := syscall.Recvfrom(int(fd), c.peek[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	switch {
	case n > 0, n == 0 && err == nil:
		c.probeOK = false // data, or end of stream
	case err == syscall.EAGAIN || err == syscall.EWOULDBLOCK:
	default:
		c.probeOK = false
	}
	return true // never wait
}

func (p *h1Pool) exchange(ctx context.Context, deadline time.Time, c *h1Conn, method string, u *url.URL, contentType string, body []byte, out *bytes.Buffer) (status int, keep, sent bool, err error) {
	if err := c.nc.SetDeadline(deadline); err != nil {
		return 0, false, false, err
	}
	if ctx.Done() != nil {
		// Cancellation (shutdown) interrupts a blocked write or read.
		stop := context.AfterFunc(ctx, func() { _ = c.nc.SetDeadline(time.Unix(1, 0)) })
		defer stop()
	}
	w := c.bw
	w.WriteString(method)
	w.WriteByte(' ')
	w.WriteString(u.RequestURI())
	w.WriteString(" HTTP/1.1\r\nHost: ")
	w.WriteString(p.host)
	w.WriteString("\r\nUser-Agent: messenger-operator\r\nAccept: application/json\r\n")
	w.WriteString(p.auth)
	if body != nil || method == "POST" {
		w.WriteString("Content-Type: ")
		w.WriteString(contentType)
		w.WriteString("\r\nContent-Length: ")
		w.WriteString(strconv.Itoa(len(body)))
		w.WriteString("\r\n")
	}
	w.WriteString("\r\n")
	w.Write(body)
	if err := w.Flush(); err != nil {
		return 0, false, false, err
	}
	status, keep, err = readResponse(c.br, method, out)
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	return status, keep, true, err
}

// readResponse reads one answer whole into out: status line, headers, and a body framed by
// Content-Length, chunked encoding or the end of the connection. keep says whether the
// connection may carry another request.
func readResponse(br *bufio.Reader, method string, out *bytes.Buffer) (status int, keep bool, err error) {
	for {
		line, err := readLine(br)
		if err != nil {
			return 0, false, err
		}
		proto, rest, ok := bytes.Cut(line, []byte{' '})
		if !ok || len(rest) < 3 || !bytes.HasPrefix(proto, []byte("HTTP/1.")) {
			return 0, false, fmt.Errorf("malformed status line")
		}
		status, err = strconv.Atoi(string(rest[:3]))
		if err != nil || status < 100 || status > 999 {
			return 0, false, fmt.Errorf("malformed status code")
		}
		keep = string(proto) != "HTTP/1.0"
		length, chunked := int64(-1), false
		for {
			h, err := readLine(br)
			if err != nil {
				return 0, false, err
			}
			if len(h) == 0 {
				break
			}
			name, value, ok := bytes.Cut(h, []byte{':'})
			if !ok {
				return 0, false, fmt.Errorf("malformed header")
			}
			value = bytes.TrimSpace(value)
			switch {
			case bytes.EqualFold(name, []byte("Content-Length")):
				n, err := strconv.ParseInt(string(value), 10, 64)
				if err != nil || n < 0 || (length >= 0 && n != length) {
					return 0, false, fmt.Errorf("malformed Content-Length")
				}
				length = n
			case bytes.EqualFold(name, []byte("Transfer-Encoding")):
				if !bytes.EqualFold(value, []byte("chunked")) {
					return 0, false, fmt.Errorf("unsupported Transfer-Encoding")
				}
				chunked = true
			case bytes.EqualFold(name, []byte("Connection")):
				if bytes.Contains(bytes.ToLower(value), []byte("close")) {
					keep = false
				} else if bytes.Contains(bytes.ToLower(value), []byte("keep-alive")) {
					keep = true
				}
			}
		}
		if status >= 100 && status < 200 {
			continue // an interim answer; the real one follows
		}
		switch {
		case method == "HEAD" || status == 204 || status == 304:
			return status, keep, nil
		case chunked:
			return status, keep, readChunked(br, out)
		case length >= 0:
			if length > maxResponse {
				return 0, false, errAnswerTooLarge
			}
			_, err := io.CopyN(out, br, length)
			return status, keep, err
		default:
			n, err := out.ReadFrom(io.LimitReader(br, maxResponse+1))
			if err == nil && n > maxResponse {
				err = errAnswerTooLarge
			}
			return status, false, err
		}
	}
}

func readChunked(br *bufio.Reader, out *bytes.Buffer) error {
	for {
		line, err := readLine(br)
		if err != nil {
			return err
		}
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		n, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("malformed chunk size")
		}
		if n == 0 {
			for { // trailers, up to the empty line
				t, err := readLine(br)
				if err != nil {
					return err
				}
				if len(t) == 0 {
					return nil
				}
			}
		}
		if int64(out.Len())+n > maxResponse {
			return errAnswerTooLarge
		}
		if _, err := io.CopyN(out, br, n); err != nil {
			return err
		}
		if crlf, err := readLine(br); err != nil || len(crlf) != 0 {
			return fmt.Errorf("malformed chunk end")
		}
	}
}

// readLine returns a line without its CRLF (or LF); the slice is valid until the next read.
func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		var long []byte
		long = append(long, line...)
		for err == bufio.ErrBufferFull && len(long) < maxHeaderLine {
			line, err = br.ReadSlice('\n')
			long = append(long, line...)
		}
		if err != nil {
			return nil, fmt.Errorf("header line too long")
		}
		line = long
	}
	if err != nil {
		if err == io.EOF && len(line) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}
