package controllers

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/messenger-operator/messenger-operator/internal/specs"
)

// CacheOptions are the manager's cache settings: managedFields stripped from every cached
// object (the controller compares fields, not managers), and the kinds the operator owns cached
// only when labelled as the operator's, so the cache never holds the cluster's other Secrets
// (nor its other Deployments, Services...). The user's Secrets are read through the API reader
// and watched metadata-only (see SetupWithManager). namespaces restricts the cache
// (WATCH_NAMESPACE); empty means the whole cluster.
func CacheOptions(namespaces []string) cache.Options {
	owned := cache.ByObject{Label: labels.SelectorFromSet(specs.ManagedSelector)}
	opts := cache.Options{
		DefaultTransform: cache.TransformStripManagedFields(),
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Secret{}:         owned,
			&corev1.ServiceAccount{}: owned,
			&corev1.Service{}:        owned,
			&appsv1.Deployment{}:     owned,
			&networkingv1.Ingress{}:  owned,
			&rbacv1.Role{}:           owned,
			&rbacv1.RoleBinding{}:    owned,
		},
	}
	opts.ByObject[&networkingv1.NetworkPolicy{}] = owned
	if len(namespaces) > 0 {
		opts.DefaultNamespaces = map[string]cache.Config{}
		for _, ns := range namespaces {
			opts.DefaultNamespaces[ns] = cache.Config{}
		}
	}
	return opts
}
