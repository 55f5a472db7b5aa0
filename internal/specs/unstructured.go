package specs

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// unstructured is an object of a kind that is not in the manager's scheme (its CRD may be
// missing): the webhook's name, namespace and owner, labels, annotations with the applied hash
// of spec, labels and annotations (UpToDate).
func (w Webhook) unstructured(gvk schema.GroupVersionKind, spec map[string]any, labels, annotations map[string]string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	u.SetGroupVersionKind(gvk)
	u.SetName(w.Name())
	u.SetNamespace(w.Namespace())
	u.SetLabels(labels)
	ref := w.ownerReference()
	u.Object["metadata"].(map[string]any)["ownerReferences"] = []any{map[string]any{
		"apiVersion": *ref.APIVersion, "kind": *ref.Kind, "name": *ref.Name, "uid": string(*ref.UID),
		"controller": true, "blockOwnerDeletion": true,
	}}
	annotations = maps.Clone(annotations)
	if annotations == nil {
		annotations = map[string]string{}
	}
	delete(annotations, AppliedHashAnnotation)
	b, err := json.Marshal(map[string]any{"spec": spec, "labels": u.GetLabels(), "annotations": annotations})
	if err != nil {
		panic(err) // plain data: cannot fail
	}
	sum := sha256.Sum256(b)
	annotations[AppliedHashAnnotation] = hex.EncodeToString(sum[:8])
	u.SetAnnotations(annotations)
	return u
}
