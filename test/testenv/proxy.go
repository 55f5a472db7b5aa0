package testenv

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
)

// TCPProxy forwards TCP connections to a target (an API server) and can cut them off, to play
// a network partition or an API server restart for a client that keeps its address.
type TCPProxy struct {
	ln      net.Listener
	target  string
	down    atomic.Bool
	refused atomic.Int32
	mu      sync.Mutex
	conns   map[net.Conn]struct{}
}

// NewTCPProxy listens on a free 127.0.0.1 port and forwards to target (host:port).
func NewTCPProxy(target string) (*TCPProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &TCPProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	go p.serve()
	return p, nil
}

// Addr is the proxy's host:port.
func (p *TCPProxy) Addr() string { return p.ln.Addr().String() }

// SetDown refuses new connections and closes the open ones (true), or forwards again (false).
func (p *TCPProxy) SetDown(down bool) {
	p.down.Store(down)
	if down {
		p.closeConns()
	}
}

// Refused counts the connections refused while down: proof that the client tried.
func (p *TCPProxy) Refused() int { return int(p.refused.Load()) }

// Close stops listening and closes every connection.
func (p *TCPProxy) Close() {
	_ = p.ln.Close()
	p.closeConns()
}

func (p *TCPProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if p.down.Load() {
			p.refused.Add(1)
			_ = c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[up] = struct{}{}, struct{}{}
		p.mu.Unlock()
		go func() { _, _ = io.Copy(up, c); _ = up.Close() }()
		go func() { _, _ = io.Copy(c, up); _ = c.Close() }()
	}
}

func (p *TCPProxy) closeConns() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		_ = c.Close()
	}
	clear(p.conns)
}
