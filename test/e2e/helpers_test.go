package e2e

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/simulator"
	"github.com/messenger-operator/messenger-operator/test/e2e/harness"
)

const (
	inbox = simulator.InboxName
	bot   = harness.BotName
	ada   = "27458394012345678" // beyond 2^53: ids must stay strings end to end
)

var pages atomic.Int64

// pageFixture starts a page in a namespace of its own with the given policy spec. Each page has
// its own Page and app ids (the operator refuses two pages of one Page id).
func pageFixture(t *testing.T, spec v1alpha1.HandoverPolicySpec, edit ...func(*harness.PageOptions)) *harness.Page {
	t.Helper()
	n := pages.Add(1)
	ns := fmt.Sprintf("e2e-%d-%s", n, strings.ToLower(strings.NewReplacer("/", "-", "_", "-", " ", "-").Replace(t.Name())))
	if len(ns) > 63 {
		ns = strings.TrimRight(ns[:63], "-")
	}
	o := harness.PageOptions{
		Namespace: ns,
		Page: &v1alpha1.MessengerPage{
			ObjectMeta: metav1.ObjectMeta{Name: "shop"},
			Spec: v1alpha1.MessengerPageSpec{
				PageID:       fmt.Sprintf("10000000000%05d", n),
				AppID:        fmt.Sprintf("15177764818%05d", n),
				BusinessName: "ACME",
				SecretRef:    v1alpha1.SecretReference{Name: "shop-credentials"},
				PolicyRef:    v1alpha1.LocalReference{Name: "support"},
			},
		},
		Policy: &v1alpha1.HandoverPolicy{ObjectMeta: metav1.ObjectMeta{Name: "support"}, Spec: spec},
		Users:  []simulator.UserConfig{{PSID: ada, FirstName: "Ada", LastName: "Lovelace"}},
	}
	for _, e := range edit {
		e(&o)
	}
	p, err := env.StartPage(ctx(t), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("transcript:\n%s", p.Sim.Transcript())
			t.Logf("webhook output (last lines):\n%s", lastLines(p.Webhook.Output(), 80))
		}
		p.Stop()
		// The namespace goes too, so the operator has less to watch for the next tests.
		_ = env.Cluster.Client.Delete(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	})
	return p
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return c
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// from returns the texts of the accepted messages of psid's thread sent by who.
func from(p *harness.Page, psid, who string) []string { return said(p.Sim, p.PageID, psid, who) }

// said returns the texts of the accepted messages of psid's thread with Page pageID sent by who.
func said(sim *simulator.Simulator, pageID, psid, who string) []string {
	var out []string
	for _, m := range sim.Messages(pageID, psid) {
		if m.From == who {
			out = append(out, plain(m))
		}
	}
	return out
}

// plain is a message's text without the simulator's summary of its quick replies ("  {A | B}")
// or buttons ("  [A | B]").
func plain(m simulator.Message) string {
	for _, br := range []string{"{}", "[]"} {
		if i := strings.LastIndex(m.Text, "  "+br[:1]); i >= 0 && strings.HasSuffix(m.Text, br[1:]) {
			return m.Text[:i]
		}
	}
	return m.Text
}

// waitSaid waits until who has sent n messages in psid's thread and returns the last one.
func waitSaid(t *testing.T, p *harness.Page, psid, who string, n int) simulator.Message {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.Sim.WaitMessages(c, p.PageID, psid, who, n); err != nil {
		t.Fatalf("waiting for message %d from %s to %s: %v; got %q", n, who, psid, err, from(p, psid, who))
	}
	var last simulator.Message
	for _, m := range p.Sim.Messages(p.PageID, psid) {
		if m.From == who {
			last = m
		}
	}
	return last
}

// waitOwner waits until psid's thread is owned by owner.
func waitOwner(t *testing.T, p *harness.Page, psid, owner string) {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.Sim.WaitOwner(c, p.PageID, psid, owner); err != nil {
		t.Fatalf("waiting for %s to own %s's thread: %v (owner: %s)", owner, psid, err, p.Owner(psid))
	}
}

// settle waits until the platform has been quiet for a moment: nothing more was sent, passed or
// taken. Use it before asserting that something did not happen.
func settle(t *testing.T, p *harness.Page) {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	must(t, p.Sim.WaitIdle(c))
	must(t, p.Sim.WaitQuiet(c, 700*time.Millisecond))
}

// wantBotSaid checks the count of the bot's messages to psid and the text of the last one.
func wantBotSaid(t *testing.T, p *harness.Page, psid string, n int, text string) {
	t.Helper()
	got := from(p, psid, bot)
	if len(got) != n || (n > 0 && got[n-1] != text) {
		t.Fatalf("the bot said %d messages %q; want %d ending with %q", len(got), got, n, text)
	}
}

// steps lists psid's transcript as "actor kind" pairs of the given kinds.
func steps(p *harness.Page, psid string, kinds ...simulator.StepKind) []string {
	var out []string
	for _, st := range p.Transcript(psid).Kinds(kinds...) {
		out = append(out, st.Actor+" "+string(st.Kind))
	}
	return out
}

// update reads obj, edits it and writes it back, retrying on conflicts.
func update[T client.Object](t *testing.T, obj T, key types.NamespacedName, edit func(T)) {
	t.Helper()
	c := env.Cluster.Client
	err := harness.Eventually(context.Background(), 30*time.Second, func() (bool, error) {
		if err := c.Get(context.Background(), key, obj); err != nil {
			return false, err
		}
		edit(obj)
		err := c.Update(context.Background(), obj)
		if apierrors.IsConflict(err) {
			return false, nil
		}
		return err == nil, err
	})
	must(t, err)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// keyOf names an object in the page's namespace.
func keyOf(p *harness.Page, name string) types.NamespacedName {
	return types.NamespacedName{Namespace: p.Namespace, Name: name}
}
