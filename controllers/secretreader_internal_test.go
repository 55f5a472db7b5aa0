package controllers

import (
	"context"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// secretsAt answers Gets of Secrets from a map and records the resourceVersion each read asked
// for ("" for a quorum read); failAtVersion makes the reads at a version fail as an API server
// whose watch cache lags does.
type secretsAt struct {
	secrets       map[types.NamespacedName]*corev1.Secret
	asked         []string
	failAtVersion bool
}

func (r *secretsAt) Get(_ context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	rv := ""
	for _, o := range opts {
		if g, ok := o.(*client.GetOptions); ok && g.Raw != nil {
			rv = g.Raw.ResourceVersion
		}
	}
	r.asked = append(r.asked, rv)
	if rv != "" && r.failAtVersion {
		return apierrors.NewTimeoutError("Too large resource version", 1)
	}
	s, ok := r.secrets[key]
	if !ok {
		return apierrors.NewNotFound(corev1.Resource("secrets"), key.Name)
	}
	switch o := obj.(type) {
	case *corev1.Secret:
		s.DeepCopyInto(o)
	case *metav1.PartialObjectMetadata:
		o.ObjectMeta = *s.ObjectMeta.DeepCopy()
	}
	return nil
}

func (r *secretsAt) List(context.Context, client.ObjectList, ...client.ListOption) error { return nil }

func (r *secretsAt) take() []string { a := r.asked; r.asked = nil; return a }

// The reader asks the API server for a Secret at the version its metadata cache saw (answered
// from the API server's watch cache), falls back to a quorum read when there is none or that read
// fails for another reason than NotFound, and reads nothing while the version is unchanged.
func TestSecretReaderReadsAtTheVersionSeen(t *testing.T) {
	key := types.NamespacedName{Namespace: "ns", Name: "p-token"}
	secret := func(rv string) *corev1.Secret {
		return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name, ResourceVersion: rv},
			Data: map[string][]byte{"pageAccessToken": []byte("token-" + rv)}}
	}
	api := &secretsAt{secrets: map[types.NamespacedName]*corev1.Secret{key: secret("5")}}
	meta := &secretsAt{secrets: map[types.NamespacedName]*corev1.Secret{}}
	r := &secretReader{api: api, meta: meta, kept: map[types.NamespacedName]*corev1.Secret{}}
	read := func(want string, asked ...string) {
		t.Helper()
		out := &corev1.Secret{}
		if err := r.Get(context.Background(), key, out); err != nil {
			t.Fatal(err)
		}
		if got := string(out.Data["pageAccessToken"]); got != want {
			t.Fatalf("read %q, want %q", got, want)
		}
		if got := api.take(); !slices.Equal(got, asked) {
			t.Fatalf("reads at versions %q, want %q", got, asked)
		}
	}
	read("token-5", "")             // not in the metadata cache yet: a quorum read
	meta.secrets[key] = secret("5") // the cache sees it
	read("token-5")                 // kept, unchanged: no read
	api.secrets[key], meta.secrets[key] = secret("6"), secret("6")
	read("token-6", "6") // changed: read at the version seen
	read("token-6")
	api.secrets[key], meta.secrets[key] = secret("7"), secret("7")
	api.failAtVersion = true
	read("token-7", "7", "") // the read at the version failed: a quorum read
	api.failAtVersion = false

	// Deleted at the API server: NotFound, no second read, nothing kept.
	meta.secrets[key] = secret("8")
	delete(api.secrets, key)
	if err := r.Get(context.Background(), key, &corev1.Secret{}); !apierrors.IsNotFound(err) {
		t.Fatalf("err %v, want NotFound", err)
	}
	if got := api.take(); !slices.Equal(got, []string{"8"}) {
		t.Fatalf("reads at versions %q, want [8]", got)
	}
	if len(r.kept) != 0 {
		t.Fatal("a deleted Secret is still kept")
	}
}
