package webhook

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/messenger-operator/messenger-operator/internal/handover"
)

// MaxBody is the largest POST body accepted (413 beyond).
const MaxBody = 1 << 20

// maxChallenge bounds the echoed hub.challenge (Meta sends an integer).
const maxChallenge = 1024

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	live := s.live.Load()
	if live == nil {
		s.reply(w, r, http.StatusServiceUnavailable, "not configured yet\n")
		return
	}
	if r.URL.Path != live.path {
		s.reply(w, r, http.StatusNotFound, "404 page not found\n")
		return
	}
	switch r.Method {
	case http.MethodGet:
		s.verify(w, r, live)
	case http.MethodPost:
		s.receive(w, r)
	default:
		w.Header().Set("Allow", "GET, POST")
		s.reply(w, r, http.StatusMethodNotAllowed, "method not allowed\n")
	}
}

func (s *Server) reply(w http.ResponseWriter, r *http.Request, code int, body string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	io.WriteString(w, body)
	s.metrics.request(r.Method, code)
}

// verify answers Meta's subscription check: the challenge, verbatim, for the right token.
func (s *Server) verify(w http.ResponseWriter, r *http.Request, live *liveConfig) {
	if s.ingress.closed() {
		s.reply(w, r, http.StatusServiceUnavailable, "shutting down\n")
		return
	}
	q := r.URL.Query()
	mode, token, challenge := q.Get("hub.mode"), q.Get("hub.verify_token"), q.Get("hub.challenge")
	if mode == "" || token == "" || challenge == "" || len(challenge) > maxChallenge {
		s.reply(w, r, http.StatusBadRequest, "hub.mode, hub.verify_token and hub.challenge are required\n")
		return
	}
	if mode != "subscribe" || !equalSecret(token, live.cfg.VerifyToken) {
		s.log.Warn("webhook verification refused", "page", live.cfg.PageID, "reason", "mode or verify token mismatch")
		s.reply(w, r, http.StatusForbidden, "verification failed\n")
		return
	}
	s.log.Info("webhook verified", "page", live.cfg.PageID)
	s.reply(w, r, http.StatusOK, challenge)
}

// bodyBuf is a request body's buffer with its size limit, reused across requests (an
// io.LimitReader per request would be one more allocation on the hot path).
type bodyBuf struct {
	bytes.Buffer
	lr io.LimitedReader
}

var bodyPool = sync.Pool{New: func() any {
	b := &bodyBuf{}
	b.Grow(4096)
	return b
}}

// receive takes a POST: size, signature, JSON, dedup, enqueue, 200. Handling happens after the
// answer (Meta allows 5 seconds and retries what is not acknowledged).
func (s *Server) receive(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if !s.ingress.enter() {
		s.reply(w, r, http.StatusServiceUnavailable, "shutting down\n")
		return
	}
	defer s.ingress.leave()
	// The configuration the request is judged with; a concurrent Apply affects the next one.
	live := s.live.Load()
	if r.ContentLength > MaxBody {
		s.reply(w, r, http.StatusRequestEntityTooLarge, "body too large\n")
		return
	}
	buf := bodyPool.Get().(*bodyBuf)
	buf.Reset()
	buf.lr = io.LimitedReader{R: r.Body, N: MaxBody + 1}
	defer func() {
		buf.lr.R = nil
		if buf.Cap() <= 64<<10 { // do not keep rare huge buffers alive
			bodyPool.Put(buf)
		}
	}()
	if _, err := buf.ReadFrom(&buf.lr); err != nil {
		s.reply(w, r, http.StatusBadRequest, "cannot read body\n")
		return
	}
	if buf.Len() > MaxBody {
		s.reply(w, r, http.StatusRequestEntityTooLarge, "body too large\n")
		return
	}
	body := buf.Bytes()
	if !live.verifier.valid(r.Header.Get(SignatureHeader), body) {
		s.log.Warn("webhook POST refused: missing or invalid "+SignatureHeader, "page", live.cfg.PageID,
			"legacySHA1Only", r.Header.Get(SignatureHeader) == "" && r.Header.Get("X-Hub-Signature") != "")
		s.reply(w, r, http.StatusForbidden, "invalid signature\n")
		return
	}
	var env envelope
	if err := decodeBody(body, &env); err != nil {
		s.log.Warn("webhook POST refused: malformed JSON", "page", live.cfg.PageID, "error", err.Error())
		s.reply(w, r, http.StatusBadRequest, "malformed JSON\n")
		return
	}
	if !s.accept(live, &env) {
		s.reply(w, r, http.StatusServiceUnavailable, "busy, retry later\n")
		return
	}
	w.WriteHeader(http.StatusOK)
	s.metrics.request(http.MethodPost, http.StatusOK)
	s.metrics.ack.Observe(time.Since(start).Seconds())
}

// accept turns the envelope into events and queues them; false (nothing queued, nothing marked
// seen) when the queue is full, so that Meta's retry finds the events new.
func (s *Server) accept(live *liveConfig, env *envelope) bool {
	if env.Object != "page" {
		s.ignore(ignoreObject, slog.String("object", env.Object))
		return true
	}
	evs := make([]handover.Event, 0, 1)
	for i := range env.Entry {
		e := &env.Entry[i]
		pageID := string(e.ID)
		if e.Changes {
			s.ignore(ignoreChanges)
		}
		if pageID != live.cfg.PageID {
			for range len(e.Messaging) + len(e.Standby) {
				s.ignore(ignoreOtherPage, slog.String("entryPage", pageID))
			}
			continue
		}
		for ch, list := range [2][]rawEvent{e.Messaging, e.Standby} {
			for j := range list {
				ev, reason := toEvent(pageID, handover.Channel(ch), e.Time, &list[j])
				if reason != "" {
					s.ignore(reason)
					continue
				}
				if ev.Timestamp.IsZero() {
					ev.Timestamp = s.clock.Now()
				}
				evs = append(evs, ev)
			}
		}
	}
	if len(evs) == 0 {
		return true
	}
	if len(evs) > 1 {
		// Events that arrive together are handled in timestamp order (per user, the queue keeps
		// that order; sorting here keeps a worker from starting on a later one first).
		slices.SortStableFunc(evs, func(a, b handover.Event) int { return a.Timestamp.Compare(b.Timestamp) })
	}
	var total int64
	for i := range evs {
		total += eventSize(&evs[i])
	}
	if !s.disp.reserve(len(evs), total) {
		return false
	}
	now := s.clock.Now()
	for i := range evs {
		ev := &evs[i]
		size := eventSize(ev)
		if key := dedupKey(ev); key != "" && !s.store.FirstSeen(key, now) {
			s.disp.release(1, size)
			s.ignore(ignoreDuplicate, slog.String("kind", kindName(ev.Kind)))
			continue
		}
		s.metrics.event(ev)
		s.disp.enqueue(work{ev: *ev, size: size})
	}
	return true
}

func (s *Server) ignore(reason string, attrs ...slog.Attr) {
	s.metrics.inc(s.metrics.ignored, reason)
	if s.log.Enabled(context.Background(), slog.LevelDebug) {
		s.log.LogAttrs(context.Background(), slog.LevelDebug, "event ignored", append(attrs, slog.String("reason", reason))...)
	}
}

// ingressGate counts requests inside receive so that Shutdown can close the door and wait for
// those already in.
type ingressGate struct {
	n    atomic.Int64
	shut atomic.Bool
}

func (g *ingressGate) enter() bool {
	g.n.Add(1)
	if g.shut.Load() {
		g.n.Add(-1)
		return false
	}
	return true
}

func (g *ingressGate) leave()       { g.n.Add(-1) }
func (g *ingressGate) closed() bool { return g.shut.Load() }
