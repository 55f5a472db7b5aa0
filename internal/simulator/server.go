package simulator

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"
)

// ControlPrefix is the reserved path prefix of the JSON control API.
const ControlPrefix = "/_sim/"

// Handler serves the Graph API and, under ControlPrefix, the control API.
func (s *Simulator) Handler() http.Handler {
	graph, control := s.GraphHandler(), s.ControlHandler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, ControlPrefix) {
			control.ServeHTTP(w, r)
			return
		}
		graph.ServeHTTP(w, r)
	})
}

// Server is the simulator listening on an address.
type Server struct {
	// URL is the base URL: the Graph base URL for the webhook and the root of the control API.
	URL string
	srv *http.Server
}

// Start serves Handler on addr ("127.0.0.1:0" picks a free port).
func (s *Simulator) Start(addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return s.Serve(ln), nil
}

// Serve serves Handler on ln in the background.
func (s *Simulator) Serve(ln net.Listener) *Server {
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logf("simulator server stopped: %v", err)
		}
	}()
	return &Server{URL: "http://" + ln.Addr().String(), srv: srv}
}

// Close stops the listener (not the simulator: see Simulator.Close).
func (srv *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.srv.Shutdown(ctx); err != nil {
		return srv.srv.Close() // requests held by a "timeout after sending" fault
	}
	return nil
}
