package webhook

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/webhook/config"
	"github.com/messenger-operator/messenger-operator/internal/webhook/runner"
)

// pageReporter is what an app's webhook reports about one of its pages: the runner's conditions
// and Served. status.Writer writes them into the page's status, status.Log logs them.
type pageReporter interface {
	runner.Reporter
	Served(gen int64, ok bool, reason, message string)
}

// appPages keeps one reporter per page of the app, made when the page joins and dropped when it
// leaves (its status is not touched after).
type appPages struct {
	newReporter func(page *v1alpha1.MessengerPage) (pageReporter, func())
	// verifyToken, when set, reports the fingerprint of the app's verify token once applied.
	verifyToken func(fingerprint string)
	// loadingGrace is how long a page may be Loading (its policy and Secret being read) before
	// Served=False Loading is reported; 0 reports it at once. A page joining an app is Loading
	// until the app's Role grants its Secret, usually a second or two: reported at once, that
	// is one more status write per page (refused, and retried, while the Role does not grant
	// the page's status either), and the operator's status already says the page waits for the
	// app's webhook.
	loadingGrace time.Duration

	// mu also orders the reports of a page: a delayed Loading never follows a later state.
	mu     sync.Mutex
	byName map[string]reporterEntry
}

type reporterEntry struct {
	r    pageReporter
	stop func()
	// loading is the pending report of Loading, nil when none.
	loading *pendingLoading
}

type pendingLoading struct {
	timer *time.Timer
	gen   int64
}

// join makes the reporters of pages that joined and stops those of pages that left.
func (a *appPages) join(pages []*v1alpha1.MessengerPage) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.byName == nil {
		a.byName = map[string]reporterEntry{}
	}
	present := make(map[string]bool, len(pages))
	for _, p := range pages {
		present[p.Name] = true
		if _, ok := a.byName[p.Name]; !ok {
			r, stop := a.newReporter(p)
			a.byName[p.Name] = reporterEntry{r: r, stop: stop}
		}
	}
	for name, e := range a.byName {
		if !present[name] {
			if e.loading != nil {
				e.loading.timer.Stop()
			}
			e.stop()
			delete(a.byName, name)
		}
	}
}

// reporterOf is the runner's Reporter of the page name; nil when it has none.
func (a *appPages) reporterOf(name string) runner.Reporter {
	a.mu.Lock()
	defer a.mu.Unlock()
	if e, ok := a.byName[name]; ok {
		return e.r
	}
	return nil
}

// appLoadingGrace is appPages.loadingGrace of an app's webhook: longer than a page usually
// waits for its app's Role (the bench's 1000 pages over 10 apps: a few seconds at the 99th
// percentile), short enough to tell a page whose Secret is not granted soon.
const appLoadingGrace = 5 * time.Second

const loadingMessage = "the app's webhook is reading the page's policy and Secret"

// report turns the pages' states into their Served conditions.
func (a *appPages) report(states []config.PageState) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, st := range states {
		e, ok := a.byName[st.Name]
		if !ok {
			continue
		}
		if st.Loading && !st.Kept && st.Err == nil && a.loadingGrace > 0 {
			a.holdLoading(st.Name, e, st.Generation)
			continue
		}
		if e.loading != nil {
			e.loading.timer.Stop()
			e.loading = nil
			a.byName[st.Name] = e
		}
		switch {
		case st.Err != nil:
			msg := st.Err.Error()
			if st.Kept {
				msg += fmt.Sprintf("; generation %d keeps serving", st.KeptGeneration)
			}
			e.r.Served(st.Generation, false, v1alpha1.ReasonConfigInvalid, msg)
		case st.Loading && st.Kept:
			// A Secret or policy the page switched to is being read: the old one serves meanwhile.
			e.r.Served(st.KeptGeneration, true, v1alpha1.ReasonServing, "the app's webhook serves the page")
		case st.Loading:
			e.r.Served(st.Generation, false, v1alpha1.ReasonLoading, loadingMessage)
		default:
			e.r.Served(st.Generation, true, v1alpha1.ReasonServing, "the app's webhook serves the page")
		}
	}
}

// holdLoading reports the page name Loading at generation gen once loadingGrace has passed,
// unless another state is reported first (a.mu held).
func (a *appPages) holdLoading(name string, e reporterEntry, gen int64) {
	if e.loading != nil {
		e.loading.gen = gen // the grace runs from the first Loading
		return
	}
	pl := &pendingLoading{gen: gen}
	pl.timer = time.AfterFunc(a.loadingGrace, func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		cur, ok := a.byName[name]
		if !ok || cur.loading != pl {
			return // left, or another state came first
		}
		cur.loading = nil
		a.byName[name] = cur
		cur.r.Served(pl.gen, false, v1alpha1.ReasonLoading, loadingMessage)
	})
	e.loading = pl
	a.byName[name] = e
}

// stopAll stops every reporter (shutdown).
func (a *appPages) stopAll() {
	a.join(nil)
}

// unservedLogEvery is how often an unserved page id is logged and named in an Event, at most.
const unservedLogEvery = time.Hour

// unserved counts the entries of pages the app does not serve (Meta delivers every page
// subscribed to the app), and names each page id in the log and in a Warning Event on the
// MessengerApp at most once per unservedLogEvery. The counter has no page label: page ids are
// not a fixed set.
type unserved struct {
	log     *slog.Logger
	counter prometheus.Counter
	now     func() time.Time
	// event, when set, records the Warning Event (on its own goroutine: never on the request's).
	event func(pageID string)

	mu   sync.Mutex
	last map[string]time.Time
}

func newUnserved(reg prometheus.Registerer, log *slog.Logger, event func(string)) *unserved {
	u := &unserved{
		log: log, now: time.Now, event: event, last: map[string]time.Time{},
		counter: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "messenger_webhook_unserved_entries_total",
			Help: "Entries of pages the app's webhook does not serve (no MessengerPage of the app has their page id); acknowledged and dropped.",
		}),
	}
	reg.MustRegister(u.counter)
	return u
}

// entry is called for each unserved entry, on the request's goroutine.
func (u *unserved) entry(pageID string) {
	u.counter.Inc()
	now := u.now()
	u.mu.Lock()
	t, seen := u.last[pageID]
	tell := !seen || now.Sub(t) >= unservedLogEvery
	if tell {
		if len(u.last) >= 1000 { // forget what is older than the period rather than grow
			for id, t := range u.last {
				if now.Sub(t) >= unservedLogEvery {
					delete(u.last, id)
				}
			}
		}
		u.last[pageID] = now
	}
	u.mu.Unlock()
	if !tell {
		return
	}
	u.log.Warn("entries of a page the app does not serve are dropped; add a MessengerPage with this pageID and spec.appRef naming the app, or unsubscribe the page from the app",
		"entryPage", pageID)
	if u.event != nil {
		go u.event(pageID)
	}
}

// appEvents records Warning Events on the MessengerApp through the core API.
type appEvents struct {
	client kubernetes.Interface
	log    *slog.Logger
	// app is the MessengerApp as last read (its uid names it in the Event).
	mu  sync.Mutex
	app *v1alpha1.MessengerApp
}

func (e *appEvents) setApp(app *v1alpha1.MessengerApp) {
	e.mu.Lock()
	e.app = app
	e.mu.Unlock()
}

func (e *appEvents) unknownPage(pageID string) {
	e.mu.Lock()
	app := e.app
	e.mu.Unlock()
	if app == nil {
		return
	}
	now := metav1.NewTime(time.Now())
	ev := &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{Name: app.Name + "." + strconv.FormatInt(now.UnixNano(), 16), Namespace: app.Namespace},
		InvolvedObject: corev1.ObjectReference{
			APIVersion: v1alpha1.GroupVersion.String(), Kind: "MessengerApp",
			Name: app.Name, Namespace: app.Namespace, UID: app.UID, ResourceVersion: app.ResourceVersion,
		},
		Type:   corev1.EventTypeWarning,
		Reason: v1alpha1.ReasonUnknownPageEntries,
		Message: "Meta delivers entries of page " + pageID + ", which no MessengerPage of this app serves: they are " +
			"acknowledged and dropped (add a MessengerPage with this pageID and spec.appRef naming the app, or unsubscribe the page from the app)",
		Source:         corev1.EventSource{Component: UserAgent},
		FirstTimestamp: now, LastTimestamp: now, Count: 1,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := e.client.CoreV1().Events(app.Namespace).Create(ctx, ev, metav1.CreateOptions{}); err != nil {
		e.log.Warn("cannot record the UnknownPageEntries Event on the MessengerApp", "error", err.Error())
	}
}
