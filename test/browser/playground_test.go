package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/test/testenv"
	rig "github.com/messenger-operator/messenger-operator/test/webhookrig"
)

// browser is one headless Chromium tab on the playground.
type browser struct {
	t   *testing.T
	ctx context.Context
	dir string // screenshots
	n   int
}

func openBrowser(t *testing.T, url string) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium(t)), chromedp.NoSandbox,
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(1440, 960))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() { cancelB(); cancelA() })
	b := &browser{t: t, ctx: ctx, dir: screenshotDir(t)}
	// The first call starts the browser for as long as ctx lives: no deadline on it.
	rig.Must(t, chromedp.Do(ctx))
	b.run("open the playground", chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)))
	return b
}

// run runs actions with a deadline; a failure keeps a screenshot of the page as it was.
func (b *browser) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.screenshot("failed-" + strings.ReplaceAll(what, " ", "-"))
		b.t.Fatalf("%s: %v", what, err)
	}
}

// screenshot keeps the page as a PNG and says where.
func (b *browser) screenshot(name string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	b.n++
	path := filepath.Join(b.dir, fmt.Sprintf("%s-%02d-%s.png", b.t.Name(), b.n, name))
	rig.Must(b.t, os.WriteFile(path, png, 0o644))
	b.t.Logf("screenshot: %s", path)
	return path
}

// waitJS waits until the JavaScript expression is true.
func waitJS(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(50*time.Millisecond))
}

// value runs an action that returns a value.
func value[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.screenshot("failed-" + strings.ReplaceAll(what, " ", "-"))
		b.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// js quotes s for JavaScript.
func js(s string) string { return fmt.Sprintf("%q", s) }

// clickOn clicks the element the XPath finds, in one step in the page: the chat is drawn anew
// on every update, so a node found in one protocol call may be gone in the next.
func clickOn(xpath string) chromedp.Action[chromedp.Void] {
	return waitJS(`((e) => e ? (e.click(), true) : false)(document.evaluate(` + js(xpath) +
		`, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue)`)
}

// passToInbox is the quick reply of the welcome.
const passToInbox = `//div[@id="quick-replies"]/button[normalize-space()="Pass to Inbox"]`

func chatHas(text string) chromedp.Action[chromedp.Void] {
	return waitJS(`document.querySelector("#chat").textContent.includes(` + js(text) + `)`)
}

func ownerIs(owner string) chromedp.Action[chromedp.Void] {
	return waitJS(`document.querySelector("#owner").textContent === ` + js(owner))
}

// The support lead's tour: greet as a customer and see the welcome with its quick reply, pass
// to the inbox with it, answer as the agent, mark Done and see the bot greet again; edit the
// policy's welcome and see the next reply use it; a rejected policy shows the API server's
// message. The timeline shows the handovers with trigger and reason from the webhook's audit.
func TestPlaygroundTour(t *testing.T) {
	w := startWorld(t)
	b := openBrowser(t, w.URL)
	firstLine := strings.Split(v1alpha1.DefaultWelcomeText, "\n")[0]

	b.run("greet as the customer (keyboard only)",
		chromedp.Focus(chromedp.CSS("#compose-text")), chromedp.SendKeys(chromedp.CSS("#compose-text"), "Hello!"+kb.Enter),
		chatHas("Hello!"), chatHas(firstLine),
		chromedp.WaitVisible(chromedp.Search(passToInbox)),
		ownerIs("bot"))
	b.screenshot("welcome")

	b.run(`tap "Pass to Inbox"`,
		clickOn(passToInbox),
		ownerIs("inbox"),
		waitJS(`document.querySelector("#timeline").textContent.includes("handover decision: bot → inbox, trigger quick_reply, reason handoff, ok")`))

	b.run("answer as the agent", chromedp.SendKeys(chromedp.CSS("#agent-text"), "Hi, I am Anna. How can I help?"+kb.Enter),
		chatHas("Hi, I am Anna. How can I help?"), ownerIs("inbox"))
	b.screenshot("agent")

	b.run("mark Done", chromedp.Click(chromedp.CSS("#agent-done")), ownerIs("bot"),
		chatHas(strings.Split(v1alpha1.DefaultDoneText, "\n")[0]),
		waitJS(`document.querySelector("#timeline").textContent.includes("handover owner: inbox → bot, trigger pass_thread_control, reason done, ok")`))

	// The policy: the welcome edited in the page, saved to the cluster, used by the next reply.
	applied := w.Webhook.Metric(t, "messenger_webhook_config_applied_total")
	spec := "welcome:\n  text: Hello from the playground!\n  quickReplies:\n  - title: " + v1alpha1.PassToInboxTitle + "\n    payload: " + v1alpha1.PassToInboxPayload + "\n"
	b.run("save an edited welcome", chromedp.SetValue(chromedp.CSS("#policy-spec"), spec), chromedp.Click(chromedp.CSS("#policy-save")),
		waitJS(`document.querySelector("#policy-status").textContent.startsWith("Saved")`))
	rig.Eventually(t, "the webhook to apply the edited policy", func() bool {
		return w.Webhook.Metric(t, "messenger_webhook_config_applied_total") > applied
	})
	b.run("the next reply uses it", chromedp.SendKeys(chromedp.CSS("#compose-text"), "Hi again"+kb.Enter), chatHas("Hello from the playground!"))

	b.run("a rejected policy shows the API server's message",
		chromedp.SetValue(chromedp.CSS("#policy-spec"), spec+"agentIdleTimeout: 30h\n"), chromedp.Click(chromedp.CSS("#policy-save")),
		waitJS(`document.querySelector("#policy-status").textContent.includes("an agentIdleTimeout over 24h ends after the messaging window")`),
		waitJS(`document.querySelector("#policy-status").getAttribute("role") === "alert"`))
	readme := b.screenshot("rejected") // the whole page at work: the README's picture

	// The clock moves ahead; a second customer has a tab of their own.
	before := value(b, "read the clock", chromedp.Text(chromedp.CSS("#clock")))
	b.run("move the clock a day ahead", chromedp.Click(chromedp.CSS(`button[data-duration="24h"]`)),
		waitJS(`document.querySelector("#clock").textContent !== `+js(before)))
	// The Page's welcome screen, as the operator would set it from spec.profile.
	rig.Must(t, w.Sim.SetProfile(w.Page.PageID, map[string]json.RawMessage{
		"get_started":     json.RawMessage(`{"payload":"GET_STARTED"}`),
		"persistent_menu": json.RawMessage(`[{"locale":"default","call_to_actions":[{"type":"postback","title":"Talk to a person","payload":"` + v1alpha1.PassToInboxPayload + `"}]}]`),
	}))
	b.run("a second customer starts from the welcome screen", chromedp.Click(chromedp.CSS("#tab-"+customers[1].PSID)),
		waitJS(`document.querySelector("#chat").children.length === 0`),
		clickOn(`//button[@id="get-started"]`), chatHas("Hello from the playground!"), ownerIs("bot"))
	b.run("and taps the menu",
		clickOn(`//div[@id="menu"]/button[contains(., "Talk to a person")]`),
		waitJS(`document.querySelector("#timeline").textContent.includes("customer menu: Talk to a person")`),
		waitJS(`document.querySelectorAll("#chat li.page").length === 2`))
	// A carousel: each card with its title and buttons; a card's button is pressed as a postback.
	applied = w.Webhook.Metric(t, "messenger_webhook_config_applied_total")
	cards := "welcome:\n  text: Our services\n  cards:\n  - title: Parcels\n    subtitle: Track and return\n    buttons:\n    - {type: postback, title: Track my parcel, payload: TRACK}\n" +
		"  - title: Opening hours\n    subtitle: Nine to six\n    buttons:\n    - {type: web_url, title: See the hours, url: \"https://acme.example/hours\"}\n"
	b.run("save a welcome with cards", chromedp.SetValue(chromedp.CSS("#policy-spec"), cards), chromedp.Click(chromedp.CSS("#policy-save")),
		waitJS(`document.querySelector("#policy-status").textContent.startsWith("Saved")`))
	rig.Eventually(t, "the webhook to apply the cards", func() bool {
		return w.Webhook.Metric(t, "messenger_webhook_config_applied_total") > applied
	})
	b.run("the carousel", chromedp.SendKeys(chromedp.CSS("#compose-text"), "Show me"+kb.Enter),
		waitJS(`[...document.querySelectorAll("#chat .carousel .card .title")].map((e) => e.textContent).join("|") === "Parcels|Opening hours"`),
		waitJS(`[...document.querySelectorAll("#chat .carousel .card .subtitle")].map((e) => e.textContent).join("|") === "Track and return|Nine to six"`),
		waitJS(`document.querySelector("#chat .carousel").textContent.includes("See the hours ↗")`),
		clickOn(`//div[contains(@class, "card")]/button[normalize-space()="Track my parcel"]`),
		waitJS(`document.querySelector("#timeline").textContent.includes("customer postback: Track my parcel (TRACK)")`))
	b.screenshot("carousel")

	b.run("back to the first customer", chromedp.Click(chromedp.CSS("#tab-"+customers[0].PSID)), chatHas("Hi, I am Anna"))

	// Every button and field has an accessible name.
	unnamed := value(b, "accessible names", chromedp.Evaluate[[]string](`[...document.querySelectorAll("button, input, textarea, select")]
		.filter((e) => !(e.getAttribute("aria-label") || e.textContent.trim() || (e.labels && e.labels.length && e.labels[0].textContent.trim())))
		.map((e) => e.outerHTML)`))
	if len(unnamed) > 0 {
		t.Errorf("controls without an accessible name: %v", unnamed)
	}
	b.screenshot("tour")
	if os.Getenv("PLAYGROUND_README_SCREENSHOT") != "" && readme != "" {
		rig.Must(t, copyFile(filepath.Join(testenv.RepoRoot(), "docs", "playground.png"), readme))
	}
}
