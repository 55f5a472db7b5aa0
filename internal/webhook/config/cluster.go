package config

import (
	"context"
	"log/slog"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// ClusterSource watches a page's objects in the cluster: its MessengerPage, the HandoverPolicy
// and the Secret it references, and the generated verify-token Secret while the user's Secret
// lacks the key, each in a typed cache of its own field-selected on metadata.name (Named), which
// is what lets list and watch work with a Role that grants them by resourceNames. It follows the
// page's references: when secretRef or policyRef name another object, the cache of the old one
// stops and one for the new one starts. While the API server is unreachable the caches keep what
// they had, so nothing changes until it is back.
//
// RunApp is the same for an app (see there). A ClusterSource runs one of the two.
type ClusterSource struct {
	// key is the page (Run) or the app (RunApp).
	key               types.NamespacedName
	verifyTokenSecret string
	log               *slog.Logger
	watcher           *Watcher
	kick              kicker
	// GraphAPIHosts go into every snapshot (Snapshot.GraphAPIHosts).
	GraphAPIHosts []string
	// Role names the webhook's own Role, whose grants it waits for before watching a Secret
	// (roleGate); empty: every Secret is watched at once.
	Role string
}

// NewClusterSource prepares the source of key, a page or an app, on cfg. verifyTokenSecret names
// the Secret the operator generates the verify token into (the Deployment's
// --verify-token-secret); empty when there is none.
func NewClusterSource(cfg *rest.Config, key types.NamespacedName, verifyTokenSecret string, log *slog.Logger) (*ClusterSource, error) {
	if log == nil {
		log = slog.Default()
	}
	kick := make(kicker, 1)
	w, err := NewWatcher(cfg, key.Namespace, kick.signal)
	if err != nil {
		return nil, err
	}
	return &ClusterSource{key: key, verifyTokenSecret: verifyTokenSecret, log: log, watcher: w, kick: kick}, nil
}

// kicker coalesces the change signals of a source's caches into one pending wake-up.
type kicker chan struct{}

func (k kicker) signal() {
	select {
	case k <- struct{}{}:
	default:
	}
}

// Run delivers a snapshot whenever one of the watched objects changes, once every cache it needs
// has synced, until ctx is done.
func (c *ClusterSource) Run(ctx context.Context, update func(Snapshot)) error {
	pages := NewNamed(c.watcher, func() *v1alpha1.MessengerPage { return &v1alpha1.MessengerPage{} })
	policies := NewNamed(c.watcher, func() *v1alpha1.HandoverPolicy { return &v1alpha1.HandoverPolicy{} })
	secrets := NewNamed(c.watcher, func() *corev1.Secret { return &corev1.Secret{} })
	// The generated verify token has a set of its own: it is watched only while the user's
	// Secret lacks one, and a cache that cannot sync (a name the Role does not grant) must not
	// hold up the rest.
	generated := NewNamed(c.watcher, func() *corev1.Secret { return &corev1.Secret{} })
	gate := newRoleGate(c.watcher, c.Role, c.log)
	defer func() {
		gate.stop()
		pages.Stop()
		policies.Stop()
		secrets.Stop()
		generated.Stop()
	}()
	if err := pages.Set(ctx, c.key.Name); err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-c.kick:
		}
		if !pages.Synced() {
			continue // its sync kicks again
		}
		s := Snapshot{VerifyTokenSecretName: c.verifyTokenSecret, GraphAPIHosts: c.GraphAPIHosts}
		var refs Refs
		if page, ok := pages.Get(ctx, c.key.Name); ok {
			s.Page, refs = page, RefsOf(page)
		}
		allowed, roleChanged, ok := gate.secrets(ctx)
		if !ok || (refs.Secret != "" && !allowed(refs.Secret)) {
			continue // the Role's sync or change kicks again
		}
		if roleChanged && (!retryRefused(ctx, c.log, secrets) || !retryRefused(ctx, c.log, generated)) {
			continue
		}
		if !watchNames(ctx, c.log, policies, refs.Policy) || !watchNames(ctx, c.log, secrets, refs.Secret) {
			continue
		}
		if !policies.Synced() || !secrets.Synced() {
			continue
		}
		s.Policy, _ = policies.Get(ctx, refs.Policy)
		s.Secret, _ = secrets.Get(ctx, refs.Secret)
		name := ""
		if s.Page != nil && !hasVerifyToken(s.Page, s.Secret) {
			name = generatedSecret(s.Page, c.verifyTokenSecret)
		}
		if (name != "" && !allowed(name)) || !watchNames(ctx, c.log, generated, name) || !generated.Synced() {
			continue
		}
		s.VerifyTokenSecret, _ = generated.Get(ctx, name)
		update(s)
	}
}

// watchNames makes names the watched set of n; false (logged) when a cache cannot be built.
func watchNames[T client.Object](ctx context.Context, log *slog.Logger, n *Named[T], names ...string) bool {
	if err := n.Set(ctx, names...); err != nil {
		log.Error("cannot watch the page's objects", "error", err.Error())
		return false
	}
	return true
}

// retryRefused restarts n's refused caches (logged when one cannot be built).
func retryRefused[T client.Object](ctx context.Context, log *slog.Logger, n *Named[T]) bool {
	if err := n.RetryRefused(ctx); err != nil {
		log.Error("cannot watch the page's objects", "error", err.Error())
		return false
	}
	return true
}

// hasVerifyToken says whether the user's Secret holds the page's verify token.
func hasVerifyToken(page *v1alpha1.MessengerPage, secret *corev1.Secret) bool {
	if page == nil || secret == nil {
		return false
	}
	return len(secretData(secret)[page.Spec.SecretRef.GetVerifyTokenKey()]) > 0
}
