package specs

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"

	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
)

// stamp records the hash of the desired object in its AppliedHashAnnotation. The hash covers
// everything the operator sets, so a field dropped from the desired object (a removed
// nodeSelector, say) changes it even though the object in the cluster still holds the field.
func stamp(desired any, meta *metav1ac.ObjectMetaApplyConfiguration) {
	delete(meta.Annotations, AppliedHashAnnotation)
	b, err := json.Marshal(desired)
	if err != nil {
		panic(err) // apply configurations are plain data: cannot fail
	}
	sum := sha256.Sum256(b)
	meta.WithAnnotations(map[string]string{AppliedHashAnnotation: hex.EncodeToString(sum[:8])})
}

// UpToDate says whether current (an object read from the cache, nil when absent) already holds
// desired, an apply configuration made by this package: same applied hash, and every field the
// operator sets has its value (fields the API server defaults or others own are ignored). The
// first catches changes of the desired object, the second edits and deletions by others.
// managedFields are not needed, so the cache may strip them.
func UpToDate(desired, current any) (bool, error) {
	if current == nil || reflect.ValueOf(current).IsNil() {
		return false, nil
	}
	want, err := toMap(desired)
	if err != nil {
		return false, err
	}
	have, err := toMap(current)
	if err != nil {
		return false, err
	}
	delete(want, "apiVersion")
	delete(want, "kind")
	return contains(have, want), nil
}

func toMap(obj any) (map[string]any, error) {
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("encoding %T: %w", obj, err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("decoding %T: %w", obj, err)
	}
	return m, nil
}

// contains reports whether have holds want: maps by key (extra keys in have are fine), lists
// item by item with the same length, scalars equal. An empty map or list in want matches an
// absent value, as the API server drops empty fields.
func contains(have, want any) bool {
	switch w := want.(type) {
	case map[string]any:
		h, ok := have.(map[string]any)
		if !ok {
			return len(w) == 0 && have == nil
		}
		for k, wv := range w {
			if !contains(h[k], wv) {
				return false
			}
		}
		return true
	case []any:
		h, ok := have.([]any)
		if !ok {
			return len(w) == 0 && have == nil
		}
		if len(h) != len(w) {
			return false
		}
		for i := range w {
			if !contains(h[i], w[i]) {
				return false
			}
		}
		return true
	default:
		return reflect.DeepEqual(have, want)
	}
}
