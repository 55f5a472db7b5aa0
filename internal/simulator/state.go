package simulator

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// Simulator is an in-process Messenger Platform. Create it with New, serve Handler (or Start), drive
// it with Customer, Inbox and App, and read Transcript, Messages, Calls and Owner.
type Simulator struct {
	opts  Options
	clock Clock

	mu         sync.Mutex
	pages      map[string]*page
	pageOrder  []string
	apps       map[string]*app
	appOrder   []string // configured apps, then the inbox
	tokens     map[string]*tokenInfo
	steps      []Step
	calls      map[string]int
	callLog    []Call
	faults     []*faultRule
	routed     map[string][]Routed
	deliveries []Delivery
	timeline   []TimelineEvent
	usage      map[string]*usage     // "app/page" -> recent calls (rate limits)
	rngs       map[string]*rand.Rand // app id -> reordering source (Options.Seed); used under mu
	dupNext    int                   // DuplicateNext
	acked      map[string]int        // app id -> acknowledged bodies, for DuplicateEvery
	// collect gathers the deliveries queued by the scripted action in progress (nil otherwise), so
	// the action can return once they are done.
	collect []*queued

	changes notifier
	dq      *deliverer
	closing chan struct{}
	closeMu sync.Once
}

type page struct {
	id, name     string
	defaultApp   string              // app id, "" = zero-config
	apps         []string            // connected app ids, inbox included
	profile      messengerProfile    // the Messenger Profile (profile.go)
	subscribed   map[string][]string // app id -> Page-level subscribed fields
	subOrder     []string
	threads      map[string]*thread
	users        map[string]*user
	hopDisabled  bool
	inboxHonours bool
	inboxDone    string // app id; "" = default app or release
	lastStamp    int64
	instantReply string // Business Suite automations
	awayMessage  string
	away         bool
	failingSince map[string]time.Time // app id -> first failed delivery of the current streak
	alerted      map[string]bool      // app id -> the 15-minute failure alert went out
}

type app struct {
	id, name, secret   string
	builtin            bool // the Page Inbox: Meta's own, no callback
	canTake            bool
	humanAgent         bool
	profileAccess      bool
	extraProfileFields bool
	requireProof       bool
	honourRequests     bool
	standardAccess     bool
	sub                *appSubscription
}

// appSubscription is the app-level webhook subscription for object "page".
type appSubscription struct {
	callbackURL string
	verifyToken string
	fields      map[string]string // field -> webhook version
	order       []string
}

type thread struct {
	psid     string
	owner    string    // app id, "" = idle
	expires  time.Time // ownership expiry (24 h of inactivity, or extended)
	lastUser time.Time // last user->business message (zero = never): the messaging window
	// delivered is the time of the last Page message the person's device acknowledged.
	delivered time.Time
	// automated records the Business Suite automations sent on the thread (inbox_automations.go).
	instantSent bool
	awaySent    bool
	messages    []Message
}

type user struct {
	cfg        UserConfig
	interacted bool            // opted in by writing to the Page: profile becomes available
	roles      map[string]bool // app ids the person has a role on
}

// reachable: a Standard Access app only hears from and reaches people with a role on it (§2.3).
func (u *user) reachable(a *app) bool {
	return !a.standardAccess || (u != nil && u.roles[a.id])
}

// New builds a simulator from opts. It starts no listener: serve Handler() or call Start.
func New(opts Options) (*Simulator, error) {
	opts.applyDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	s := &Simulator{
		opts:    opts,
		clock:   opts.Clock,
		pages:   map[string]*page{},
		apps:    map[string]*app{},
		tokens:  map[string]*tokenInfo{},
		calls:   map[string]int{},
		routed:  map[string][]Routed{},
		usage:   map[string]*usage{},
		acked:   map[string]int{},
		closing: make(chan struct{}),
		rngs:    map[string]*rand.Rand{},
	}
	s.changes.ch = make(chan struct{})
	s.dq = newDeliverer(s)
	for _, c := range opts.Apps {
		a := &app{id: c.ID, name: c.Name, secret: c.Secret, canTake: c.CanTake, humanAgent: c.HumanAgent,
			profileAccess: !c.NoProfileAccess, extraProfileFields: c.ExtraProfileFields,
			requireProof: c.RequireAppSecretProof, honourRequests: c.HonourRequests, standardAccess: c.StandardAccess}
		if a.name == "" {
			a.name = "app-" + c.ID
		}
		if c.CallbackURL != "" {
			a.sub = &appSubscription{callbackURL: c.CallbackURL, verifyToken: c.VerifyToken, fields: map[string]string{}}
			a.sub.add(fieldsOrAll(c.Fields), opts.GraphVersion)
		}
		s.apps[a.id] = a
		s.appOrder = append(s.appOrder, a.id)
	}
	s.apps[InboxAppID] = &app{id: InboxAppID, name: InboxName, builtin: true, canTake: true, humanAgent: true, profileAccess: true}
	s.appOrder = append(s.appOrder, InboxAppID)

	for _, pc := range opts.Pages {
		p := &page{id: pc.ID, name: pc.Name, profile: messengerProfile{}, subscribed: map[string][]string{},
			threads: map[string]*thread{}, users: map[string]*user{}, hopDisabled: pc.HandoverAPIsDisabled,
			inboxHonours: pc.InboxHonoursRequests, failingSince: map[string]time.Time{}, alerted: map[string]bool{}}
		if p.name == "" {
			p.name = "Page " + pc.ID
		}
		p.instantReply, p.awayMessage = pc.InstantReply, pc.AwayMessage
		if pc.GetStartedPayload != "" {
			gs, _ := json.Marshal(profileGetStarted{Payload: &pc.GetStartedPayload})
			p.profile["get_started"] = gs
		}
		connected := pc.Apps
		if len(connected) == 0 {
			for _, c := range opts.Apps {
				connected = append(connected, c.ID)
			}
		}
		for _, ref := range connected {
			a := s.appByRef(ref)
			if a == nil || a.builtin {
				return nil, fmt.Errorf("simulator: page %s: unknown app %q", pc.ID, ref)
			}
			p.apps = append(p.apps, a.id)
		}
		p.apps = append(p.apps, InboxAppID)
		for _, ref := range []struct {
			name, ref string
			to        *string
		}{{"default app", pc.DefaultApp, &p.defaultApp}, {"inbox done target", pc.InboxDoneTarget, &p.inboxDone}} {
			if ref.ref == "" {
				continue
			}
			a := s.appByRef(ref.ref)
			if a == nil || !p.connected(a.id) {
				return nil, fmt.Errorf("simulator: page %s: %s %q is not connected", pc.ID, ref.name, ref.ref)
			}
			*ref.to = a.id
		}
		for _, id := range p.apps {
			a := s.apps[id]
			if a.sub != nil && !s.appConfig(id).NotSubscribedToPages {
				p.subscribe(id, fieldsOrAll(s.appConfig(id).Fields))
			}
		}
		for _, u := range pc.Users {
			if u.PSID == "" {
				return nil, fmt.Errorf("simulator: page %s: a user without PSID", pc.ID)
			}
			nu := &user{cfg: u, roles: map[string]bool{}}
			for _, ref := range u.AppRoles {
				a := s.appByRef(ref)
				if a == nil {
					return nil, fmt.Errorf("simulator: page %s: user %s has a role on unknown app %q", pc.ID, u.PSID, ref)
				}
				nu.roles[a.id] = true
			}
			p.users[u.PSID] = nu
		}
		s.pages[p.id] = p
		s.pageOrder = append(s.pageOrder, p.id)
	}
	for _, t := range opts.Tokens {
		a := s.appByRef(t.App)
		p := s.pages[t.Page]
		if a == nil || a.builtin || p == nil || !p.connected(a.id) || t.Token == "" {
			return nil, fmt.Errorf("simulator: token for app %q on page %q: app not connected or empty token", t.App, t.Page)
		}
		s.tokens[t.Token] = s.newTokenLocked(a.id, p.id)
	}
	return s, nil
}

// Close stops deliveries and releases hanging requests.
func (s *Simulator) Close() {
	s.closeMu.Do(func() {
		close(s.closing)
		s.dq.stop()
	})
}

func (s *Simulator) appConfig(id string) AppConfig {
	for _, c := range s.opts.Apps {
		if c.ID == id {
			return c
		}
	}
	return AppConfig{}
}

// appByRef finds an app by id or readable name.
func (s *Simulator) appByRef(ref string) *app {
	if a, ok := s.apps[ref]; ok {
		return a
	}
	for _, id := range s.appOrder {
		if s.apps[id].name == ref {
			return s.apps[id]
		}
	}
	return nil
}

func (s *Simulator) appName(id string) string {
	if id == "" {
		return "none"
	}
	if a, ok := s.apps[id]; ok {
		return a.name
	}
	return id
}

func (p *page) connected(appID string) bool {
	for _, id := range p.apps {
		if id == appID {
			return true
		}
	}
	return false
}

func (p *page) zeroConfig() bool { return p.defaultApp == "" }

func (p *page) subscribe(appID string, fields []string) {
	if _, ok := p.subscribed[appID]; !ok {
		p.subOrder = append(p.subOrder, appID)
	}
	p.subscribed[appID] = append([]string(nil), fields...)
}

func (p *page) unsubscribe(appID string) {
	delete(p.subscribed, appID)
	for i, id := range p.subOrder {
		if id == appID {
			p.subOrder = append(p.subOrder[:i:i], p.subOrder[i+1:]...)
			break
		}
	}
}

func (p *page) pageSubscribed(appID, field string) bool {
	for _, f := range p.subscribed[appID] {
		if f == field {
			return true
		}
	}
	return false
}

func (sub *appSubscription) add(fields []string, version string) {
	for _, f := range fields {
		if _, ok := sub.fields[f]; !ok {
			sub.order = append(sub.order, f)
		}
		sub.fields[f] = version
	}
}

// threadLocked returns the thread of psid on p, creating it.
func (p *page) threadLocked(psid string) *thread {
	t, ok := p.threads[psid]
	if !ok {
		t = &thread{psid: psid}
		p.threads[psid] = t
	}
	return t
}

// userLocked returns the user, creating a default one when create is set.
func (p *page) userLocked(psid string, create bool) *user {
	u, ok := p.users[psid]
	if !ok && create {
		u = &user{cfg: UserConfig{PSID: psid, FirstName: "Test", LastName: "User " + psid}, roles: map[string]bool{}}
		p.users[psid] = u
	}
	return u
}

// stampLocked returns now and a Unix-ms timestamp strictly increasing per Page, so two events are
// never stamped alike even on a clock that stands still (Meta's timestamps move on).
func (s *Simulator) stampLocked(p *page) (time.Time, int64) {
	now := s.clock.Now()
	ms := now.UnixMilli()
	if ms <= p.lastStamp {
		ms = p.lastStamp + 1
	}
	p.lastStamp = ms
	return now, ms
}

func (s *Simulator) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf(format, args...)
	}
}

// notifier wakes waiters (Await, WaitIdle) whenever the simulator's state changes.
type notifier struct {
	mu sync.Mutex
	ch chan struct{}
}

func (n *notifier) current() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.ch
}

func (n *notifier) notify() {
	n.mu.Lock()
	close(n.ch)
	n.ch = make(chan struct{})
	n.mu.Unlock()
}
