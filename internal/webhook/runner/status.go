package runner

import (
	"sync"
	"sync/atomic"
)

// statusPump hands condition changes to the Reporter from one goroutine: workers only flip an
// atomic and never wait on the Kubernetes API; when changes come faster than the Reporter, only
// the latest state of each condition is reported.
type statusPump struct {
	r Reporter

	authState, permitState atomic.Int32 // 0 unknown, 1 true, 2 false

	mu                   sync.Mutex
	authMsg, permitMsg   string
	sentAuth, sentPermit int32
	kick                 chan struct{}
	stopOnce             sync.Once
	done                 chan struct{}
	stopped              chan struct{}
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

// auth and permit are no-ops on a nil pump (a page no longer served).
func (p *statusPump) auth(ok bool, msg string) {
	if p != nil {
		p.set(&p.authState, &p.authMsg, ok, msg)
	}
}

func (p *statusPump) permit(ok bool, msg string) {
	if p != nil {
		p.set(&p.permitState, &p.permitMsg, ok, msg)
	}
}

// set records one condition's state and message and wakes the writer when the state changed.
func (p *statusPump) set(state *atomic.Int32, message *string, ok bool, msg string) {
	if p.r == nil || state.Load() == tri(ok) {
		return
	}
	p.mu.Lock()
	state.Store(tri(ok))
	*message = msg
	p.mu.Unlock()
	p.poke()
}

func (p *statusPump) poke() {
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
	p.mu.Lock()
	a, am := p.authState.Load(), p.authMsg
	h, hm := p.permitState.Load(), p.permitMsg
	p.mu.Unlock()
	if a != 0 && a != p.sentAuth {
		p.r.GraphAuthorized(a == 1, am)
		p.sentAuth = a
	}
	if h != 0 && h != p.sentPermit {
		p.r.HandoverPermitted(h == 1, hm)
		p.sentPermit = h
	}
}

func (p *statusPump) stop() {
	p.stopOnce.Do(func() { close(p.done) })
	<-p.stopped
}
