package config

import (
	"context"
	"log/slog"
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"
)

// roleGate follows the webhook's own Role (the one the operator keeps, named by --role) so that
// a Secret is watched only once the Role grants it. A watch started before is refused, and its
// reflector retries on a backoff that doubles from 0.8 s: a page joining an app would wait
// seconds after the operator granted its Secret. Without a Role name, or while the Role cannot
// be read (a Role of an older operator that does not grant it, a kubeconfig of another
// identity) or does not exist, every name is watched at once, as before.
type roleGate struct {
	name  string
	roles *Named[*rbacv1.Role]
	log   *slog.Logger
	// version is the Role's resourceVersion when last read: a new one retries refused watches.
	version string
}

func newRoleGate(w *Watcher, name string, log *slog.Logger) *roleGate {
	return &roleGate{name: name, log: log, roles: NewNamed(w, func() *rbacv1.Role { return &rbacv1.Role{} })}
}

func (g *roleGate) stop() { g.roles.Stop() }

// secrets returns which Secret names may be watched now, and whether the Role changed since the
// last call; ok is false while the Role's cache syncs (its sync kicks the source again).
func (g *roleGate) secrets(ctx context.Context) (allowed func(string) bool, changed, ok bool) {
	all := func(string) bool { return true }
	if g.name == "" {
		return all, false, true
	}
	if !watchNames(ctx, g.log, g.roles, g.name) || g.roles.Refused(g.name) {
		return all, false, true
	}
	if !g.roles.SyncedName(g.name) {
		return nil, false, false
	}
	role, found := g.roles.Get(ctx, g.name)
	if !found {
		return all, false, true
	}
	changed = role.ResourceVersion != g.version
	g.version = role.ResourceVersion
	return func(secret string) bool { return grantsSecret(role, secret) }, changed, true
}

// grantsSecret says whether a rule of role lets list and watch the Secret name (what a cache
// field-selected on its name needs).
func grantsSecret(role *rbacv1.Role, name string) bool {
	in := func(set []string, v, all string) bool { return slices.Contains(set, v) || slices.Contains(set, all) }
	for _, r := range role.Rules {
		if !in(r.APIGroups, "", rbacv1.APIGroupAll) || !in(r.Resources, "secrets", rbacv1.ResourceAll) ||
			!in(r.Verbs, "list", rbacv1.VerbAll) || !in(r.Verbs, "watch", rbacv1.VerbAll) {
			continue
		}
		if len(r.ResourceNames) == 0 || slices.Contains(r.ResourceNames, name) {
			return true
		}
	}
	return false
}

// only keeps the names allowed.
func only(names []string, allowed func(string) bool) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		if allowed(n) {
			out = append(out, n)
		}
	}
	return out
}
