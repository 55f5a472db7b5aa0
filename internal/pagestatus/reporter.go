// Package pagestatus reports what only the page's webhook can see - whether the Graph API accepts
// the page token, whether Conversation Routing lets the app take threads - as the MessengerPage's
// GraphAuthorized and HandoverPermitted conditions. It implements webhook.Reporter.
package pagestatus

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// FieldManager owns the webhook's conditions, apart from the operator's.
const FieldManager = "messenger-webhook"

// maxMessage keeps condition messages short (the API allows 32768 bytes).
const maxMessage = 1024

var pagesResource = v1alpha1.GroupVersion.WithResource("messengerpages")

// Options configure a Reporter.
type Options struct {
	Client dynamic.Interface
	Page   types.NamespacedName
	Logger *slog.Logger
	// RetryBase and RetryMax bound the backoff between failed writes. Defaults 1s and 1m.
	RetryBase, RetryMax time.Duration
	// Now is the clock of lastTransitionTime. Default time.Now.
	Now func() time.Time
}

// Reporter writes the webhook's conditions with server-side apply under its own field manager,
// from its own goroutine (Run): reporting never blocks the caller, only transitions are written,
// and a failed write is retried with backoff until it succeeds or a newer state replaces it.
type Reporter struct {
	opts Options
	log  *slog.Logger
	res  dynamic.ResourceInterface

	mu         sync.Mutex
	conds      map[string]metav1.Condition // what the webhook's field manager owns
	generation int64
	seeded     bool
	pending    bool // conds differ from what was last written

	kick chan struct{}
}

// New returns a Reporter; start it with Run.
func New(opts Options) *Reporter {
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
	return &Reporter{
		opts:  opts,
		log:   opts.Logger,
		res:   opts.Client.Resource(pagesResource).Namespace(opts.Page.Namespace),
		conds: map[string]metav1.Condition{},
		kick:  make(chan struct{}, 1),
	}
}

// GraphAuthorized implements webhook.Reporter.
func (r *Reporter) GraphAuthorized(ok bool, message string) {
	reason := v1alpha1.ReasonGraphAuthorized
	if !ok {
		reason = v1alpha1.ReasonGraphUnauthorized
	}
	r.set(v1alpha1.ConditionGraphAuthorized, ok, reason, message)
}

// HandoverPermitted implements webhook.Reporter.
func (r *Reporter) HandoverPermitted(ok bool, message string) {
	reason := v1alpha1.ReasonTakeAllowed
	if !ok {
		reason = v1alpha1.ReasonTakeRefused
	}
	r.set(v1alpha1.ConditionHandoverPermitted, ok, reason, message)
}

// Seed takes over the conditions a previous webhook process wrote, from the page as first read,
// so that a restart neither resets their lastTransitionTime nor drops them (an apply leaving out
// a condition the field manager owns removes it). Only the first call counts; call it before the
// server can report anything.
func (r *Reporter) Seed(page *v1alpha1.MessengerPage) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seeded {
		return
	}
	r.seeded = true
	for _, c := range page.Status.Conditions {
		if c.Type != v1alpha1.ConditionGraphAuthorized && c.Type != v1alpha1.ConditionHandoverPermitted {
			continue
		}
		if _, set := r.conds[c.Type]; !set {
			r.conds[c.Type] = c
		}
	}
}

// SetGeneration records the generation of the page the webhook now runs on; conditions written
// from then on carry it as observedGeneration.
func (r *Reporter) SetGeneration(gen int64) {
	r.mu.Lock()
	r.generation = gen
	r.mu.Unlock()
}

func (r *Reporter) set(typ string, ok bool, reason, message string) {
	status := metav1.ConditionFalse
	if ok {
		status = metav1.ConditionTrue
	}
	if len(message) > maxMessage {
		message = strings.ToValidUTF8(message[:maxMessage], "") // no half rune at the cut
	}
	r.mu.Lock()
	old, had := r.conds[typ]
	if had && old.Status == status && old.Reason == reason && old.Message == message {
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
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Run writes the conditions as they change until ctx is done; then it makes one last attempt
// (bounded by a few seconds) if a change is still unwritten.
func (r *Reporter) Run(ctx context.Context) {
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

func (r *Reporter) isPending() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pending
}

// write applies every condition the webhook owns: an apply that left one out would remove it.
func (r *Reporter) write(ctx context.Context) error {
	r.mu.Lock()
	conds := make([]any, 0, len(r.conds))
	names := make([]string, 0, len(r.conds))
	for t := range r.conds {
		names = append(names, t)
	}
	slices.Sort(names)
	for _, t := range names {
		c := r.conds[t]
		m := map[string]any{
			"type":               c.Type,
			"status":             string(c.Status),
			"reason":             c.Reason,
			"message":            c.Message,
			"lastTransitionTime": c.LastTransitionTime.UTC().Format(time.RFC3339),
		}
		if c.ObservedGeneration > 0 {
			m["observedGeneration"] = c.ObservedGeneration
		}
		conds = append(conds, m)
	}
	r.pending = false
	r.mu.Unlock()

	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": v1alpha1.GroupVersion.String(),
		"kind":       "MessengerPage",
		"metadata":   map[string]any{"name": r.opts.Page.Name, "namespace": r.opts.Page.Namespace},
		"status":     map[string]any{"conditions": conds},
	}}
	_, err := r.res.ApplyStatus(ctx, r.opts.Page.Name, obj, metav1.ApplyOptions{FieldManager: FieldManager, Force: true})
	if err != nil {
		r.mu.Lock()
		r.pending = true
		r.mu.Unlock()
		return err
	}
	r.log.Info("page's webhook conditions written", "conditions", summary(conds))
	return nil
}

func summary(conds []any) []string {
	out := make([]string, 0, len(conds))
	for _, c := range conds {
		m := c.(map[string]any)
		out = append(out, m["type"].(string)+"="+m["status"].(string)+" ("+m["reason"].(string)+")")
	}
	return out
}
