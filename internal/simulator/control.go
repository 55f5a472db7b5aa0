package simulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// The JSON control API under /_sim/ drives the simulator from another process (the demo, the
// playground, shell scripts). It has no authentication: bind the simulator to localhost. Every
// endpoint is listed in cmd/simulator/README.md.

type controlRequest struct {
	Page     string `json:"page"`
	PSID     string `json:"psid"`
	Text     string `json:"text"`
	Title    string `json:"title"`
	Card     string `json:"card"`
	Payload  string `json:"payload"`
	Target   string `json:"target"`
	Metadata string `json:"metadata"`
	Duration string `json:"duration"`
	App      string `json:"app"`
	Token    string `json:"token"`
	Timeout  string `json:"timeout"`
	// Customer events.
	Kind    string `json:"kind"` // attachment type
	URL     string `json:"url"`
	Sticker string `json:"sticker_id"`
	Mid     string `json:"mid"`
	Emoji   string `json:"emoji"`
	Ref     string `json:"ref"`
	Source  string `json:"source"`
	// Page and inbox settings.
	Away    *bool                      `json:"away"`
	Roles   map[string][]string        `json:"roles"`
	Profile map[string]json.RawMessage `json:"profile"`
	Fields  []string                   `json:"fields"`
	Locale  string                     `json:"locale"`
	N       int                        `json:"n"`
	// Tokens.
	ExpiresAt           *string  `json:"expires_at"`             // RFC 3339, or "" / "never"
	DataAccessExpiresAt *string  `json:"data_access_expires_at"` // RFC 3339
	Scopes              []string `json:"scopes"`
	// App settings.
	RequireAppSecretProof *bool `json:"require_appsecret_proof"`
	CanTake               *bool `json:"can_take"`
	StandardAccess        *bool `json:"standard_access"`
	HumanAgent            *bool `json:"human_agent"`
}

type controlFault struct {
	Endpoint    string `json:"endpoint"`
	App         string `json:"app"`
	Times       int    `json:"times"`
	Status      int    `json:"status"`
	Code        int    `json:"code"`
	Subcode     int    `json:"subcode"`
	Message     string `json:"message"`
	Type        string `json:"type"`
	AfterEffect bool   `json:"after_effect"`
}

// ControlHandler serves the control API (paths start with ControlPrefix).
func (s *Simulator) ControlHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := strings.Trim(strings.TrimPrefix(r.URL.Path, ControlPrefix), "/")
		segs := strings.Split(path, "/")
		if r.Method == http.MethodGet && path == "timeline/stream" {
			s.timelineStream(w, r)
			return
		}
		var req controlRequest
		if (r.Method == http.MethodPost || r.Method == http.MethodDelete) && segs[0] != "faults" {
			if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil && !errors.Is(err, io.EOF) {
				controlError(w, fmt.Errorf("request body: %v", err))
				return
			}
		}
		q := r.URL.Query()
		if req.Page == "" {
			req.Page = q.Get("page")
		}
		if req.PSID == "" {
			req.PSID = q.Get("psid")
		}
		if req.App == "" {
			req.App = q.Get("app")
		}
		if req.Locale == "" {
			req.Locale = q.Get("locale")
		}
		if req.Page == "" {
			req.Page = s.onlyPage()
		}
		out, err := s.control(r, segs, req)
		if err != nil {
			controlError(w, err)
			return
		}
		if text, ok := out.(string); ok {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = w.Write([]byte(text))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	})
}

type notFound struct{ path string }

func (e notFound) Error() string { return "no such control endpoint: " + e.path }

func controlError(w http.ResponseWriter, err error) {
	body := map[string]any{"error": err.Error()}
	status := http.StatusBadRequest
	var gerr *GraphError
	var nf notFound
	switch {
	case errors.As(err, &gerr):
		body["code"], body["subcode"] = gerr.Code, gerr.Subcode
		status = http.StatusConflict
	case errors.As(err, &nf):
		status = http.StatusNotFound
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func (s *Simulator) onlyPage() string {
	if len(s.pageOrder) == 1 {
		return s.pageOrder[0]
	}
	return ""
}

func ok() map[string]any { return map[string]any{"ok": true} }

func (s *Simulator) control(r *http.Request, segs []string, req controlRequest) (any, error) {
	post := r.Method == http.MethodPost
	get := r.Method == http.MethodGet
	route := strings.Join(segs, "/")
	switch {
	case post && segs[0] == "customer" && len(segs) == 2:
		return s.controlCustomer(segs[1], req)
	case post && segs[0] == "inbox" && len(segs) == 2:
		return s.controlInbox(segs[1], req)
	case post && segs[0] == "app" && len(segs) == 3:
		return s.controlApp(segs[1], segs[2], req)
	case post && segs[0] == "apps" && len(segs) == 3 && segs[2] == "settings":
		return ok(), s.ChangeApp(segs[1], AppChange{RequireAppSecretProof: req.RequireAppSecretProof,
			CanTake: req.CanTake, StandardAccess: req.StandardAccess, HumanAgent: req.HumanAgent})
	case post && route == "clock/advance":
		d, err := time.ParseDuration(req.Duration)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("duration must be a positive Go duration such as 24h")
		}
		if err := s.Advance(d); err != nil {
			return nil, err
		}
		return map[string]any{"now": s.Now().UTC().Format(time.RFC3339Nano)}, nil
	case get && route == "clock":
		return map[string]any{"now": s.Now().UTC().Format(time.RFC3339Nano)}, nil
	case get && route == "transcript":
		t := s.Transcript()
		if req.PSID != "" {
			t = t.For(req.Page, req.PSID)
		}
		if r.URL.Query().Get("format") == "json" {
			return t, nil
		}
		return t.String(), nil
	case get && route == "owner":
		if req.PSID == "" {
			return nil, fmt.Errorf("psid is required")
		}
		owner := s.Owner(req.Page, req.PSID)
		out := map[string]any{"owner": owner, "app_id": s.AppID(owner)}
		if e := s.OwnerExpiry(req.Page, req.PSID); !e.IsZero() {
			out["expires"] = e.UTC().Format(time.RFC3339)
		}
		return out, nil
	case get && route == "messages":
		return s.Messages(req.Page, req.PSID), nil
	case get && route == "calls":
		if ep := r.URL.Query().Get("endpoint"); ep != "" {
			return map[string]any{"endpoint": ep, "count": s.Calls(ep)}, nil
		}
		s.mu.Lock()
		counts := map[string]int{}
		for k, v := range s.calls {
			counts[k] = v
		}
		total := len(s.callLog)
		s.mu.Unlock()
		return map[string]any{"counts": counts, "total": total}, nil
	case get && route == "calllog":
		return s.CallLog(), nil
	case post && route == "faults":
		var f controlFault
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&f); err != nil {
			return nil, fmt.Errorf("fault body: %v", err)
		}
		if err := s.InjectFault(Fault(f)); err != nil {
			return nil, err
		}
		return ok(), nil
	case r.Method == http.MethodDelete && route == "faults":
		s.ClearFaults()
		return ok(), nil
	case post && strings.HasPrefix(route, "tokens/"):
		return s.controlTokens(strings.TrimPrefix(route, "tokens/"), req)
	case post && route == "wait_idle":
		timeout := 30 * time.Second
		if req.Timeout != "" {
			d, err := time.ParseDuration(req.Timeout)
			if err != nil {
				return nil, fmt.Errorf("timeout must be a Go duration")
			}
			timeout = d
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		if err := s.WaitIdle(ctx); err != nil {
			return nil, err
		}
		return ok(), nil
	case post && route == "hold":
		s.Hold()
		return ok(), nil
	case post && route == "flush":
		s.Flush()
		return ok(), nil
	case post && route == "duplicate_next":
		s.DuplicateNext(max(req.N, 1))
		return ok(), nil
	case get && route == "deliveries":
		return deliveriesJSON(s.Deliveries(req.App)), nil
	case get && route == "retries":
		return map[string]any{"app": req.App, "pending": s.PendingRetries(req.App)}, nil
	case get && route == "routed":
		return routedJSON(s.Routed(req.App)), nil
	case get && route == "state":
		return s.state(), nil
	case get && route == "timeline":
		return s.controlTimeline(r)
	case route == "profile":
		return s.controlProfile(r.Method, req)
	case get && route == "welcome":
		w, err := s.WelcomeScreen(req.Page, req.PSID, req.Locale)
		if err != nil {
			return nil, err
		}
		if r.URL.Query().Get("format") == "text" {
			return w.String(), nil
		}
		return w, nil
	case post && route == "pages/app_roles":
		return ok(), s.SetAppRoles(req.Page, req.Roles)
	}
	return nil, notFound{path: r.Method + " " + ControlPrefix + route}
}

func deliveriesJSON(ds []Delivery) []map[string]any {
	out := []map[string]any{}
	for _, d := range ds {
		m := map[string]any{"app": d.App, "pages": d.Pages, "attempt": d.Attempt, "status": d.Status, "ok": d.OK,
			"final": d.Final, "duplicate": d.Duplicate, "events": d.Events, "error": d.Err, "body": string(d.Body),
			"at": d.At.UTC().Format(time.RFC3339Nano)}
		if !d.NextAttempt.IsZero() {
			m["next_attempt"] = d.NextAttempt.UTC().Format(time.RFC3339Nano)
		}
		out = append(out, m)
	}
	return out
}

func routedJSON(rs []Routed) []map[string]any {
	out := []map[string]any{}
	for _, r := range rs {
		out = append(out, map[string]any{"app": r.App, "page": r.Page, "psid": r.PSID, "channel": r.Channel,
			"field": r.Field, "kind": r.Kind, "to_callback": r.ToCallback, "reason": r.Reason, "event": json.RawMessage(r.Event)})
	}
	return out
}

// state describes pages and apps (no secrets, no tokens).
func (s *Simulator) state() map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var apps, pages []map[string]any
	for _, id := range s.appOrder {
		a := s.apps[id]
		m := map[string]any{"id": a.id, "name": a.name, "can_take": a.canTake, "builtin": a.builtin,
			"require_appsecret_proof": a.requireProof, "standard_access": a.standardAccess, "human_agent": a.humanAgent}
		if a.sub != nil {
			m["callback_url"] = a.sub.callbackURL
		}
		apps = append(apps, m)
	}
	for _, id := range s.pageOrder {
		p := s.pages[id]
		var connected []string
		for _, a := range p.apps {
			connected = append(connected, s.apps[a].name)
		}
		pages = append(pages, map[string]any{"id": p.id, "name": p.name, "default_app": s.appName(p.defaultApp),
			"zero_config": p.zeroConfig(), "apps": connected, "away": p.away})
	}
	return map[string]any{"apps": apps, "pages": pages, "now": s.clock.Now().UTC().Format(time.RFC3339Nano)}
}
