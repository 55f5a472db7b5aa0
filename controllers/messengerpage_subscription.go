package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/graph"
	"github.com/messenger-operator/messenger-operator/internal/specs"
)

const (
	// subscriptionRetry bounds the wait after a failed check.
	subscriptionRetry = time.Minute
	// subscriptionTimeout bounds one check (up to four Graph calls and Meta's verification GET).
	subscriptionTimeout = 30 * time.Second
	// graphCallTimeout bounds one call: registering a callback waits for Meta's verification GET.
	graphCallTimeout = 15 * time.Second
)

// subscriptionResult is the outcome of one look at Meta's side.
type subscriptionResult struct {
	status   metav1.ConditionStatus
	reason   string
	message  string
	failed   bool // a Graph call failed: Ready says so too
	observed *messengerv1alpha1.SubscriptionStatus
}

// graphTransport is the manager's connection pool for its Graph calls, shared by all pages.
var graphTransport = graph.NewTransport()

// subscriptionPlan is what a check needs: credentials, URLs and who registers the callback.
type subscriptionPlan struct {
	baseURL, version    string
	appSecret, appToken []byte
	pageToken           []byte
	callback            string
	fields              []string
	registers           bool
	owner               string            // the page (namespace/name) that registers the app's callback
	byURL               map[string]string // callback URL -> page (namespace/name) of the same app
	secrets             [][]byte          // scrubbed from every message
	token               tokenGate         // whether the verify token in use may be registered
}

func (r *MessengerPageReconciler) subscriptionRecheck(page *messengerv1alpha1.MessengerPage) time.Duration {
	return page.Spec.Subscription.GetRecheckInterval(r.SubscriptionRecheck)
}

// reconcileSubscription makes Meta's side match spec.subscription once the webhook is available
// (registering the callback makes Meta call it at once): the app's callback URL and fields, and
// the Page's subscription, subscribed again when Meta dropped it. It checks again every
// recheck interval, and whenever its inputs change; other reconciles reuse the last result. The
// check runs off the reconcile workers (graphWork): its end brings the page back.
func (r *MessengerPageReconciler) reconcileSubscription(ctx context.Context, page *messengerv1alpha1.MessengerPage, obs *observation) {
	spec := page.Spec.Subscription
	if spec == nil {
		r.graph.forget(client.ObjectKeyFromObject(page))
		return
	}
	wait := func(msg string) {
		obs.subscription = &subscriptionResult{status: metav1.ConditionUnknown, reason: messengerv1alpha1.ReasonWaitingForWebhook,
			message: msg, observed: page.Status.Subscription}
	}
	switch {
	case !obs.secret.found || len(obs.secret.missing) > 0 || obs.policy == nil:
		wait("waiting for the page's Secret and HandoverPolicy before subscribing at Meta")
		return
	case obs.deployment == nil || obs.replicas == 0:
		wait("waiting for a webhook replica before subscribing at Meta: Meta verifies the callback URL at once")
		return
	}
	if ok, msg := rollout(obs.deployment, obs.replicas); !ok {
		wait("waiting for the webhook before subscribing at Meta (it verifies the callback URL at once): " + msg)
		return
	}
	plan, err := r.planSubscription(ctx, page, obs)
	if err != nil {
		obs.subscription = &subscriptionResult{status: metav1.ConditionUnknown, reason: messengerv1alpha1.ReasonWaitingForWebhook,
			message: "could not list the pages of the app: " + err.Error(), observed: page.Status.Subscription, failed: false}
		obs.requeueIn(subscriptionRetry)
		return
	}
	interval := r.subscriptionRecheck(page)
	retry := min(interval, subscriptionRetry)
	checked := page.DeepCopy()
	log := logf.FromContext(ctx)
	res, next := r.graph.check(page, plan.inputs(page), interval, retry, func(ctx context.Context) subscriptionResult {
		res := r.checkSubscription(ctx, checked, plan)
		if res.failed {
			log.Info("subscription check failed", "reason", res.reason, "message", res.message)
		}
		return res
	})
	obs.requeueIn(next)
	if res == nil {
		res = &subscriptionResult{status: metav1.ConditionFalse, reason: messengerv1alpha1.ReasonChecking,
			message: "checking the subscription at Meta", observed: page.Status.Subscription}
	}
	obs.subscription = res
}

// planSubscription gathers the credentials (from the user's Secret, never logged) and decides
// which page of the app registers the callback: the oldest that asks to. Meta keeps one callback
// URL per app, so pages taking turns would keep replacing each other's.
func (r *MessengerPageReconciler) planSubscription(ctx context.Context, page *messengerv1alpha1.MessengerPage, obs *observation) (*subscriptionPlan, error) {
	spec := page.Spec.Subscription
	ref := page.Spec.SecretRef
	data := obs.secret.data
	appSecret := data[ref.GetAppSecretKey()]
	pageToken := data[ref.GetPageAccessTokenKey()]
	appToken := data[spec.GetAppAccessTokenKey()]
	if len(appToken) == 0 {
		appToken = graph.AppToken(page.Spec.AppID, appSecret)
	}
	p := &subscriptionPlan{
		baseURL:   page.Spec.GraphAPI.GetBaseURL(),
		version:   page.Spec.GraphAPI.GetVersion(),
		appSecret: appSecret,
		appToken:  appToken,
		pageToken: pageToken,
		callback:  callbackURL(page),
		fields:    spec.GetFields(),
		byURL:     map[string]string{},
		secrets:   [][]byte{appSecret, pageToken, appToken, obs.verifyToken},
	}
	var registered string
	if st := page.Status.Subscription; st != nil {
		registered = st.VerifyToken
	}
	p.token = newTokenGate(appSecret, obs.verifyToken, page.Status.WebhookVerifyToken, registered)
	var app messengerv1alpha1.MessengerPageList
	if err := r.List(ctx, &app, client.MatchingFields{IndexAppID: page.Spec.AppID}); err != nil {
		return nil, err
	}
	var owner *messengerv1alpha1.MessengerPage
	for i := range app.Items {
		q := &app.Items[i]
		if isSelf(q, page) {
			q = page // the cache may lag behind the page being reconciled
		}
		if !q.DeletionTimestamp.IsZero() {
			continue
		}
		id := q.Namespace + "/" + q.Name
		if _, taken := p.byURL[callbackURL(q)]; !taken {
			p.byURL[callbackURL(q)] = id
		}
		if registersCallback(q) && (owner == nil || older(q, owner)) {
			owner = q
		}
	}
	if owner != nil {
		p.owner = owner.Namespace + "/" + owner.Name
		p.registers = isSelf(owner, page)
	}
	return p, nil
}

func registersCallback(p *messengerv1alpha1.MessengerPage) bool {
	s := p.Spec.Subscription
	return s != nil && s.RegistersCallback()
}

// callbackURL is the URL a page registers: spec.subscription.callbackURL, else its webhook URL.
func callbackURL(p *messengerv1alpha1.MessengerPage) string {
	if s := p.Spec.Subscription; s != nil && s.CallbackURL != "" {
		return s.CallbackURL
	}
	return specs.WebhookURL(p)
}

// inputs hashes everything a check depends on, secrets included (the hash stays in memory), so
// a rotated token or a new callback owner is checked at once.
func (p *subscriptionPlan) inputs(page *messengerv1alpha1.MessengerPage) [32]byte {
	b, _ := json.Marshal([]any{page.UID, page.Spec.Subscription, page.Spec.AppID, page.Spec.PageID, p.baseURL, p.version,
		p.callback, p.fields, p.registers, p.owner, p.byURL, p.secrets, p.token.inputs()})
	return sha256.Sum256(b)
}

// checkSubscription looks at Meta's side and fixes what differs from the plan.
func (r *MessengerPageReconciler) checkSubscription(ctx context.Context, page *messengerv1alpha1.MessengerPage, p *subscriptionPlan) subscriptionResult {
	appID, pageID := page.Spec.AppID, page.Spec.PageID
	prev := page.Status.Subscription
	observed := &messengerv1alpha1.SubscriptionStatus{}
	if prev != nil {
		observed = prev.DeepCopy()
	}
	fail := func(step string, err error) subscriptionResult {
		return subscriptionResult{status: metav1.ConditionFalse, reason: messengerv1alpha1.ReasonSubscribeFailed, failed: true,
			message: p.scrub(step + " failed: " + err.Error() + hint(err, page)), observed: observed}
	}
	appClient, err := p.client(p.appToken, "")
	if err != nil {
		return fail("calling the Graph API with the app token", err)
	}
	pageClient, err := p.client(p.pageToken, pageID)
	if err != nil {
		return fail("calling the Graph API with the page access token", err)
	}

	app, err := appClient.AppSubscription(ctx, appID)
	if err != nil {
		return fail(fmt.Sprintf("reading the subscriptions of app %s (GET /%s/subscriptions, app token)", appID, appID), err)
	}
	note := ""
	if p.registers {
		stale := app == nil || app.CallbackURL != p.callback || !app.Active || !containsAll(app.Fields, p.fields)
		switch {
		case (stale || p.token.rotated()) && !p.token.loaded():
			if stale {
				return subscriptionResult{status: metav1.ConditionUnknown, reason: messengerv1alpha1.ReasonWaitingForWebhook, observed: observed,
					message: "waiting for the page's webhook pods to load the verify token in use before registering the callback at Meta, which verifies it at once"}
			}
			// Rotated only: the callback in place keeps delivering until the webhook has the new token.
			note = "; the rotated verify token is registered once the page's webhook pods have loaded it"
		case stale || p.token.rotated():
			if len(p.secrets[3]) == 0 {
				return fail("registering the callback URL", errors.New("no verify token in use yet"))
			}
			if err := appClient.RegisterCallback(ctx, appID, p.callback, p.secrets[3], p.fields); err != nil {
				return fail(fmt.Sprintf("registering %s as the callback URL of app %s (POST /%s/subscriptions)", p.callback, appID, appID), err)
			}
			var had []string
			if app != nil {
				had = app.Fields
			}
			app = &graph.AppSubscription{CallbackURL: p.callback, Active: true, Fields: union(had, p.fields)}
			observed.VerifyToken = p.token.Want
			r.event(page, corev1.EventTypeNormal, "CallbackRegistered", "registered %s as the callback URL of app %s", p.callback, appID)
		default:
			observed.VerifyToken = p.token.Want
		}
	}
	if app != nil {
		observed.CallbackURL = app.CallbackURL
		observed.CallbackPage = p.byURL[app.CallbackURL]
	} else {
		observed.CallbackURL, observed.CallbackPage = "", ""
	}

	if step, err := r.subscribePage(ctx, page, pageClient, appID, p.fields, observed); err != nil {
		return fail(step, err)
	}
	return subscriptionResult{status: subscribedStatus(app), reason: subscribedReason(app, observed), failed: false,
		message: p.scrub(subscribedMessage(page, p, app, observed) + note), observed: observed}
}

// subscribePage subscribes app appID to the page's Page for fields when Meta does not have it
// (again, when Meta dropped it: said in observed and an event), and records Meta's answer in
// observed. On failure it returns which step failed.
func (r *MessengerPageReconciler) subscribePage(ctx context.Context, page *messengerv1alpha1.MessengerPage, pageClient *graph.Client,
	appID string, want []string, observed *messengerv1alpha1.SubscriptionStatus) (string, error) {
	pageID := page.Spec.PageID
	fields, subscribed, err := pageClient.PageSubscription(ctx, appID)
	if err != nil {
		return fmt.Sprintf("reading the apps subscribed to Page %s (GET /%s/subscribed_apps, page token)", pageID, pageID), err
	}
	if prev := page.Status.Subscription; !subscribed && prev != nil && prev.PageSubscribed {
		// Meta dropped the subscription: after an hour of failed deliveries it disables the
		// webhook for the Page (reference §2.3), or someone removed the app.
		t := metav1.NewTime(r.now().Truncate(time.Second))
		observed.LastUnsubscribedTime = &t
		observed.PageSubscribed = false
		r.event(page, corev1.EventTypeWarning, "PageUnsubscribed",
			"Meta no longer had app %s subscribed to Page %s (webhooks are disabled after an hour of failed deliveries); subscribing it again", appID, pageID)
	}
	if !subscribed || !containsAll(fields, want) {
		all := union(fields, want)
		if err := pageClient.SubscribePage(ctx, all); err != nil {
			return fmt.Sprintf("subscribing app %s to Page %s (POST /%s/subscribed_apps)", appID, pageID, pageID), err
		}
		fields, subscribed = all, true
	}
	observed.PageSubscribed = subscribed
	observed.Fields = slices.Sorted(slices.Values(fields))
	return "", nil
}

// client is a Graph client with token, signed with the app secret, for pageID (or none).
func (p *subscriptionPlan) client(token []byte, pageID string) (*graph.Client, error) {
	return graph.New(graph.Config{BaseURL: p.baseURL, Version: p.version, Token: token, AppSecret: p.appSecret,
		PageID: pageID, Timeout: graphCallTimeout, Transport: graphTransport})
}

func subscribedStatus(app *graph.AppSubscription) metav1.ConditionStatus {
	if app == nil || app.CallbackURL == "" {
		return metav1.ConditionFalse
	}
	return metav1.ConditionTrue
}

func subscribedReason(app *graph.AppSubscription, st *messengerv1alpha1.SubscriptionStatus) string {
	switch {
	case app == nil || app.CallbackURL == "":
		return messengerv1alpha1.ReasonNoCallback
	case st.LastUnsubscribedTime != nil:
		return messengerv1alpha1.ReasonResubscribed
	}
	return messengerv1alpha1.ReasonSubscribed
}

func subscribedMessage(page *messengerv1alpha1.MessengerPage, p *subscriptionPlan, app *graph.AppSubscription, st *messengerv1alpha1.SubscriptionStatus) string {
	appID, pageID := page.Spec.AppID, page.Spec.PageID
	if app == nil || app.CallbackURL == "" {
		who := "set spec.subscription.registerCallback on one page of the app, or register it in the App Dashboard"
		if p.owner != "" {
			who = fmt.Sprintf("MessengerPage %s registers it once its webhook is available", p.owner)
		}
		return fmt.Sprintf("app %s has no callback URL for Pages: Meta delivers no events; %s", appID, who)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "app %s is subscribed to Page %s for %s; the app's callback URL is %s, ", appID, pageID, strings.Join(st.Fields, ","), app.CallbackURL)
	self := page.Namespace + "/" + page.Name
	switch st.CallbackPage {
	case self:
		b.WriteString("this page's webhook")
	case "":
		b.WriteString("not the URL of any MessengerPage of this app")
	default:
		fmt.Fprintf(&b, "the webhook of MessengerPage %s (Meta keeps one callback URL per app and sends this Page's events there)", st.CallbackPage)
	}
	if missing := without(p.fields, app.Fields); len(missing) > 0 {
		fmt.Fprintf(&b, "; the app is not subscribed to %s at app level, so those events are not delivered", strings.Join(missing, ","))
	}
	if t := st.LastUnsubscribedTime; t != nil {
		fmt.Fprintf(&b, "; Meta had unsubscribed the app from the Page (found %s; Meta does so after an hour of failed deliveries): the operator subscribed it again, check the webhook's delivery errors",
			t.UTC().Format(time.RFC3339))
	}
	return b.String()
}

// hint adds what to do for the Graph refusals a user can fix.
func hint(err error, page *messengerv1alpha1.MessengerPage) string {
	switch graph.MeaningOf(err) {
	case graph.TokenInvalid:
		return fmt.Sprintf(" (a token from Secret %q was refused: put a fresh page access token, or an app access token under spec.subscription.appAccessTokenKey)", page.Spec.SecretRef.Name)
	case graph.CallbackUnverified:
		return " (Meta could not verify the callback URL: it must be reachable from the internet over HTTPS with a valid certificate)"
	case graph.NotAuthorized:
		return fmt.Sprintf(" (not authorised: every call carries appsecret_proof, so the app secret in Secret %q must be the app's; subscribing a Page needs pages_manage_metadata and a token of someone who can manage the Page)", page.Spec.SecretRef.Name)
	}
	return ""
}

// scrub removes secret values from a message, should Meta ever echo one.
func (p *subscriptionPlan) scrub(msg string) string { return scrubAll(msg, p.secrets...) }

func (r *MessengerPageReconciler) event(page *messengerv1alpha1.MessengerPage, typ, reason, format string, args ...any) {
	if r.Recorder != nil {
		r.Recorder.Eventf(page, nil, typ, reason, "Subscribe", format, args...)
	}
}

// subscriptionCondition is the Subscribed condition and status.subscription of the pass: the
// result of the check, or, when the pass stopped before it, the last status kept as is.
func subscriptionCondition(page *messengerv1alpha1.MessengerPage, obs *observation) subscriptionResult {
	if obs.subscription != nil {
		return *obs.subscription
	}
	return subscriptionResult{status: metav1.ConditionUnknown, reason: messengerv1alpha1.ReasonWaitingForWebhook,
		message: "waiting for the page's objects before subscribing at Meta", observed: page.Status.Subscription}
}

func containsAll(have, want []string) bool {
	return len(without(want, have)) == 0
}

// without is want minus have.
func without(want, have []string) []string {
	var out []string
	for _, f := range want {
		if !slices.Contains(have, f) {
			out = append(out, f)
		}
	}
	return out
}

// union keeps have's order and appends the missing wanted fields.
func union(have, want []string) []string {
	return append(slices.Clone(have), without(want, have)...)
}
