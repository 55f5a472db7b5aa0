package config

import (
	"errors"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// graphHostAllowed refuses a Graph API base URL outside allowed (none set: any host, as for a
// webhook run by hand).
func graphHostAllowed(baseURL string, allowed []string) error {
	if len(allowed) == 0 {
		return nil
	}
	if msg := v1alpha1.GraphAPIHostRefusal("spec.graphAPI.baseURL", baseURL, allowed); msg != "" {
		return errors.New(msg)
	}
	return nil
}
