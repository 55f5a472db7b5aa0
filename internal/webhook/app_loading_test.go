package webhook

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/webhook/config"
)

// servedLog records the Served reports of the pages, in order.
type servedLog struct {
	mu   sync.Mutex
	seen []string
}

type servedRecorder struct {
	name string
	log  *servedLog
}

func (r servedRecorder) GraphAuthorized(bool, string)   {}
func (r servedRecorder) HandoverPermitted(bool, string) {}
func (r servedRecorder) CanAct(bool, string)            {}
func (r servedRecorder) Served(gen int64, ok bool, reason, _ string) {
	r.log.mu.Lock()
	defer r.log.mu.Unlock()
	r.log.seen = append(r.log.seen, fmt.Sprintf("%s gen %d %v %s", r.name, gen, ok, reason))
}

func (l *servedLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.seen...)
}

func loadingPages(grace time.Duration, names ...string) (*appPages, *servedLog) {
	log := &servedLog{}
	a := &appPages{loadingGrace: grace, newReporter: func(p *v1alpha1.MessengerPage) (pageReporter, func()) {
		return servedRecorder{name: p.Name, log: log}, func() {}
	}}
	var pages []*v1alpha1.MessengerPage
	for _, n := range names {
		pages = append(pages, &v1alpha1.MessengerPage{ObjectMeta: metav1.ObjectMeta{Name: n, Generation: 1}})
	}
	a.join(pages)
	return a, log
}

// A page served within the grace is never reported Loading: one status write, not two.
func TestLoadingWithinGraceIsNotReported(t *testing.T) {
	a, log := loadingPages(time.Hour, "a", "b")
	a.report([]config.PageState{{Name: "a", Generation: 1, Loading: true}, {Name: "b", Generation: 1, Loading: true}})
	a.report([]config.PageState{{Name: "a", Generation: 1}, {Name: "b", Generation: 1, Err: errors.New("bad policy")}})
	want := []string{"a gen 1 true Serving", "b gen 1 false ConfigInvalid"}
	if got := log.all(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("reports %v, want %v", got, want)
	}
}

// A page still Loading after the grace is reported Loading, with its latest generation, once;
// then Serving when it is.
func TestLoadingPastGraceIsReported(t *testing.T) {
	a, log := loadingPages(20*time.Millisecond, "a")
	a.report([]config.PageState{{Name: "a", Generation: 1, Loading: true}})
	a.report([]config.PageState{{Name: "a", Generation: 2, Loading: true}})
	deadline := time.Now().Add(10 * time.Second)
	for len(log.all()) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	a.report([]config.PageState{{Name: "a", Generation: 2, Loading: true}}) // a new grace, not a new report
	a.report([]config.PageState{{Name: "a", Generation: 2}})
	want := []string{"a gen 2 false Loading", "a gen 2 true Serving"}
	if got := log.all(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("reports %v, want %v", got, want)
	}
}

// Without a grace, Loading is reported at once, and a page that keeps an older configuration
// reports that one as served while loading.
func TestLoadingWithoutGraceAndKept(t *testing.T) {
	a, log := loadingPages(0, "a")
	a.report([]config.PageState{{Name: "a", Generation: 1, Loading: true}})
	b, logB := loadingPages(time.Hour, "b")
	b.report([]config.PageState{{Name: "b", Generation: 3, Loading: true, Kept: true, KeptGeneration: 2}})
	if got, want := fmt.Sprint(log.all(), logB.all()), "[a gen 1 false Loading] [b gen 2 true Serving]"; got != want {
		t.Fatalf("reports %s, want %s", got, want)
	}
}
