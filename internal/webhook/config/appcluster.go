package config

import (
	"context"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// appRefField selects an app's pages: the MessengerPage CRD declares it a selectable field.
const appRefField = "spec.appRef.name"

// RunApp watches an app's objects in the cluster: its MessengerApp (by name), its pages
// (field-selected on spec.appRef.name, a CRD selectable field), their HandoverPolicies, and each
// Secret by name - the app's, the generated verify token's while the app's Secret lacks the key,
// each page's - with one cache per name, started and stopped as pages join and leave (a Role
// that grants Secrets by resourceNames lets list and watch only by metadata.name). With Role set,
// a page's Secret is watched once that Role grants it (roleGate): the operator adds it to the
// Role after the page joins.
//
// It delivers a snapshot whenever one of the watched objects changes, once the app, its pages and
// the app's Secrets are read, until ctx is done. A page whose own objects are not read yet is
// delivered as Loading.
func (c *ClusterSource) RunApp(ctx context.Context, update func(AppSnapshot)) error {
	apps := NewNamed(c.watcher, func() *v1alpha1.MessengerApp { return &v1alpha1.MessengerApp{} })
	policies := NewNamed(c.watcher, func() *v1alpha1.HandoverPolicy { return &v1alpha1.HandoverPolicy{} })
	secrets := NewNamed(c.watcher, func() *corev1.Secret { return &corev1.Secret{} })
	generated := NewNamed(c.watcher, func() *corev1.Secret { return &corev1.Secret{} })
	pages, err := c.watcher.watch(ctx, &v1alpha1.MessengerPage{}, fields.OneTermEqualSelector(appRefField, c.key.Name))
	if err != nil {
		return err
	}
	gate := newRoleGate(c.watcher, c.Role, c.log)
	defer func() {
		gate.stop()
		pages.stop()
		apps.Stop()
		policies.Stop()
		secrets.Stop()
		generated.Stop()
	}()
	if err := apps.Set(ctx, c.key.Name); err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-c.kick:
		}
		if !apps.Synced() || !pages.synced() {
			continue // their sync kicks again
		}
		s := AppSnapshot{VerifyTokenSecretName: c.verifyTokenSecret, GraphAPIHosts: c.GraphAPIHosts, Policies: map[string]*v1alpha1.HandoverPolicy{},
			Secrets: map[string]*corev1.Secret{}, Loading: map[string]bool{}}
		s.App, _ = apps.Get(ctx, c.key.Name)
		var list v1alpha1.MessengerPageList
		if err := pages.cache.List(ctx, &list); err != nil {
			continue
		}
		for i := range list.Items {
			s.Pages = append(s.Pages, &list.Items[i])
		}
		allowed, roleChanged, ok := gate.secrets(ctx)
		if !ok {
			continue // the Role's sync kicks again
		}
		if roleChanged && (!retryRefused(ctx, c.log, secrets) || !retryRefused(ctx, c.log, generated)) {
			continue
		}
		policyNames, secretNames := AppRefs(s.App, "", s.Pages)
		if !watchNames(ctx, c.log, policies, policyNames...) || !watchNames(ctx, c.log, secrets, only(secretNames, allowed)...) {
			continue
		}
		for _, n := range policyNames {
			if p, ok := policies.Get(ctx, n); ok {
				s.Policies[n] = p
			}
		}
		for _, n := range secretNames {
			if sec, ok := secrets.Get(ctx, n); ok {
				s.Secrets[n] = sec
			}
		}
		name := ""
		if s.App != nil {
			ref := &s.App.Spec.SecretRef
			if !secrets.SyncedName(ref.Name) {
				continue // every page needs it
			}
			if sec := s.Secrets[ref.Name]; sec == nil || len(secretData(sec)[ref.GetVerifyTokenKey()]) == 0 {
				if c.verifyTokenSecret != ref.Name {
					name = c.verifyTokenSecret
				}
			}
		}
		if name != "" && !allowed(name) {
			continue // the Role's change kicks again
		}
		if !watchNames(ctx, c.log, generated, name) || !generated.Synced() {
			continue
		}
		if sec, ok := generated.Get(ctx, name); ok {
			s.Secrets[name] = sec
		}
		for _, p := range s.Pages {
			if !policies.SyncedName(p.Spec.PolicyRef.Name) || !secrets.SyncedName(p.Spec.SecretRef.Name) {
				s.Loading[p.Name] = true
			}
		}
		slices.SortFunc(s.Pages, func(a, b *v1alpha1.MessengerPage) int { return strings.Compare(a.Name, b.Name) })
		update(s)
	}
}
