package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/graph"
	"github.com/messenger-operator/messenger-operator/internal/specs"
)

// callbackResult is the outcome of one look at the app's callback at Meta.
type callbackResult struct {
	status   metav1.ConditionStatus
	reason   string
	message  string
	failed   bool
	callback *messengerv1alpha1.CallbackStatus
}

func (r callbackResult) hasFailed() bool { return r.failed }

// callbackPlan is what a callback check needs; the secrets stay in memory, never logged.
type callbackPlan struct {
	appID, baseURL, version, url string
	fields                       []string
	appSecret, appToken, verify  []byte
	token                        tokenGate
}

func (p *callbackPlan) inputs(app *messengerv1alpha1.MessengerApp) [32]byte {
	b, _ := json.Marshal([]any{app.UID, p.appID, p.baseURL, p.version, p.url, p.fields, p.appSecret, p.appToken, p.verify, p.token.inputs()})
	return sha256.Sum256(b)
}

func (p *callbackPlan) scrub(msg string) string {
	for _, s := range [][]byte{p.appSecret, p.appToken, p.verify} {
		if len(s) >= 4 {
			msg = strings.ReplaceAll(msg, string(s), "[redacted]")
		}
	}
	return msg
}

// reconcileCallback registers the app's callback URL and verify token at Meta (spec.subscription
// with registerCallback) once its webhook is available, since Meta verifies the URL at once. The
// Graph calls run off the reconcile workers (graphWork); until the first result the condition
// says so and holds Ready. It returns when to look again.
func (r *MessengerAppReconciler) reconcileCallback(ctx context.Context, app *messengerv1alpha1.MessengerApp, obs *appObservation) time.Duration {
	sub := app.Spec.Subscription
	if sub == nil || !sub.RegistersCallback() {
		r.graph.forget(keyOf(app))
		return 0
	}
	wait := func(msg string) {
		obs.callback = &callbackResult{status: metav1.ConditionFalse, reason: messengerv1alpha1.ReasonWaitingForWebhook, message: msg, callback: app.Status.Callback}
	}
	switch {
	case !obs.secret.found || obs.secret.missing != "" || len(obs.token.token) == 0:
		wait("waiting for the app's Secret before registering the callback at Meta")
		return 0
	case obs.deployment == nil || obs.replicas == 0:
		wait("waiting for a webhook replica before registering the callback: Meta verifies the callback URL at once")
		return 0
	}
	if ok, msg := rollout(obs.deployment, obs.replicas); !ok {
		wait("waiting for the webhook before registering the callback (Meta verifies it at once): " + msg)
		return 0
	}
	appToken := obs.secret.appToken
	if len(appToken) == 0 {
		appToken = graph.AppToken(app.Spec.AppID, obs.secret.appSecret)
	}
	var registered string
	if cb := app.Status.Callback; cb != nil {
		registered = cb.VerifyToken
	}
	p := &callbackPlan{appID: app.Spec.AppID, baseURL: app.Spec.GraphAPI.GetBaseURL(), version: app.Spec.GraphAPI.GetVersion(),
		url: sub.CallbackURL, fields: sub.GetFields(), appSecret: obs.secret.appSecret, appToken: appToken, verify: obs.token.token,
		token: newTokenGate(obs.secret.appSecret, obs.token.token, app.Status.WebhookVerifyToken, registered)}
	if p.url == "" {
		p.url = specs.AppWebhookURL(app)
	}
	interval := sub.GetRecheckInterval(r.SubscriptionRecheck)
	prev := app.Status.Callback.DeepCopy()
	log := logf.FromContext(ctx)
	res, next := r.graph.check(app, p.inputs(app), interval, min(interval, subscriptionRetry), func(ctx context.Context) callbackResult {
		res := r.checkCallback(ctx, p, prev)
		if res.failed {
			log.Info("callback check failed", "reason", res.reason, "message", res.message)
		}
		return res
	})
	if res == nil {
		res = &callbackResult{status: metav1.ConditionFalse, reason: messengerv1alpha1.ReasonChecking,
			message: "checking the app's callback at Meta", callback: app.Status.Callback}
	}
	obs.callback = res
	return next
}

// checkCallback reads the app's subscription at Meta and registers the callback when it differs.
func (r *MessengerAppReconciler) checkCallback(ctx context.Context, p *callbackPlan, prev *messengerv1alpha1.CallbackStatus) callbackResult {
	fail := func(step string, err error) callbackResult {
		msg := step + " failed: " + err.Error()
		if graph.MeaningOf(err) == graph.CallbackUnverified {
			msg += " (Meta could not verify the callback URL: it must be reachable from the internet over HTTPS with a valid certificate)"
		}
		return callbackResult{status: metav1.ConditionFalse, reason: messengerv1alpha1.ReasonCallbackFailed, failed: true, message: p.scrub(msg), callback: prev}
	}
	c, err := graph.New(graph.Config{BaseURL: p.baseURL, Version: p.version, Token: p.appToken, AppSecret: p.appSecret,
		Timeout: graphCallTimeout, Transport: graphTransport})
	if err != nil {
		return fail("calling the Graph API with the app token", err)
	}
	have, err := c.AppSubscription(ctx, p.appID)
	if err != nil {
		return fail(fmt.Sprintf("reading the subscriptions of app %s (GET /%s/subscriptions)", p.appID, p.appID), err)
	}
	st := &messengerv1alpha1.CallbackStatus{}
	if prev != nil {
		st = prev.DeepCopy()
	}
	stale := have == nil || have.CallbackURL != p.url || !have.Active || !containsAll(have.Fields, p.fields)
	if (stale || p.token.rotated()) && !p.token.loaded() {
		return p.token.wait(stale, prev, "the app's webhook")
	}
	if stale || p.token.rotated() {
		if err := c.RegisterCallback(ctx, p.appID, p.url, p.verify, p.fields); err != nil {
			return fail(fmt.Sprintf("registering %s as the callback URL of app %s (POST /%s/subscriptions)", p.url, p.appID, p.appID), err)
		}
		var had []string
		if have != nil {
			had = have.Fields
		}
		have = &graph.AppSubscription{CallbackURL: p.url, Active: true, Fields: union(had, p.fields)}
		// Meta answered only after its verification GET got the challenge back.
		t := metav1.NewTime(r.now().Truncate(time.Second))
		st.VerifiedTime = &t
	}
	st.URL, st.Fields, st.VerifyToken = have.CallbackURL, have.Fields, p.token.Want
	return callbackResult{status: metav1.ConditionTrue, reason: messengerv1alpha1.ReasonCallbackVerified, callback: st,
		message: fmt.Sprintf("Meta delivers the app's Page events to %s (fields %s)", have.CallbackURL, strings.Join(have.Fields, ","))}
}
