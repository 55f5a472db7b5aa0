package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	messengerv1alpha1 "github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/graph"
)

// tokenRetry is the first wait after a failed debug_token call; it doubles up to the recheck
// interval (graphWork).
const tokenRetry = time.Minute

// tokenFirstWait bounds how long the status write of a page whose token was never checked
// waits for the first check's answer. A page reads as Current to kstatus before the operator
// first writes its status anyway (while it waits in the work queue), so this only lengthens that
// wait, by at most this much: Meta answers debug_token well within it, a closed port at once; an
// unreachable Graph API gets "Checking" written and its answer later, as before.
const tokenFirstWait = 2 * time.Second

// tokenResult is the outcome of one debug_token check of the page access token.
type tokenResult struct {
	status          metav1.ConditionStatus
	reason, message string
	failed          bool // the call failed: nothing learnt of the token
	observed        *messengerv1alpha1.TokenStatus
}

func (r tokenResult) hasFailed() bool { return r.failed }

// tokenPlan is what a check needs; the tokens stay in memory, never logged.
type tokenPlan struct {
	baseURL, version     string
	appSecret, appToken  []byte
	pageToken            []byte
	secretName, tokenKey string
	interval             time.Duration
}

// reconcileToken asks Meta about the page access token (debug_token, reference §7.4) off the
// reconcile workers (graphWork), every recheck interval and whenever the credentials change, so
// that a revoked or expiring token shows before any customer writes. It runs once the page's
// Secret (and, for a page of an app, the app's) holds what it needs; the references' own
// conditions say what is missing before that.
func (r *MessengerPageReconciler) reconcileToken(ctx context.Context, page *messengerv1alpha1.MessengerPage, obs *observation) {
	plan := r.planToken(ctx, page, obs)
	if plan == nil {
		r.tokens.forget(client.ObjectKeyFromObject(page))
		return
	}
	b, _ := json.Marshal([]any{page.UID, plan.baseURL, plan.version, plan.appSecret, plan.appToken, plan.pageToken})
	log := logf.FromContext(ctx)
	prev := page.Status.Token
	res, next := r.tokens.check(page, sha256.Sum256(b), plan.interval, min(plan.interval, tokenRetry), func(ctx context.Context) tokenResult {
		res := checkToken(ctx, plan, prev)
		if res.failed {
			log.Info("page token check failed", "reason", res.reason, "message", res.message)
		}
		return res
	})
	obs.requeueIn(next)
	known := apimeta.FindStatusCondition(page.Status.Conditions, messengerv1alpha1.ConditionTokenValid)
	if res == nil && known == nil {
		// The page's first check: its status waits a moment for the answer (the finished check
		// wakes the page), so that one write says what Meta said instead of two.
		var waited time.Duration
		var pending bool
		if res, waited, pending = r.tokens.waiting(page); pending && waited < tokenFirstWait {
			obs.holdStatus = true
			obs.requeueIn(tokenFirstWait - waited)
		}
	}
	if res == nil {
		// No answer in this process yet (a restarted operator): what the status says stays until
		// the check tells otherwise, so a restart writes nothing to unchanged pages.
		res = &tokenResult{status: metav1.ConditionUnknown, reason: messengerv1alpha1.ReasonChecking,
			message: "checking the page access token at Meta (debug_token)", observed: prev}
		if known != nil {
			res.status, res.reason, res.message = known.Status, known.Reason, known.Message
		}
	}
	if exp := tokenExpiry(res.observed); !exp.IsZero() {
		// Come back when the warning is due, should that be before the next check.
		obs.requeueIn(exp.Add(-messengerv1alpha1.TokenExpiryWarning).Sub(r.now()))
	}
	obs.token = res
}

// planToken gathers the credentials: the page token from the page's Secret, and the app secret
// and app token (the Secret's appAccessToken key, else "{appID}|{appSecret}") from the page's
// Secret for a standalone page, from its MessengerApp's Secret for a page of an app. nil when
// they are not all there yet.
func (r *MessengerPageReconciler) planToken(ctx context.Context, page *messengerv1alpha1.MessengerPage, obs *observation) *tokenPlan {
	if !obs.secret.found || len(obs.secret.missing) > 0 {
		return nil
	}
	ref := page.Spec.SecretRef
	p := &tokenPlan{pageToken: obs.secret.data[ref.GetPageAccessTokenKey()], secretName: ref.Name, tokenKey: ref.GetPageAccessTokenKey()}
	if app := obs.app; page.Spec.AppRef != nil {
		if app == nil || graphHostRefusal(app.Spec.GraphAPI.GetBaseURL(), r.GraphAPIHosts) != "" {
			return nil
		}
		s := &corev1.Secret{}
		if err := r.userSecrets().Get(ctx, types.NamespacedName{Namespace: app.Namespace, Name: app.Spec.SecretRef.Name}, s); err != nil {
			return nil // the app reports its Secret
		}
		p.appSecret = s.Data[app.Spec.SecretRef.GetAppSecretKey()]
		p.appToken = s.Data[app.Spec.SecretRef.GetAppAccessTokenKey()]
		p.baseURL, p.version = app.Spec.GraphAPI.GetBaseURL(), app.Spec.GraphAPI.GetVersion()
		if len(p.appToken) == 0 {
			p.appToken = graph.AppToken(app.Spec.AppID, p.appSecret)
		}
	} else {
		key := messengerv1alpha1.DefaultAppAccessTokenKey
		if s := page.Spec.Subscription; s != nil {
			key = s.GetAppAccessTokenKey()
		}
		p.appSecret = obs.secret.data[ref.GetAppSecretKey()]
		p.appToken = obs.secret.data[key]
		p.baseURL, p.version = page.Spec.GraphAPI.GetBaseURL(), page.Spec.GraphAPI.GetVersion()
		if len(p.appToken) == 0 {
			p.appToken = graph.AppToken(page.Spec.AppID, p.appSecret)
		}
	}
	if len(p.appSecret) == 0 || len(p.pageToken) == 0 {
		return nil
	}
	p.interval = r.recheckInterval(page, obs.app)
	return p
}

// recheckInterval is how often Meta is asked about a page: the app's
// spec.subscription.recheckInterval, else the page's, else the manager's setting, else 10m.
func (r *MessengerPageReconciler) recheckInterval(page *messengerv1alpha1.MessengerPage, app *messengerv1alpha1.MessengerApp) time.Duration {
	if page.Spec.AppRef != nil && app != nil {
		if s := app.Spec.Subscription; s != nil && s.RecheckInterval != nil {
			return s.GetRecheckInterval(0)
		}
	}
	if s := page.Spec.Subscription; s != nil && s.RecheckInterval != nil {
		return s.GetRecheckInterval(0)
	}
	return (&messengerv1alpha1.SubscriptionSpec{}).GetRecheckInterval(r.SubscriptionRecheck)
}

// checkToken makes the debug_token call. A failed call keeps what was known (prev).
func checkToken(ctx context.Context, p *tokenPlan, prev *messengerv1alpha1.TokenStatus) tokenResult {
	fail := func(err error) tokenResult {
		msg := "asking Meta about the page access token (GET /debug_token, with the app token) failed: " + err.Error()
		if m := graph.MeaningOf(err); m == graph.TokenInvalid || m == graph.NotAuthorized {
			msg += fmt.Sprintf(" (the app token was refused: check the app secret, or the app access token, in Secret %q)", p.secretName)
		}
		return tokenResult{status: metav1.ConditionUnknown, reason: messengerv1alpha1.ReasonTokenCheckFailed, failed: true,
			message: scrubAll(msg, p.appSecret, p.appToken, p.pageToken), observed: prev}
	}
	c, err := graph.New(graph.Config{BaseURL: p.baseURL, Version: p.version, Token: p.appToken, AppSecret: p.appSecret,
		Timeout: graphCallTimeout, Transport: graphTransport})
	if err != nil {
		return fail(err)
	}
	info, err := c.DebugToken(ctx, p.pageToken)
	if err != nil {
		return fail(err)
	}
	obs := &messengerv1alpha1.TokenStatus{Valid: info.Valid, Scopes: slices.Sorted(slices.Values(info.Scopes))}
	if !info.ExpiresAt.IsZero() {
		t := metav1.NewTime(info.ExpiresAt)
		obs.ExpiresAt = &t
	}
	if !info.DataAccessExpiresAt.IsZero() {
		t := metav1.NewTime(info.DataAccessExpiresAt)
		obs.DataAccessExpiresAt = &t
	}
	res := tokenResult{observed: obs}
	where := fmt.Sprintf("the page access token (key %q of Secret %q)", p.tokenKey, p.secretName)
	switch {
	case !info.Valid:
		res.status, res.reason = metav1.ConditionFalse, messengerv1alpha1.ReasonTokenInvalid
		res.message = fmt.Sprintf("Meta's debug_token calls %s invalid: %s; put a fresh page access token there (the webhook reloads it without a restart)", where, info.Problem)
	case !info.HasScope(messengerv1alpha1.RequiredTokenScope):
		res.status, res.reason = metav1.ConditionFalse, messengerv1alpha1.ReasonTokenScopeMissing
		res.message = fmt.Sprintf("%s lacks %s (it has %s): the webhook cannot answer anyone; issue a token with %s", where,
			messengerv1alpha1.RequiredTokenScope, scopeList(obs.Scopes), messengerv1alpha1.RequiredTokenScope)
	default:
		res.status, res.reason = metav1.ConditionTrue, messengerv1alpha1.ReasonTokenValid
		res.message = fmt.Sprintf("%s is valid, %s; scopes %s", where, expiryText(obs), scopeList(obs.Scopes))
	}
	res.message = scrubAll(res.message, p.appSecret, p.appToken, p.pageToken)
	return res
}

func scopeList(scopes []string) string {
	if len(scopes) == 0 {
		return "none"
	}
	return strings.Join(scopes, ",")
}

func expiryText(t *messengerv1alpha1.TokenStatus) string {
	s := "never expires"
	if t.ExpiresAt != nil {
		s = "expires " + t.ExpiresAt.UTC().Format(time.RFC3339)
	}
	if t.DataAccessExpiresAt != nil {
		s += ", data access until " + t.DataAccessExpiresAt.UTC().Format(time.RFC3339)
	}
	return s
}

// tokenExpiry is the token's expires_at; zero when unknown or never.
func tokenExpiry(t *messengerv1alpha1.TokenStatus) time.Time {
	if t == nil || t.ExpiresAt == nil {
		return time.Time{}
	}
	return t.ExpiresAt.Time
}

// tokenConditions adds TokenValid and, from TokenExpiryWarning before expires_at, TokenExpiring
// (informational), and sets status.token. An invalid token stalls the page: a person must put
// a fresh one in the Secret.
func tokenConditions(obs *observation, cs *conditionSet, st *messengerv1alpha1.MessengerPageStatus, now time.Time) {
	res := obs.token
	if res == nil {
		return
	}
	st.Token = res.observed
	cs.add(messengerv1alpha1.ConditionTokenValid, res.status, res.reason, res.message)
	if res.status == metav1.ConditionFalse && !cs.has(messengerv1alpha1.ConditionStalled) {
		cs.stalled(res.reason, res.message)
	}
	if exp := tokenExpiry(res.observed); !exp.IsZero() && res.observed.Valid && exp.Sub(now) <= messengerv1alpha1.TokenExpiryWarning {
		cs.add(messengerv1alpha1.ConditionTokenExpiring, metav1.ConditionTrue, messengerv1alpha1.ReasonTokenExpiresSoon, fmt.Sprintf(
			"the page access token expires %s (less than %s away): put a fresh one (a Page token from a long-lived user token never expires) in the page's Secret before then",
			exp.UTC().Format(time.RFC3339), "7 days"))
	}
}
