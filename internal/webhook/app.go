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

	mu     sync.Mutex
	byName map[string]reporterEntry
}

type reporterEntry struct {
	r    pageReporter
	stop func()
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

// report turns the pages' states into their Served conditions.
func (a *appPages) report(states []config.PageState) {
	for _, st := range states {
		a.mu.Lock()
		e, ok := a.byName[st.Name]
		a.mu.Unlock()
		if !ok {
			continue
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
			e.r.Served(st.Generation, false, v1alpha1.ReasonLoading, "the app's webhook is reading the page's policy and Secret")
		default:
			e.r.Served(st.Generation, true, v1alpha1.ReasonServing, "the app's webhook serves the page")
		}
	}
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
