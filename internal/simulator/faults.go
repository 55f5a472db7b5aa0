package simulator

import (
	"fmt"
	"time"
)

// Endpoint names for Calls and faults.
const (
	EndpointMessages         = "messages"
	EndpointPass             = "pass_thread_control"
	EndpointTake             = "take_thread_control"
	EndpointRequest          = "request_thread_control"
	EndpointRelease          = "release_thread_control"
	EndpointExtend           = "extend_thread_control"
	EndpointThreadOwner      = "thread_owner"
	EndpointProfile          = "profile"
	EndpointPage             = "page"
	EndpointSubscribedApps   = "subscribed_apps"
	EndpointSubscriptions    = "subscriptions"
	EndpointMessengerProfile = "messenger_profile"
	EndpointDebugToken       = "debug_token"
	EndpointOther            = "other"
	// EndpointAny matches every endpoint in a Fault.
	EndpointAny = "*"
)

// Fault makes the next Times calls to Endpoint fail (or hang): 5xx bursts, rate limits (codes 4,
// 17, 32, 613), transient errors (1, 2), or a "timeout after sending" where the call takes effect
// and the answer never comes before the client gives up. Only calls with a valid token consume a
// fault (token errors come first, as on Graph).
type Fault struct {
	Endpoint string // an Endpoint* name or EndpointAny
	App      string // only calls made with this app's tokens (id or name); "" for any
	Times    int    // default 1
	// Status, Code, Subcode, Message, Type form the error answer; defaults follow the code (code
	// 2 -> HTTP 503 "Service temporarily unavailable", 4 -> 400 "(#4) Application request limit
	// reached", ...). Status alone (e.g. 502 with Code 0) answers that status with code 1.
	Status  int
	Code    int
	Subcode int
	Message string
	Type    string
	// AfterEffect: the call takes effect (message sent, control passed), then the answer is held
	// until the client disconnects (its timeout) or HangLimit passes.
	AfterEffect bool
}

type faultRule struct {
	f     Fault
	appID string
	left  int
}

// Call is one Graph request received.
type Call struct {
	Endpoint string
	Method   string
	App      string // readable name of the token's app ("" when the token was not valid)
	Page     string
	Status   int
	Code     int // Graph error code, 0 on success
	Subcode  int
	Fault    bool // answered by an injected fault
	Hung     bool // a "timeout after sending" fault held the answer
	Path     string
	At       time.Time
}

// InjectFault arms a fault.
func (s *Simulator) InjectFault(f Fault) error {
	if f.Endpoint == "" {
		return fmt.Errorf("simulator: fault needs an endpoint")
	}
	if f.Times <= 0 {
		f.Times = 1
	}
	if !f.AfterEffect && f.Code == 0 && f.Status == 0 {
		return fmt.Errorf("simulator: fault needs a status or a code (or AfterEffect)")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := &faultRule{f: f, left: f.Times}
	if f.App != "" {
		a := s.appByRef(f.App)
		if a == nil {
			return fmt.Errorf("simulator: fault for unknown app %q", f.App)
		}
		r.appID = a.id
	}
	s.faults = append(s.faults, r)
	return nil
}

// ClearFaults disarms every fault.
func (s *Simulator) ClearFaults() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
}

// takeFaultLocked consumes the first fault matching the call.
func (s *Simulator) takeFaultLocked(endpoint string, c *caller) *Fault {
	for i, r := range s.faults {
		if r.f.Endpoint != EndpointAny && r.f.Endpoint != endpoint {
			continue
		}
		if r.appID != "" && (c == nil || c.app.id != r.appID) {
			continue
		}
		r.left--
		if r.left <= 0 {
			s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
		}
		f := r.f
		return &f
	}
	return nil
}

func (f *Fault) graphError() *GraphError {
	code := f.Code
	if code == 0 {
		code = 1
	}
	status, typ, msg, transient := defaultFault(code)
	if f.Code == 0 && f.Status != 0 {
		status = f.Status
	}
	if f.Status != 0 {
		status = f.Status
	}
	if f.Type != "" {
		typ = f.Type
	}
	if f.Message != "" {
		msg = f.Message
	}
	return &GraphError{HTTPStatus: status, Code: code, Subcode: f.Subcode, Type: typ, Message: msg, Transient: transient}
}

// Calls counts the Graph requests received for an endpoint (EndpointAny for all).
func (s *Simulator) Calls(endpoint string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if endpoint == EndpointAny {
		return len(s.callLog)
	}
	return s.calls[endpoint]
}

// CallLog returns every Graph request received, in order.
func (s *Simulator) CallLog() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.callLog...)
}

func (s *Simulator) recordCall(c Call) {
	s.mu.Lock()
	c.At = s.clock.Now()
	s.calls[c.Endpoint]++
	s.callLog = append(s.callLog, c)
	s.timelineLocked(TimelineEvent{Kind: TimelineGraph, Time: c.At, Page: c.Page, App: c.App, Endpoint: c.Endpoint,
		Method: c.Method, Path: c.Path, Status: c.Status, Code: c.Code, Subcode: c.Subcode, Fault: c.Fault})
	s.mu.Unlock()
	s.changes.notify()
}
