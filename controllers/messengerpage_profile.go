package controllers

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
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

// profileRetry is the first wait after a failed profile check; it doubles per failure up to the
// recheck interval (graphWork), so a refused token costs one call per interval, not a storm.
const profileRetry = time.Minute

// profileResult is the outcome of one look at the Page's Messenger Profile.
type profileResult struct {
	status          metav1.ConditionStatus
	reason, message string
	failed          bool
}

func (r profileResult) hasFailed() bool { return r.failed }

// profilePlan is what a profile check needs; the tokens stay in memory, never logged.
type profilePlan struct {
	baseURL, version string
	appSecret        []byte
	pageToken        []byte
	interval         time.Duration
}

// reconcileProfile keeps the Page's Messenger Profile equal to spec.profile (reference §7.3):
// off the reconcile workers (graphWork), at the recheck interval and whenever the spec or the
// credentials change. Without spec.profile the Page's profile is left alone.
func (r *MessengerPageReconciler) reconcileProfile(ctx context.Context, page *messengerv1alpha1.MessengerPage, obs *observation) {
	if page.Spec.Profile == nil {
		r.profiles.forget(client.ObjectKeyFromObject(page))
		r.profileInSync.Delete(client.ObjectKeyFromObject(page))
		return
	}
	plan, wait, retry := r.planProfile(ctx, page, obs)
	if plan == nil {
		obs.profile = &profileResult{status: metav1.ConditionUnknown, reason: messengerv1alpha1.ReasonWaitingForWebhook, message: wait}
		if retry {
			obs.requeueIn(profileRetry) // nothing watched brings the page back
		}
		return
	}
	b, _ := json.Marshal([]any{page.UID, page.Spec.PageID, page.Spec.Profile, plan.baseURL, plan.version, plan.appSecret, plan.pageToken})
	checked := page.DeepCopy()
	log := logf.FromContext(ctx)
	res, next := r.profiles.check(page, sha256.Sum256(b), plan.interval, min(plan.interval, profileRetry), func(ctx context.Context) profileResult {
		res := r.syncProfile(ctx, checked, plan)
		if res.failed {
			log.Info("profile check failed", "reason", res.reason, "message", res.message)
		}
		return res
	})
	obs.requeueIn(next)
	if res == nil {
		res = &profileResult{status: metav1.ConditionUnknown, reason: messengerv1alpha1.ReasonChecking, message: "checking the Messenger Profile at Meta"}
	}
	obs.profile = res
}

// planProfile gathers the page token, the app secret (appsecret_proof) and where to call: the
// page's own settings, or its MessengerApp's. The profile goes up once a webhook answers its taps
// (the page's own webhook available, or its app Ready). The recheck interval is the app's, else
// the page's spec.subscription.recheckInterval, else the manager's setting, else 10 minutes. A
// nil plan comes with what is awaited, and whether only a later look will see it change.
func (r *MessengerPageReconciler) planProfile(ctx context.Context, page *messengerv1alpha1.MessengerPage, obs *observation) (*profilePlan, string, bool) {
	const taps = " before setting the Messenger Profile: its taps need a webhook that answers them"
	switch {
	case !obs.secret.found || len(obs.secret.missing) > 0 || obs.policy == nil:
		return nil, "waiting for the page's Secret and HandoverPolicy before setting the Messenger Profile", false
	case page.Spec.AppRef == nil && (obs.deployment == nil || obs.replicas == 0):
		return nil, "waiting for a webhook replica" + taps, false
	case page.Spec.AppRef != nil && obs.app == nil:
		return nil, "waiting for the page's MessengerApp" + taps, false
	case page.Spec.AppRef != nil && !appReady(obs.app):
		return nil, fmt.Sprintf("waiting for MessengerApp %q to be Ready", obs.app.Name) + taps, false
	}
	p := &profilePlan{pageToken: obs.secret.data[page.Spec.SecretRef.GetPageAccessTokenKey()]}
	if app := obs.app; page.Spec.AppRef != nil {
		secret, err := r.appSecret(ctx, app)
		if err != nil || len(secret) == 0 {
			return nil, fmt.Sprintf("waiting for the app secret of MessengerApp %q before setting the Messenger Profile", app.Name), true
		}
		p.appSecret, p.baseURL, p.version = secret, app.Spec.GraphAPI.GetBaseURL(), app.Spec.GraphAPI.GetVersion()
		if s := app.Spec.Subscription; s != nil && s.RecheckInterval != nil {
			p.interval = s.GetRecheckInterval(0)
		}
	} else {
		if ok, msg := rollout(obs.deployment, obs.replicas); !ok {
			return nil, "waiting for the webhook (" + msg + ")" + taps, false
		}
		p.appSecret = obs.secret.data[page.Spec.SecretRef.GetAppSecretKey()]
		p.baseURL, p.version = page.Spec.GraphAPI.GetBaseURL(), page.Spec.GraphAPI.GetVersion()
	}
	if s := page.Spec.Subscription; p.interval == 0 && s != nil && s.RecheckInterval != nil {
		p.interval = s.GetRecheckInterval(0)
	}
	if p.interval == 0 {
		p.interval = (&messengerv1alpha1.SubscriptionSpec{}).GetRecheckInterval(r.SubscriptionRecheck)
	}
	return p, "", false
}

// syncProfile reads Meta's profile and writes only what differs: one POST for the properties
// the spec sets that Meta lacks or holds otherwise, one DELETE for those the spec leaves unset
// when spec.profile.prune is true. An Event names what changed.
func (r *MessengerPageReconciler) syncProfile(ctx context.Context, page *messengerv1alpha1.MessengerPage, p *profilePlan) profileResult {
	spec := page.Spec.Profile
	fail := func(step string, err error) profileResult {
		return profileResult{status: metav1.ConditionFalse, reason: messengerv1alpha1.ReasonProfileSyncFailed, failed: true,
			message: scrubAll(step+" failed: "+err.Error()+profileHint(err, page), p.appSecret, p.pageToken)}
	}
	c, err := graph.New(graph.Config{BaseURL: p.baseURL, Version: p.version, Token: p.pageToken, AppSecret: p.appSecret,
		PageID: page.Spec.PageID, Timeout: graphCallTimeout, Transport: graphTransport})
	if err != nil {
		return fail("calling the Graph API with the page access token", err)
	}
	have, err := c.MessengerProfile(ctx, messengerv1alpha1.ProfileFields())
	if err != nil {
		return fail("reading the Messenger Profile (GET /me/messenger_profile)", err)
	}
	set, del, changes := profileDiff(spec, have)
	if len(set) > 0 {
		if err := c.SetMessengerProfile(ctx, set); err != nil {
			return fail("setting "+strings.Join(slices.Sorted(maps.Keys(set)), ", ")+" (POST /me/messenger_profile)", err)
		}
	}
	if len(del) > 0 {
		if err := c.DeleteMessengerProfile(ctx, del); err != nil {
			return fail("removing "+strings.Join(del, ", ")+" (DELETE /me/messenger_profile)", err)
		}
	}
	if len(changes) > 0 && r.Recorder != nil {
		reason, what := "ProfileApplied", "set spec.profile at Meta"
		mark, _ := r.profileInSync.Load(client.ObjectKeyFromObject(page))
		if c := apimeta.FindStatusCondition(page.Status.Conditions, messengerv1alpha1.ConditionProfileSynced); mark == markOf(page) ||
			(c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == page.Generation) {
			// In sync at this generation before: someone changed the profile at Meta.
			reason, what = "ProfileDriftCorrected", "the Page's Messenger Profile was changed at Meta; restored spec.profile"
		}
		r.Recorder.Eventf(page, nil, corev1.EventTypeNormal, reason, "Profile", "%s: %s", what, strings.Join(changes, "; "))
	}
	r.profileInSync.Store(client.ObjectKeyFromObject(page), markOf(page))
	return profileResult{status: metav1.ConditionTrue, reason: messengerv1alpha1.ReasonProfileInSync,
		message: fmt.Sprintf("the Messenger Profile of Page %s equals spec.profile (%s)", page.Spec.PageID, profileScope(spec))}
}

// profileDiff compares the spec's properties with Meta's (as JSON values, so key order and
// spacing do not count): what to POST, what to DELETE (prune only) and a line per change.
func profileDiff(spec *messengerv1alpha1.MessengerProfile, have graph.ProfileProperties) (set map[string]any, del, changes []string) {
	want := spec.Properties()
	set = map[string]any{}
	for _, f := range messengerv1alpha1.ProfileFields() {
		w, inSpec := want[f]
		raw, atMeta := have[f]
		switch {
		case inSpec && !atMeta:
			set[f] = w
			changes = append(changes, f+" was missing")
		case inSpec && !sameJSON(w, raw):
			set[f] = w
			changes = append(changes, fmt.Sprintf("%s was %s", f, clip(string(raw), 200)))
		case !inSpec && atMeta && spec.Prune:
			del = append(del, f)
			changes = append(changes, f+" removed (prune)")
		}
	}
	return set, del, changes
}

// sameJSON compares a value built by Properties with Meta's JSON of the same property.
func sameJSON(want any, raw json.RawMessage) bool {
	b, err := json.Marshal(want)
	if err != nil {
		return false
	}
	var w, h any
	if json.Unmarshal(b, &w) != nil || json.Unmarshal(raw, &h) != nil {
		return false
	}
	return reflect.DeepEqual(w, h)
}

// profileScope names what the spec holds the Page to, for the condition's message.
func profileScope(spec *messengerv1alpha1.MessengerProfile) string {
	names := slices.Sorted(maps.Keys(spec.Properties()))
	scope := "sets " + strings.Join(names, ", ")
	if len(names) == 0 {
		scope = "sets nothing"
	}
	if spec.Prune {
		return scope + "; the other managed properties are removed (prune)"
	}
	return scope + "; the others are left as they are at Meta"
}

// profileHint says what to do for the refusals a person can fix.
func profileHint(err error, page *messengerv1alpha1.MessengerPage) string {
	switch graph.MeaningOf(err) {
	case graph.TokenInvalid:
		return fmt.Sprintf(" (code 190: the page access token in Secret %q was refused; put a fresh one there)", page.Spec.SecretRef.Name)
	case graph.NotAuthorized:
		return " (not authorised: the page token needs pages_messaging and every call carries appsecret_proof, so the app secret must be the app's)"
	case graph.BadRequest, graph.Refused:
		return " (Meta refused the profile: check spec.profile against Meta's limits)"
	}
	return ""
}

// unhandledPayloadsMessage names the profile payloads that no trigger of the policy claims.
func unhandledPayloadsMessage(page *messengerv1alpha1.MessengerPage, policy *messengerv1alpha1.HandoverPolicy) (string, bool) {
	if page.Spec.Profile == nil || policy == nil {
		return "", false
	}
	left := page.Spec.Profile.UnhandledPayloads(&policy.Spec)
	if len(left) == 0 {
		return "", false
	}
	return fmt.Sprintf("the payloads %s of spec.profile (menu items, ice breakers) are named by no postbackPayloads trigger of HandoverPolicy %q and are not the Get Started payload: their taps get the welcome",
		strings.Join(quoteAll(left), ", "), policy.Name), true
}

// profileConditions adds ProfileSynced and ProfilePayloadUnhandled for a page with spec.profile.
func profileConditions(page *messengerv1alpha1.MessengerPage, obs *observation, cs *conditionSet) {
	if page.Spec.Profile == nil {
		return
	}
	res := obs.profile
	if res == nil {
		res = &profileResult{status: metav1.ConditionUnknown, reason: messengerv1alpha1.ReasonWaitingForWebhook,
			message: "waiting for the page's references before setting the Messenger Profile"}
	}
	cs.add(messengerv1alpha1.ConditionProfileSynced, res.status, res.reason, res.message)
	if msg, ok := unhandledPayloadsMessage(page, obs.policy); ok {
		cs.add(messengerv1alpha1.ConditionProfilePayloadUnhandled, metav1.ConditionTrue, messengerv1alpha1.ReasonPayloadsUnhandled, msg)
	}
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", clip(s, 60))
	}
	return out
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// scrubAll removes secret values from a message, should Meta ever echo one.
func scrubAll(msg string, secrets ...[]byte) string {
	for _, s := range secrets {
		if len(s) >= 4 {
			msg = strings.ReplaceAll(msg, string(s), "[redacted]")
		}
	}
	return msg
}

// profileMark names a page at one generation (a page deleted and created again is another).
type profileMark struct {
	uid types.UID
	gen int64
}

func markOf(page *messengerv1alpha1.MessengerPage) profileMark {
	return profileMark{uid: page.UID, gen: page.Generation}
}
