package simulator

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
)

var versionRe = regexp.MustCompile(`^v[0-9]+\.[0-9]+$`)

// GraphHandler serves the Graph API: /{version}/{node}[/{edge}] for any vNN.N (unversioned paths
// are accepted too, as Graph does with the app's default version).
func (s *Simulator) GraphHandler() http.Handler { return http.HandlerFunc(s.serveGraph) }

func (s *Simulator) serveGraph(w http.ResponseWriter, r *http.Request) {
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	version := s.opts.GraphVersion
	if len(segs) > 0 && versionRe.MatchString(segs[0]) {
		version, segs = segs[0], segs[1:]
	}
	if len(segs) == 1 && segs[0] == "" {
		segs = nil
	}
	call := Call{Endpoint: s.endpointOf(r.Method, segs), Method: r.Method, Path: r.URL.Path}
	p, gerr := parseParams(r)
	var c *caller
	var fault *Fault
	var bucHeader string
	if gerr == nil {
		s.mu.Lock()
		c, gerr = s.authenticateLocked(accessToken(r, p), strOr(p, "appsecret_proof"))
		if gerr == nil {
			call.App = c.app.name
			if c.page != nil {
				call.Page = c.page.id
				// Page tokens are under the business use case limits (§5.5).
				bucHeader, gerr = s.bucLocked(c.app, c.page)
			}
		}
		if gerr == nil {
			fault = s.takeFaultLocked(call.Endpoint, c)
		}
		s.mu.Unlock()
	}
	if gerr == nil && fault != nil && !fault.AfterEffect {
		gerr = fault.graphError()
		call.Fault = true
	}
	var status int
	var body any
	if gerr == nil {
		body, gerr = s.dispatch(r.Method, segs, c, p, version)
	}
	if gerr != nil {
		status = gerr.HTTPStatus
		call.Code, call.Subcode = gerr.Code, gerr.Subcode
	} else {
		status = http.StatusOK
	}
	call.Status = status
	if fault != nil && fault.AfterEffect {
		// The effect happened; now the answer is held until the client gives up.
		call.Fault, call.Hung = true, true
		s.recordCall(call)
		select {
		case <-r.Context().Done():
			return
		case <-s.closing:
			return
		case <-time.After(s.opts.HangLimit):
		}
	} else {
		s.recordCall(call)
	}
	w.Header().Set("facebook-api-version", version)
	if bucHeader != "" {
		w.Header().Set("X-Business-Use-Case-Usage", bucHeader)
	}
	if gerr != nil {
		s.writeGraphError(w, gerr)
		return
	}
	s.writeJSON(w, status, body)
}

func strOr(p params, k string) string {
	v, _ := p.str(k)
	return v
}

// endpointOf names the endpoint of a path for Calls and faults.
func (s *Simulator) endpointOf(method string, segs []string) string {
	switch len(segs) {
	case 1:
		s.mu.Lock()
		_, isPage := s.pages[segs[0]]
		s.mu.Unlock()
		if segs[0] == "me" || isPage {
			return EndpointPage
		}
		if segs[0] == EndpointDebugToken {
			return EndpointDebugToken
		}
		return EndpointProfile
	case 2:
		switch segs[1] {
		case EndpointMessages, EndpointPass, EndpointTake, EndpointRequest, EndpointRelease, EndpointExtend,
			EndpointThreadOwner, EndpointSubscribedApps, EndpointSubscriptions, EndpointMessengerProfile:
			return segs[1]
		}
	}
	return EndpointOther
}

// dispatch routes an authenticated request to its endpoint.
func (s *Simulator) dispatch(method string, segs []string, c *caller, p params, version string) (any, *GraphError) {
	if len(segs) == 0 || len(segs) > 2 {
		return nil, errUnsupported(method, strings.Join(segs, "/"))
	}
	node, edge := segs[0], ""
	if len(segs) == 2 {
		edge = segs[1]
	}
	if node == EndpointDebugToken && edge == "" {
		if !c.appToken {
			return nil, errNeedAppToken()
		}
		return only(method, http.MethodGet, node, func() (any, *GraphError) { return s.debugToken(c, p) })
	}
	if c.appToken {
		if node == c.app.id && edge == EndpointSubscriptions {
			return s.appSubscriptions(method, c, p, version)
		}
		if node != c.app.id {
			return nil, errNeedPageToken()
		}
		return nil, errNoField(edge, "Application")
	}
	if edge == EndpointSubscriptions {
		return nil, errNeedAppToken()
	}
	if gerr := needScope(c, edge, node); gerr != nil {
		return nil, gerr
	}
	if node != "me" && node != c.page.id {
		if edge == "" && method == http.MethodGet {
			return s.profile(c, node, p)
		}
		return nil, errNoObject(node)
	}
	switch edge {
	case "":
		return only(method, http.MethodGet, node, func() (any, *GraphError) { return s.pageNode(c, p) })
	case EndpointMessages:
		return only(method, http.MethodPost, node, func() (any, *GraphError) { return s.sendEndpoint(c, p) })
	case EndpointPass, EndpointTake, EndpointRequest, EndpointRelease, EndpointExtend:
		return only(method, http.MethodPost, node, func() (any, *GraphError) { return s.handoverEndpoint(c, edge, p) })
	case EndpointThreadOwner:
		return only(method, http.MethodGet, node, func() (any, *GraphError) { return s.threadOwner(c, p) })
	case EndpointSubscribedApps:
		return s.pageSubscribedApps(method, c, p)
	case EndpointMessengerProfile:
		return s.messengerProfileEndpoint(method, c, p)
	}
	return nil, errNoField(edge, "Page")
}

// needScope: messaging endpoints need pages_messaging (§4: "Page access token with
// pages_messaging"), subscribed_apps needs pages_manage_metadata (§7.2).
func needScope(c *caller, edge, node string) *GraphError {
	scope := "pages_messaging"
	switch edge {
	case EndpointSubscribedApps:
		scope = "pages_manage_metadata"
	case "":
		if node == "me" || node == c.page.id {
			return nil // the Page node itself
		}
	}
	if !c.token.has(scope) {
		return errMissingScope(scope)
	}
	return nil
}

func only(method, want, node string, f func() (any, *GraphError)) (any, *GraphError) {
	if method != want {
		return nil, errUnsupported(method, node)
	}
	return f()
}

func errUnsupported(method, node string) *GraphError {
	return graphErr(400, 100, 33, "GraphMethodException", fmt.Sprintf("Unsupported %s request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation.", strings.ToLower(method), node))
}

type errorBody struct {
	Error struct {
		Message     string `json:"message"`
		Type        string `json:"type"`
		Code        int    `json:"code"`
		Subcode     int    `json:"error_subcode,omitempty"`
		IsTransient bool   `json:"is_transient,omitempty"`
		FBTraceID   string `json:"fbtrace_id"`
	} `json:"error"`
}

func (s *Simulator) writeGraphError(w http.ResponseWriter, e *GraphError) {
	var b errorBody
	b.Error.Message, b.Error.Type, b.Error.Code, b.Error.Subcode = e.Message, e.Type, e.Code, e.Subcode
	b.Error.IsTransient = e.Transient
	b.Error.FBTraceID = randomString(11, tokenAlphabet)
	if e.Code == 190 {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`OAuth "Facebook Platform" "invalid_token" %q`, e.Message))
	}
	status := e.HTTPStatus
	if status == 0 {
		status = http.StatusBadRequest
	}
	s.writeJSON(w, status, b)
}

func (s *Simulator) writeJSON(w http.ResponseWriter, status int, body any) {
	raw, err := metaJSON(body, !s.opts.Behaviour.NoSlashEscaping)
	if err != nil {
		http.Error(w, "encoding error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.Header().Set("x-fb-trace-id", randomString(11, tokenAlphabet))
	w.WriteHeader(status)
	_, _ = w.Write(raw)
}
