package playground

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// events streams server-sent events to the page: "timeline" for each event of the simulator's
// timeline (relayed from its stream, from the start), "audit" for each handover audit line of
// the webhook's log.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, fmt.Errorf("streaming unsupported"))
		return
	}
	ctx := r.Context()
	upstream, err := s.sim.stream(ctx)
	if err != nil {
		writeError(w, http.StatusBadGateway, err)
		return
	}
	defer func() { _ = upstream.Body.Close() }()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	flusher.Flush()

	timeline := make(chan string)
	go func() {
		defer close(timeline)
		sc := bufio.NewScanner(upstream.Body)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				select {
				case timeline <- data:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	audit := make(chan AuditLine)
	if s.o.AuditLog != "" {
		go followAudit(ctx, s.o.AuditLog, audit)
	}
	for {
		var name, data string
		select {
		case <-ctx.Done():
			return
		case d, ok := <-timeline:
			if !ok {
				return
			}
			name, data = "timeline", d
		case l := <-audit:
			b, _ := json.Marshal(l)
			name, data = "audit", string(b)
		}
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, data); err != nil {
			return
		}
		flusher.Flush()
	}
}
