package callback

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/messenger-operator/messenger-operator/internal/handover"
)

// MaxBody is the largest POST body accepted (413 beyond).
const MaxBody = 1 << 20

// maxChallenge bounds the echoed hub.challenge (Meta sends an integer).
const maxChallenge = 1024

func (h *Handler) serveHTTP(w http.ResponseWriter, r *http.Request) {
	live := h.live.Load()
	if live == nil {
		h.reply(w, r, http.StatusServiceUnavailable, "not configured yet\n")
		return
	}
	if r.URL.Path != live.path {
		h.reply(w, r, http.StatusNotFound, "404 page not found\n")
		return
	}
	switch r.Method {
	case http.MethodGet:
		h.verify(w, r, live)
	case http.MethodPost:
		h.receive(w, r)
	default:
		w.Header().Set("Allow", "GET, POST")
		h.reply(w, r, http.StatusMethodNotAllowed, "method not allowed\n")
	}
}

func (h *Handler) reply(w http.ResponseWriter, r *http.Request, code int, body string) {
	hdr := w.Header()
	hdr.Set("Content-Type", "text/plain; charset=utf-8")
	hdr.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, body) // the client left: nothing to tell it
	h.metrics.request(r.Method, code)
}

// verifyToken reports whether token is the verify token, or the previous one within its grace
// (constant-time comparisons).
func (live *liveConfig) verifyToken(token string, now time.Time) bool {
	return equalSecret(token, live.cfg.VerifyToken) ||
		len(live.previousToken) > 0 && now.Before(live.previousUntil) && equalSecret(token, live.previousToken)
}

// verify answers Meta's subscription check: the challenge, verbatim, for the right token.
func (h *Handler) verify(w http.ResponseWriter, r *http.Request, live *liveConfig) {
	if h.ingress.closed() {
		h.reply(w, r, http.StatusServiceUnavailable, "shutting down\n")
		return
	}
	q := r.URL.Query()
	mode, token, challenge := q.Get("hub.mode"), q.Get("hub.verify_token"), q.Get("hub.challenge")
	if mode == "" || token == "" || challenge == "" || len(challenge) > maxChallenge {
		h.reply(w, r, http.StatusBadRequest, "hub.mode, hub.verify_token and hub.challenge are required\n")
		return
	}
	if mode != "subscribe" || !live.verifyToken(token, h.now()) {
		h.warnRefused("webhook verification refused", live.who, "reason", "mode or verify token mismatch")
		h.reply(w, r, http.StatusForbidden, "verification failed\n")
		return
	}
	h.log.Info("webhook verified", live.who)
	h.reply(w, r, http.StatusOK, challenge)
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

// receive takes a POST: size, signature, JSON, the events handed to the queue, 200. Handling
// happens after the answer (Meta allows 5 seconds and retries what is not acknowledged).
func (h *Handler) receive(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if !h.ingress.enter() {
		h.reply(w, r, http.StatusServiceUnavailable, "shutting down\n")
		return
	}
	defer h.ingress.leave()
	// The configuration the request is judged with; a concurrent Apply affects the next one.
	live := h.live.Load()
	if r.ContentLength > MaxBody {
		h.reply(w, r, http.StatusRequestEntityTooLarge, "body too large\n")
		return
	}
	reserved := reservation(r.ContentLength)
	if !h.budget.reserve(reserved) {
		h.reply(w, r, http.StatusServiceUnavailable, "busy, retry later\n")
		return
	}
	defer h.budget.release(reserved)
	buf := bodyPool.Get().(*bodyBuf)
	buf.Reset()
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength) + bytes.MinRead) // no growth past the reservation
	}
	buf.lr = io.LimitedReader{R: r.Body, N: MaxBody + 1}
	defer func() {
		buf.lr.R = nil
		if buf.Cap() <= 64<<10 { // do not keep rare huge buffers alive
			bodyPool.Put(buf)
		}
	}()
	if _, err := buf.ReadFrom(&buf.lr); err != nil {
		h.reply(w, r, http.StatusBadRequest, "cannot read body\n")
		return
	}
	if buf.Len() > MaxBody {
		h.reply(w, r, http.StatusRequestEntityTooLarge, "body too large\n")
		return
	}
	body := buf.Bytes()
	if !live.verifier.valid(r.Header.Get(SignatureHeader), body) {
		h.warnRefused("webhook POST refused: missing or invalid "+SignatureHeader, live.who,
			"legacySHA1Only", r.Header.Get(SignatureHeader) == "" && r.Header.Get("X-Hub-Signature") != "")
		h.reply(w, r, http.StatusForbidden, "invalid signature\n")
		return
	}
	var env envelope
	if err := decodeBody(body, &env); err != nil {
		h.log.Warn("webhook POST refused: malformed JSON", live.who, "error", err.Error())
		h.reply(w, r, http.StatusBadRequest, "malformed JSON\n")
		return
	}
	if !h.accept(live, &env) {
		h.reply(w, r, http.StatusServiceUnavailable, "busy, retry later\n")
		return
	}
	w.WriteHeader(http.StatusOK)
	h.metrics.request(http.MethodPost, http.StatusOK)
	h.metrics.ack.Observe(time.Since(start).Seconds())
}

// eventsPool holds the event slices of requests: the queue copies what it keeps, and a slice
// handed to it through an interface would otherwise be allocated for every request.
var eventsPool = sync.Pool{New: func() any {
	evs := make([]handover.Event, 0, 4)
	return &evs
}}

// accept turns the envelope into events and hands them to the queue; false (nothing queued,
// nothing marked seen) when the queue is full, so that Meta's retry finds the events new.
func (h *Handler) accept(live *liveConfig, env *envelope) bool {
	if env.Object != "page" {
		h.queue.Ignore(ignoreObject, slog.String("object", env.Object))
		return true
	}
	p := eventsPool.Get().(*[]handover.Event)
	evs := h.events(live, env, (*p)[:0])
	ok := len(evs) == 0 || h.queue.Accept(evs)
	clear(evs) // the pool must not keep texts and ids alive
	*p = evs[:0]
	eventsPool.Put(p)
	return ok
}

// events appends the events of the pages served to evs; it counts what it leaves out.
func (h *Handler) events(live *liveConfig, env *envelope, evs []handover.Event) []handover.Event {
	for i := range env.Entry {
		e := &env.Entry[i]
		pageID := string(e.ID)
		if e.Changes {
			h.queue.Ignore(ignoreChanges)
		}
		if _, served := live.pages[pageID]; !served {
			if h.unserved != nil {
				h.unserved(pageID)
				continue
			}
			for range len(e.Messaging) + len(e.Standby) {
				h.queue.Ignore(ignoreOtherPage, slog.String("entryPage", pageID))
			}
			continue
		}
		for ch, list := range [2][]rawEvent{e.Messaging, e.Standby} {
			for j := range list {
				ev, reason := toEvent(pageID, handover.Channel(ch), e.Time, &list[j])
				if reason != "" {
					h.queue.Ignore(reason)
					continue
				}
				evs = append(evs, ev)
			}
		}
	}
	return evs
}

// ingressGate counts requests inside receive so that Close can shut the door and wait for
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
