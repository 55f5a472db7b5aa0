// Command demo is `make demo`: a local kwok cluster, the operator, the samples of config/samples
// (the HandoverPolicy) and config/samples/app (one MessengerApp with two MessengerPages) pointed
// at the Messenger Platform simulator, the app's one webhook running as the app's ServiceAccount,
// and a scripted conversation on each of the two Pages printed as a transcript. It removes everything it
// started, also when interrupted (SIGINT, SIGTERM), and exits 0.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/simulator"
	"github.com/messenger-operator/messenger-operator/test/e2e/harness"
)

const (
	namespace = "demo"
	ada       = "27458394012345678"
)

func main() {
	manager := flag.String("manager", "bin/manager", "the operator's binary")
	webhook := flag.String("webhook", "bin/webhook", "the webhook's binary")
	samples := flag.String("samples", "config/samples", "directory of the sample HandoverPolicy, with the app sample in app/")
	flag.Parse()

	// An interrupt stops the script at the next step; the cleanup always runs. Processes started
	// from a terminal get the terminal's SIGINT too and stop on their own.
	ctx, cancel := context.WithCancel(context.Background())
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		s := <-signals
		fmt.Printf("\n%s: stopping and cleaning up...\n", s)
		cancel()
	}()

	d := &demo{ctx: ctx}
	err := d.run(*manager, *webhook, *samples)
	d.cleanup()
	switch {
	case ctx.Err() != nil:
		fmt.Println("Interrupted; everything the demo started was removed.")
	case err != nil:
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	default:
		fmt.Println("Done; everything the demo started was removed.")
	}
}

type demo struct {
	ctx context.Context
	env *harness.Env
	app *harness.App
	// printed counts the transcript steps already printed, per Page id.
	printed map[string]int
}

// bold is on when the output is a terminal.
var bold = func() bool {
	fi, err := os.Stdout.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}()

func section(format string, args ...any) {
	title := "== " + fmt.Sprintf(format, args...)
	if bold {
		title = "\033[1m" + title + "\033[0m"
	}
	fmt.Printf("\n%s\n", title)
}

func note(format string, args ...any) {
	fmt.Printf("   %s\n", fmt.Sprintf(format, args...))
}

func (d *demo) interrupted() error {
	if d.ctx.Err() != nil {
		return errors.New("interrupted")
	}
	return nil
}

func (d *demo) run(manager, webhook, samples string) error {
	objs, err := loadSamples(samples)
	if err != nil {
		return err
	}
	section("Starting a local cluster (kwok: a real API server, simulated nodes), installing the CRDs, running the operator")
	d.env, err = harness.Start(harness.Options{
		Name: fmt.Sprintf("messenger-demo-%d", os.Getpid()), ManagerBinary: manager, WebhookBinary: webhook,
		Logf: func(format string, args ...any) { note(format, args...) },
	})
	if err != nil {
		return err
	}
	if err := d.interrupted(); err != nil {
		return err
	}

	section("Applying the samples (config/samples/app and the policy of config/samples) in namespace %q, pointed at the Messenger Platform simulator", namespace)
	note("one MessengerApp %q and its Pages %q and %q: one webhook serves both", objs.app.Name, objs.pages[0].Name, objs.pages[1].Name)
	note("the app's Secret gets the simulator's app secret, each page's Secret its own page token; no verifyToken, so the operator generates one")
	note("the app registers its callback (spec.subscription.registerCallback): the operator does, and Meta verifies it at the app's webhook")
	objs.app.Spec.Ingress = nil // nothing routes to the local webhook process: Meta calls it directly
	var atMeta []harness.AppPage
	for _, p := range objs.pages {
		atMeta = append(atMeta, harness.AppPage{ID: p.Spec.PageID, Name: p.Spec.BusinessName,
			Users: []simulator.UserConfig{{PSID: ada, FirstName: "Ada", LastName: "Lovelace"}}})
	}
	d.app, err = d.env.StartApp(d.ctx, harness.AppOptions{Namespace: namespace, App: objs.app, Pages: atMeta})
	if err != nil {
		return err
	}
	note("the app's webhook (pid %d) has the rights of the Role the operator wrote for its ServiceAccount, no more", d.app.Webhook.Pid())
	if bh := objs.policy.Spec.BusinessHours; bh != nil {
		note("outside the policy's business hours the demo passes anyway (PassAnyway), so that it hands over at any hour")
		bh.OutsideHours.Action = v1alpha1.OutsidePassAnyway
	}
	objs.policy.Namespace = namespace
	if err := d.env.Cluster.Client.Create(d.ctx, objs.policy); err != nil {
		return err
	}
	for _, p := range objs.pages {
		if err := d.app.AddPage(d.ctx, p); err != nil {
			return err
		}
	}
	if err := d.interrupted(); err != nil {
		return err
	}

	section("kubectl get messengerapps,messengerpages -n %s", namespace)
	for _, p := range objs.pages {
		if _, err := d.app.PageCondition(d.ctx, p.Name, v1alpha1.ConditionReady, "True", ""); err != nil {
			return err
		}
	}
	if err := d.get("messengerapps"); err != nil {
		return err
	}
	fmt.Println()
	if err := d.get("messengerpages"); err != nil {
		return err
	}

	for _, p := range objs.pages {
		if p.Spec.Profile != nil {
			if err := d.welcomeScreen(p); err != nil {
				return err
			}
		}
	}

	for _, p := range objs.pages {
		section("A conversation on Page %q (%s; the simulator's transcript: who spoke, and who owns the thread after each step)", p.Spec.BusinessName, p.Name)
		if err := d.conversation(p.Spec.PageID); err != nil {
			return err
		}
	}
	note("both conversations were served by the app's one webhook (pid %d), each Page answered with its own page token", d.app.Webhook.Pid())

	section("kubectl get messengerapps,messengerpages,handoverpolicies -n %s", namespace)
	if err := d.get("messengerapps"); err != nil {
		return err
	}
	fmt.Println()
	if err := d.get("messengerpages"); err != nil {
		return err
	}
	fmt.Println()
	return d.get("handoverpolicies")
}

// welcomeScreen waits until the operator has set the page's spec.profile at Meta and prints the
// welcome screen a new customer sees.
func (d *demo) welcomeScreen(p *v1alpha1.MessengerPage) error {
	section("The welcome screen of Page %q: spec.profile of %s, set at Meta by the operator (Messenger Profile)", p.Spec.BusinessName, p.Name)
	c, err := d.app.PageCondition(d.ctx, p.Name, v1alpha1.ConditionProfileSynced, "True", v1alpha1.ReasonProfileInSync)
	if err != nil {
		return err
	}
	note("ProfileSynced: %s", c.Message)
	w, err := d.app.Sim.WelcomeScreen(p.Spec.PageID, ada, "")
	if err != nil {
		return err
	}
	for _, line := range strings.Split(strings.TrimRight(w.String(), "\n"), "\n") {
		fmt.Println("   " + line)
	}
	return nil
}

// conversation plays the script, printing the transcript as it grows.
func (d *demo) conversation(pageID string) error {
	sim := d.app.Sim
	customer, in := sim.Customer(pageID, ada), sim.Inbox(pageID)
	steps := []struct {
		title string
		act   func() error
		// wait is what the step leads to: the owner of the thread and the bot's message count.
		owner string
		bot   int
	}{
		{"Ada writes; the bot welcomes her", func() error { return customer.Say("Hello!") }, harness.BotName, 1},
		{"Ada taps \"Pass to Inbox\"; the bot passes the conversation to the Page Inbox",
			func() error { return customer.Tap(v1alpha1.PassToInboxTitle) }, simulator.InboxName, 2},
		{"An agent answers in the Page Inbox; the bot stays quiet",
			func() error { return in.Reply(ada, "Hi Ada, I'm Anna from ACME. How can I help?") }, simulator.InboxName, 2},
		{"Ada answers the agent (the bot only gets it on standby)",
			func() error { return customer.Say("My parcel has not arrived yet.") }, simulator.InboxName, 2},
		{"The agent marks the conversation Done; the bot greets Ada again",
			func() error { return in.Done(ada) }, harness.BotName, 3},
		{"Ada types a keyword of the policy (\"real person\"): a handoff",
			func() error { return customer.Say("Can I talk to a real person?") }, simulator.InboxName, 4},
		{"Ada taps \"Take From Inbox\"; the bot takes the conversation back",
			func() error { return customer.Tap(v1alpha1.TakeFromInboxTitle) }, harness.BotName, 5},
	}
	for i, s := range steps {
		if err := d.interrupted(); err != nil {
			return err
		}
		fmt.Printf("\n-- %d. %s\n", i+1, s.title)
		if err := s.act(); err != nil {
			return fmt.Errorf("step %d: %w", i+1, err)
		}
		ctx, cancel := context.WithTimeout(d.ctx, 30*time.Second)
		err := sim.WaitOwner(ctx, pageID, ada, s.owner)
		if err == nil {
			err = sim.WaitMessages(ctx, pageID, ada, harness.BotName, s.bot)
		}
		if err == nil {
			// Let the webhook finish what the step caused (or show that it stays quiet).
			err = sim.WaitQuiet(ctx, 500*time.Millisecond)
		}
		cancel()
		d.printTranscript(pageID)
		if err != nil {
			return fmt.Errorf("step %d: %w", i+1, err)
		}
		fmt.Printf("   => the thread is owned by %s\n", sim.Owner(pageID, ada))
	}
	return nil
}

func (d *demo) printTranscript(pageID string) {
	if d.printed == nil {
		d.printed = map[string]int{}
	}
	steps := d.app.Sim.Transcript().For(pageID, ada)
	for _, st := range steps[d.printed[pageID]:] {
		fmt.Println("   " + st.Line())
	}
	d.printed[pageID] = len(steps)
}

func (d *demo) get(resource string) error {
	out, err := d.env.Get(d.ctx, "/apis/"+v1alpha1.GroupVersion.String()+"/namespaces/"+namespace+"/"+resource)
	if err != nil {
		return err
	}
	fmt.Print(out)
	return nil
}

func (d *demo) cleanup() {
	section("Cleaning up: the webhook, the simulator, the operator, the cluster and their files")
	if d.env != nil {
		d.env.Stop()
	}
}

type sampleObjects struct {
	policy *v1alpha1.HandoverPolicy
	app    *v1alpha1.MessengerApp
	pages  []*v1alpha1.MessengerPage
}

// loadSamples reads the policy of dir and the app sample of dir/app (its MessengerApp and its
// two MessengerPages; the Secrets are made with the simulator's credentials under the names the
// objects give).
func loadSamples(dir string) (*sampleObjects, error) {
	s := sampleObjects{policy: &v1alpha1.HandoverPolicy{}, app: &v1alpha1.MessengerApp{}}
	for file, obj := range map[string]any{
		"messenger_v1alpha1_handoverpolicy.yaml": s.policy,
		"app/messengerapp.yaml":                  s.app,
	} {
		data, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			return nil, err
		}
		if err := yaml.UnmarshalStrict(data, obj); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, "app", "messengerpages.yaml"))
	if err != nil {
		return nil, err
	}
	for _, doc := range strings.Split(string(data), "\n---\n") {
		p := &v1alpha1.MessengerPage{}
		if err := yaml.UnmarshalStrict([]byte(doc), p); err != nil {
			return nil, fmt.Errorf("app/messengerpages.yaml: %w", err)
		}
		s.pages = append(s.pages, p)
	}
	if len(s.pages) != 2 {
		return nil, fmt.Errorf("app/messengerpages.yaml: %d MessengerPages, want 2", len(s.pages))
	}
	return &s, nil
}
