package playground

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// policyStore reads and writes one HandoverPolicy through the API server, with a client whose
// Role allows get and update of handoverpolicies and nothing else.
type policyStore struct {
	c   client.Client
	key types.NamespacedName
}

// policyView is the policy as the page edits it: its spec as YAML.
type policyView struct {
	Namespace       string `json:"namespace"`
	Name            string `json:"name"`
	ResourceVersion string `json:"resourceVersion"`
	Generation      int64  `json:"generation"`
	Spec            string `json:"spec"`
	Ready           string `json:"ready,omitempty"`
}

func (p *policyStore) get(ctx context.Context) (policyView, error) {
	pol := &v1alpha1.HandoverPolicy{}
	if err := p.c.Get(ctx, p.key, pol); err != nil {
		return policyView{}, err
	}
	spec, err := yaml.Marshal(pol.Spec)
	if err != nil {
		return policyView{}, err
	}
	v := policyView{Namespace: pol.Namespace, Name: pol.Name, ResourceVersion: pol.ResourceVersion,
		Generation: pol.Generation, Spec: string(spec)}
	for _, c := range pol.Status.Conditions {
		if c.Type == v1alpha1.ConditionReady {
			v.Ready = string(c.Status) + " " + c.Reason + ": " + c.Message
		}
	}
	return v, nil
}

// errBadSpec is a spec the page sent that is no HandoverPolicy spec: nothing is sent to the API
// server.
var errBadSpec = errors.New("not a HandoverPolicy spec")

// update replaces the policy's spec with specYAML; the API server's rejection comes back as it
// is (its message names the field and the rule).
func (p *policyStore) update(ctx context.Context, specYAML, resourceVersion string) (policyView, error) {
	var spec v1alpha1.HandoverPolicySpec
	if err := yaml.UnmarshalStrict([]byte(specYAML), &spec); err != nil {
		return policyView{}, fmt.Errorf("%w: %v", errBadSpec, err)
	}
	pol := &v1alpha1.HandoverPolicy{}
	if err := p.c.Get(ctx, p.key, pol); err != nil {
		return policyView{}, err
	}
	if resourceVersion != "" && resourceVersion != pol.ResourceVersion {
		return policyView{}, apierrors.NewConflict(v1alpha1.GroupVersion.WithResource("handoverpolicies").GroupResource(), p.key.Name,
			errors.New("the policy changed since it was loaded; reload it and edit again"))
	}
	pol.Spec = spec
	if err := p.c.Update(ctx, pol); err != nil {
		return policyView{}, err
	}
	return p.get(ctx)
}
