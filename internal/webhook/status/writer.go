// Package status reports what only the page's webhook can see - whether the Graph API accepts
// the page token, whether Conversation Routing lets the app take threads - as the MessengerPage's
// GraphAuthorized and HandoverPermitted conditions (Writer), or to the log where there is no
// MessengerPage to write to (Log). Both implement the runner's Reporter.
package status

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	v1alpha1ac "github.com/messenger-operator/messenger-operator/api/v1alpha1/applyconfiguration/api/v1alpha1"
)

// FieldManager owns the webhook's conditions, apart from the operator's.
const FieldManager = v1alpha1.FieldManagerWebhook

var (
	pagesResource = v1alpha1.GroupVersion.WithResource("messengerpages")
	appsResource  = v1alpha1.GroupVersion.WithResource("messengerapps")
)

// Options configure a Writer.
type Options struct {
	Client dynamic.Interface
	Page   types.NamespacedName
	Logger *slog.Logger
	// RetryBase and RetryMax bound the backoff between failed writes. Defaults 1s and 1m.
	RetryBase, RetryMax time.Duration
	// Now is the clock of lastTransitionTime. Default time.Now.
	Now func() time.Time
	// Served: the page is served by its app's webhook, which owns its Served condition too.
	Served bool
	// App, when set instead of Page, makes a Writer of the MessengerApp's status: it writes
	// only the verify token the app's webhook has loaded (VerifyToken).
	App types.NamespacedName
}

// Writer writes the webhook's conditions with server-side apply under its own field manager,
// from its own goroutine (Run): reporting never blocks the caller, only transitions are written,
// and a failed write is retried with backoff until it succeeds or a newer state replaces it.
type Writer struct {
	opts Options
	log  *slog.Logger
	res  dynamic.ResourceInterface

	mu          sync.Mutex
	conds       map[string]metav1.Condition // what the webhook's field manager owns
	generation  int64
	seeded      bool
	pending     bool   // conds or verifyToken differ from what was last written
	verifyToken string // fingerprint of the verify token loaded, for status.webhookVerifyToken

	kick chan struct{}
}

// New returns a Writer; start it with Run.
func New(opts Options) *Writer {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.RetryBase <= 0 {
		opts.RetryBase = time.Second
	}
	if opts.RetryMax < opts.RetryBase {
		opts.RetryMax = max(time.Minute, opts.RetryBase)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	res := opts.Client.Resource(pagesResource).Namespace(opts.Page.Namespace)
	if opts.App.Name != "" {
		res = opts.Client.Resource(appsResource).Namespace(opts.App.Namespace)
	}
	return &Writer{
		opts:  opts,
		log:   opts.Logger,
		res:   res,
		conds: map[string]metav1.Condition{},
		kick:  make(chan struct{}, 1),
	}
}

// VerifyToken reports the fingerprint (v1alpha1.VerifyTokenFingerprint) of the verify token the
// webhook now answers Meta's verification with, as status.webhookVerifyToken: the operator
// registers a rotated token at Meta only once it shows there.
func (r *Writer) VerifyToken(fingerprint string) {
	r.mu.Lock()
	if fingerprint == r.verifyToken {
		r.mu.Unlock()
		return
	}
	r.verifyToken = fingerprint
	r.pending = true
	r.mu.Unlock()
	r.poke()
}

func (r *Writer) poke() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// GraphAuthorized implements runner.Reporter.
func (r *Writer) GraphAuthorized(ok bool, message string) {
	reason := v1alpha1.ReasonGraphAuthorized
	if !ok {
		reason = v1alpha1.ReasonGraphUnauthorized
	}
	r.set(v1alpha1.ConditionGraphAuthorized, ok, reason, message)
}

// HandoverPermitted implements runner.Reporter.
func (r *Writer) HandoverPermitted(ok bool, message string) {
	reason := v1alpha1.ReasonTakeAllowed
	if !ok {
		reason = v1alpha1.ReasonTakeRefused
	}
	r.set(v1alpha1.ConditionHandoverPermitted, ok, reason, message)
}

// CanAct implements runner.Reporter.
func (r *Writer) CanAct(ok bool, message string) {
	reason := v1alpha1.ReasonReceivesConversations
	if !ok {
		reason = v1alpha1.ReasonNotDefaultApp
	}
	r.set(v1alpha1.ConditionCanAct, ok, reason, message)
}

// Seed takes over the conditions a previous webhook process wrote, from the page as first read,
// so that a restart neither resets their lastTransitionTime nor drops them (an apply leaving out
// a condition the field manager owns removes it). Only the first call counts; call it before the
// server can report anything.
func (r *Writer) Seed(page *v1alpha1.MessengerPage) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seeded {
		return
	}
	r.seeded = true
	owned := v1alpha1.MessengerPageConditions.Owned(page.Status.Conditions, FieldManager)
	if c := meta.FindStatusCondition(page.Status.Conditions, v1alpha1.ConditionServed); c != nil && r.opts.Served {
		owned = append(owned, *c)
	}
	for _, c := range owned {
		if _, set := r.conds[c.Type]; !set {
			r.conds[c.Type] = c
		}
	}
}

// SetGeneration records the generation of the page the webhook now runs on; conditions written
// from then on carry it as observedGeneration.
func (r *Writer) SetGeneration(gen int64) {
	r.mu.Lock()
	r.generation = gen
	r.mu.Unlock()
}

// Served sets the Served condition (Writer of an app's page): the page's generation gen is
// served (ok), or not, for reason; the condition carries gen as its observedGeneration, and so
// do the conditions written from then on.
func (r *Writer) Served(gen int64, ok bool, reason, message string) {
	r.mu.Lock()
	r.generation = gen
	r.mu.Unlock()
	r.set(v1alpha1.ConditionServed, ok, reason, message)
}

func (r *Writer) set(typ string, ok bool, reason, message string) {
	status := metav1.ConditionFalse
	if ok {
		status = metav1.ConditionTrue
	}
	message = v1alpha1.TruncateMessage(message)
	r.mu.Lock()
	old, had := r.conds[typ]
	// Served says which generation it is about: a new one is news even when nothing else changed.
	if had && old.Status == status && old.Reason == reason && old.Message == message &&
		(typ != v1alpha1.ConditionServed || old.ObservedGeneration == r.generation) {
		r.mu.Unlock()
		return
	}
	c := metav1.Condition{
		Type:               typ,
		Status:             status,
		Reason:             reason,
		Message:            message,
		ObservedGeneration: r.generation,
		LastTransitionTime: metav1.NewTime(r.opts.Now().Truncate(time.Second)),
	}
	if had && old.Status == status {
		c.LastTransitionTime = old.LastTransitionTime
	}
	r.conds[typ] = c
	r.pending = true
	r.mu.Unlock()
	r.poke()
}

// Run writes the conditions as they change until ctx is done; then it makes one last attempt
// (bounded by a few seconds) if a change is still unwritten.
func (r *Writer) Run(ctx context.Context) {
	backoff := time.Duration(0)
	var retry <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			if r.isPending() {
				fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				_ = r.write(fctx)
				cancel()
			}
			return
		case <-r.kick:
		case <-retry:
		}
		if !r.isPending() {
			continue
		}
		if err := r.write(ctx); err != nil {
			if backoff == 0 {
				backoff = r.opts.RetryBase
				r.log.Warn("cannot write the page's webhook conditions; retrying", "error", err.Error())
			} else {
				backoff = min(2*backoff, r.opts.RetryMax)
			}
			retry = time.After(backoff)
			continue
		}
		if backoff != 0 {
			r.log.Info("page's webhook conditions written after retries")
		}
		backoff, retry = 0, nil
	}
}

func (r *Writer) isPending() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pending
}

// write applies every condition the webhook owns: an apply that left one out would remove it.
func (r *Writer) write(ctx context.Context) error {
	r.mu.Lock()
	names := make([]string, 0, len(r.conds))
	for t := range r.conds {
		names = append(names, t)
	}
	slices.Sort(names)
	status := v1alpha1ac.MessengerPageStatus()
	done := make([]string, 0, len(names))
	for _, t := range names {
		c := r.conds[t]
		status.WithConditions(v1alpha1.ConditionApply(c))
		done = append(done, c.Type+"="+string(c.Status)+" ("+c.Reason+")")
	}
	if r.verifyToken != "" {
		status.WithWebhookVerifyToken(r.verifyToken)
		done = append(done, "webhookVerifyToken")
	}
	r.pending = false
	r.mu.Unlock()

	name := r.opts.Page.Name
	var obj any = v1alpha1ac.MessengerPage(name, r.opts.Page.Namespace).WithStatus(status)
	if r.opts.App.Name != "" {
		name = r.opts.App.Name
		obj = v1alpha1ac.MessengerApp(name, r.opts.App.Namespace).WithStatus(
			v1alpha1ac.MessengerAppStatus().WithWebhookVerifyToken(r.verifyToken))
	}
	body, err := json.Marshal(obj)
	if err == nil {
		force := true
		_, err = r.res.Patch(ctx, name, types.ApplyPatchType, body,
			metav1.PatchOptions{FieldManager: FieldManager, Force: &force}, "status")
	}
	if err != nil {
		r.mu.Lock()
		r.pending = true
		r.mu.Unlock()
		return err
	}
	r.log.Info("page's webhook conditions written", "conditions", done)
	return nil
}
