package runner

import (
	"sync"
	"sync/atomic"
)

// condition is one of the page conditions the runner reports.
type condition int

const (
	condAuth   condition = iota // GraphAuthorized
	condPermit                  // HandoverPermitted
	condAct                     // CanAct
	numConditions
)

// statusPump hands condition changes to the Reporter from one goroutine: workers only flip an
// atomic and never wait on the Kubernetes API; when changes come faster than the Reporter, only
// the latest state of each condition is reported.
type statusPump struct {
	r Reporter

	state [numConditions]atomic.Int32 // 0 unknown, 1 true, 2 false

	mu       sync.Mutex
	msg      [numConditions]string
	sent     [numConditions]int32
	kick     chan struct{}
	stopOnce sync.Once
	done     chan struct{}
	stopped  chan struct{}
}

func newStatusPump(r Reporter) *statusPump {
	p := &statusPump{r: r, kick: make(chan struct{}, 1), done: make(chan struct{}), stopped: make(chan struct{})}
	go p.loop()
	return p
}

func tri(ok bool) int32 {
	if ok {
		return 1
	}
	return 2
}

func (p *statusPump) auth(ok bool, msg string)   { p.set(condAuth, ok, msg) }
func (p *statusPump) permit(ok bool, msg string) { p.set(condPermit, ok, msg) }
func (p *statusPump) act(ok bool, msg string)    { p.set(condAct, ok, msg) }

// set records one condition's state and message and wakes the writer when the state changed; a
// no-op on a nil pump (a page no longer served).
func (p *statusPump) set(c condition, ok bool, msg string) {
	if p == nil || p.r == nil || p.state[c].Load() == tri(ok) {
		return
	}
	p.mu.Lock()
	p.state[c].Store(tri(ok))
	p.msg[c] = msg
	p.mu.Unlock()
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

func (p *statusPump) loop() {
	defer close(p.stopped)
	for {
		select {
		case <-p.kick:
			p.flush()
		case <-p.done:
			p.flush()
			return
		}
	}
}

func (p *statusPump) flush() {
	if p.r == nil {
		return
	}
	report := [numConditions]func(bool, string){p.r.GraphAuthorized, p.r.HandoverPermitted, p.r.CanAct}
	for c := range numConditions {
		p.mu.Lock()
		s, m := p.state[c].Load(), p.msg[c]
		p.mu.Unlock()
		if s != 0 && s != p.sent[c] {
			report[c](s == 1, m)
			p.sent[c] = s
		}
	}
}

func (p *statusPump) stop() {
	p.stopOnce.Do(func() { close(p.done) })
	<-p.stopped
}
