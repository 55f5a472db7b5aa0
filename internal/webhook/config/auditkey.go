package config

import (
	"k8s.io/apimachinery/pkg/types"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// AuditKey reads the audit key of directory mode: key v1alpha1.GeneratedAuditKeyKey of the
// page's Secret (or, with app set, the app's Secret) in the manifests of dir. Nil when there is
// none; an error only when the manifests do not parse.
func AuditKey(dir string, key types.NamespacedName, app bool) ([]byte, error) {
	files, err := ReadDir(dir)
	if err != nil {
		return nil, err
	}
	d, err := declare(files, key.Namespace)
	if err != nil {
		return nil, err
	}
	var secret string
	if app {
		if a := d.apps[key.Name]; a != nil {
			secret = a.Spec.SecretRef.Name
		}
	} else if p := d.pages[key.Name]; p != nil {
		secret = p.Spec.SecretRef.Name
	}
	if s := d.secrets[secret]; s != nil {
		return secretData(s)[v1alpha1.GeneratedAuditKeyKey], nil
	}
	return nil, nil
}
