package playground

import (
	"embed"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"regexp"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

//go:embed static
var static embed.FS

// Page is a Facebook Page of the playground (at the simulator).
type Page struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Customer is a person who writes to the Pages (a user the simulator knows).
type Customer struct {
	PSID string `json:"psid"`
	Name string `json:"name"`
}

// Options are what the playground talks to.
type Options struct {
	// SimulatorURL is the simulator's base URL (its control API is under /_sim/).
	SimulatorURL string
	// Client reaches the API server; it needs get and update of handoverpolicies only.
	Client client.Client
	// Policy is the HandoverPolicy shown and edited.
	Policy types.NamespacedName
	// AuditLog is the webhook's log file, read for the handover audit; empty: none.
	AuditLog  string
	Pages     []Page
	Customers []Customer
}

// Server serves the playground's page and API.
type Server struct {
	o      Options
	sim    *simClient
	policy *policyStore
}

// New builds the server.
func New(o Options) *Server {
	return &Server{o: o, sim: newSimClient(o.SimulatorURL), policy: &policyStore{c: o.Client, key: o.Policy}}
}

// Handler serves the page (/), its files (/static/) and the API (/api/).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	files, _ := fs.Sub(static, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(files)))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, files, "index.html")
	})
	mux.HandleFunc("GET /api/config", s.config)
	mux.HandleFunc("GET /api/thread", s.thread)
	mux.HandleFunc("POST /api/customer/{action}", s.forward("customer", customerActions))
	mux.HandleFunc("POST /api/inbox/{action}", s.forward("inbox", inboxActions))
	mux.HandleFunc("POST /api/clock/advance", s.advance)
	mux.HandleFunc("GET /api/policy", s.getPolicy)
	mux.HandleFunc("PUT /api/policy", s.putPolicy)
	mux.HandleFunc("GET /api/events", s.events)
	return securityHeaders(mux)
}

// securityHeaders: the page loads nothing from elsewhere and is never framed.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		h.ServeHTTP(w, r)
	})
}

func (s *Server) config(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"pages": s.o.Pages, "customers": s.o.Customers,
		"policy": s.o.Policy.String(), "audit": s.o.AuditLog != ""})
}

// thread is one customer's conversation with one Page: messages, owner and welcome screen.
func (s *Server) thread(w http.ResponseWriter, r *http.Request) {
	q := url.Values{"page": {r.URL.Query().Get("page")}, "psid": {r.URL.Query().Get("psid")}}
	if !s.known(q.Get("page"), q.Get("psid")) {
		writeError(w, http.StatusBadRequest, errors.New("unknown page or customer"))
		return
	}
	out := map[string]json.RawMessage{}
	for key, path := range map[string]string{"messages": "messages", "owner": "owner", "welcome": "welcome", "clock": "clock"} {
		v, err := s.sim.get(r.Context(), path, q)
		if err != nil {
			writeError(w, http.StatusBadGateway, err)
			return
		}
		out[key] = v
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) known(page, psid string) bool {
	pageOK, userOK := false, false
	for _, p := range s.o.Pages {
		pageOK = pageOK || p.ID == page
	}
	for _, c := range s.o.Customers {
		userOK = userOK || c.PSID == psid
	}
	return pageOK && userOK
}

// The actions the page may ask of the simulator, and the fields each takes.
var (
	customerActions = map[string][]string{"say": {"text"}, "tap": {"title", "payload"}, "press": {"title", "card"},
		"postback": {"title", "payload"}, "get_started": nil, "menu": {"title"}}
	inboxActions = map[string][]string{"reply": {"text"}, "done": nil}
)

// forward passes a customer's or the agent's action to the simulator, with only the fields
// the action takes.
func (s *Server) forward(who string, actions map[string][]string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		action := r.PathValue("action")
		fields, ok := actions[action]
		if !ok {
			writeError(w, http.StatusNotFound, errors.New("no such action: "+who+"/"+action))
			return
		}
		var in map[string]string
		if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&in); err != nil {
			writeError(w, http.StatusBadRequest, errors.New("the body must be a JSON object of strings"))
			return
		}
		if !s.known(in["page"], in["psid"]) {
			writeError(w, http.StatusBadRequest, errors.New("unknown page or customer"))
			return
		}
		body := map[string]string{"page": in["page"], "psid": in["psid"]}
		for _, f := range fields {
			if v, ok := in[f]; ok {
				body[f] = v
			}
		}
		out, err := s.sim.post(r.Context(), who+"/"+action, body)
		if err != nil {
			writeError(w, http.StatusBadGateway, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	}
}

var durationRe = regexp.MustCompile(`^([0-9]+(\.[0-9]+)?(h|m|s))+$`)

func (s *Server) advance(w http.ResponseWriter, r *http.Request) {
	var in struct{ Duration string }
	if err := json.NewDecoder(io.LimitReader(r.Body, 4<<10)).Decode(&in); err != nil || !durationRe.MatchString(in.Duration) {
		writeError(w, http.StatusBadRequest, errors.New("duration must be a duration such as 30m, 2h or 25h"))
		return
	}
	out, err := s.sim.post(r.Context(), "clock/advance", map[string]string{"duration": in.Duration})
	if err != nil {
		writeError(w, http.StatusBadGateway, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getPolicy(w http.ResponseWriter, r *http.Request) {
	v, err := s.policy.get(r.Context())
	if err != nil {
		writeError(w, statusOf(err), err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) putPolicy(w http.ResponseWriter, r *http.Request) {
	var in struct{ Spec, ResourceVersion string }
	if err := json.NewDecoder(io.LimitReader(r.Body, 256<<10)).Decode(&in); err != nil {
		writeError(w, http.StatusBadRequest, errors.New("the body must be {\"spec\": YAML, \"resourceVersion\": ...}"))
		return
	}
	v, err := s.policy.update(r.Context(), in.Spec, in.ResourceVersion)
	if err != nil {
		writeError(w, statusOf(err), err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// statusOf passes the API server's status on (422 for a rejected policy, 409 for a conflict).
func statusOf(err error) int {
	var st apierrors.APIStatus
	switch {
	case errors.Is(err, errBadSpec):
		return http.StatusBadRequest
	case errors.As(err, &st) && st.Status().Code != 0:
		return int(st.Status().Code)
	}
	return http.StatusBadGateway
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]string{"error": err.Error()})
}
