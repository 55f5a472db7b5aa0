package config

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

// File is one manifest file's name and content.
type File struct {
	Name string
	Data []byte
}

// ReadDir reads the manifest files of dir (*.yaml, *.yml, *.json; not its subdirectories nor
// hidden files, which skips the ..data links of a mounted ConfigMap or Secret), sorted by name.
func ReadDir(dir string) ([]File, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var files []File
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || !isManifest(name) {
			continue
		}
		path := filepath.Join(dir, name)
		// Stat follows symlinks: a mounted ConfigMap's entries are links to files.
		if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() {
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		files = append(files, File{Name: name, Data: data})
	}
	return files, nil
}

func isManifest(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// typeAndName is what every manifest starts with.
type typeAndName struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
}

// declared holds the objects of interest found in the files, by name, with where each came from.
type declared struct {
	apps     map[string]*v1alpha1.MessengerApp
	pages    map[string]*v1alpha1.MessengerPage
	policies map[string]*v1alpha1.HandoverPolicy
	secrets  map[string]*corev1.Secret
	origin   map[string]string // kind/name -> file and document
}

// Parse reads what files declare - as `kubectl apply -n NAMESPACE -f DIR` would - and returns the
// snapshot of the page key: its MessengerPage, its HandoverPolicy and its Secret(s), each nil
// when no file declares it; verifyTokenSecret names the Secret of a generated verify token, if
// any. Objects in another namespace and other kinds are ignored. A document that does not parse,
// a field the schema does not know, or the same object declared twice is an error, and then no
// snapshot is returned.
func Parse(files []File, key types.NamespacedName, verifyTokenSecret string) (Snapshot, error) {
	d, err := declare(files, key.Namespace)
	if err != nil {
		return Snapshot{}, err
	}
	s := Snapshot{VerifyTokenSecretName: verifyTokenSecret}
	page := d.pages[key.Name]
	if page == nil {
		return s, nil
	}
	s.Page = page
	refs := RefsOf(page)
	s.Policy = d.policies[refs.Policy]
	s.Secret = d.secrets[refs.Secret]
	if name := generatedSecret(page, verifyTokenSecret); name != "" {
		s.VerifyTokenSecret = d.secrets[name]
	}
	return s, nil
}

// ParseApp reads what files declare, as Parse, and returns the snapshot of the app key: its
// MessengerApp, the MessengerPages whose spec.appRef names it (sorted by name), and the policies
// and Secrets they reference.
func ParseApp(files []File, key types.NamespacedName, verifyTokenSecret string) (AppSnapshot, error) {
	d, err := declare(files, key.Namespace)
	if err != nil {
		return AppSnapshot{}, err
	}
	s := AppSnapshot{App: d.apps[key.Name], VerifyTokenSecretName: verifyTokenSecret,
		Policies: map[string]*v1alpha1.HandoverPolicy{}, Secrets: map[string]*corev1.Secret{}}
	for _, p := range d.pages {
		if p.Spec.AppRef != nil && p.Spec.AppRef.Name == key.Name {
			s.Pages = append(s.Pages, p)
		}
	}
	slices.SortFunc(s.Pages, func(a, b *v1alpha1.MessengerPage) int { return strings.Compare(a.Name, b.Name) })
	policies, secrets := AppRefs(s.App, verifyTokenSecret, s.Pages)
	for _, n := range policies {
		if p := d.policies[n]; p != nil {
			s.Policies[n] = p
		}
	}
	for _, n := range secrets {
		if sec := d.secrets[n]; sec != nil {
			s.Secrets[n] = sec
		}
	}
	return s, nil
}

// declare collects the objects of interest the files declare in namespace.
func declare(files []File, namespace string) (*declared, error) {
	d := &declared{
		apps:     map[string]*v1alpha1.MessengerApp{},
		pages:    map[string]*v1alpha1.MessengerPage{},
		policies: map[string]*v1alpha1.HandoverPolicy{},
		secrets:  map[string]*corev1.Secret{},
		origin:   map[string]string{},
	}
	for _, f := range files {
		if err := d.addFile(f, namespace); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func (d *declared) addFile(f File, namespace string) error {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(f.Data)))
	for n := 1; ; n++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		where := fmt.Sprintf("%s, document %d", f.Name, n)
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if err := d.addDocument(doc, where, namespace); err != nil {
			return err
		}
	}
}

func (d *declared) addDocument(doc []byte, where, namespace string) error {
	j, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	if t := bytes.TrimSpace(j); len(t) == 0 || string(t) == "null" {
		return nil // empty, or comments only
	}
	var tn typeAndName
	if err := json.Unmarshal(j, &tn); err != nil {
		return fmt.Errorf("%s: not a Kubernetes object: %w", where, err)
	}
	if tn.Metadata.Namespace != "" && tn.Metadata.Namespace != namespace {
		return nil
	}
	kind := tn.Kind
	switch {
	case tn.APIVersion == v1alpha1.GroupVersion.String() && (kind == "MessengerPage" || kind == "HandoverPolicy" || kind == "MessengerApp"):
	case tn.APIVersion == "v1" && kind == "Secret":
	default:
		return nil
	}
	where = fmt.Sprintf("%s (%s %q)", where, kind, tn.Metadata.Name)
	if tn.Metadata.Name == "" {
		return fmt.Errorf("%s: metadata.name is required", where)
	}
	id := kind + "/" + tn.Metadata.Name
	if prev, dup := d.origin[id]; dup {
		return fmt.Errorf("%s: declared again (first in %s)", where, prev)
	}
	d.origin[id] = where
	// Strict, like the API server's field validation: an unknown or duplicated field is a typo
	// that would otherwise be silently dropped.
	var obj interface{ SetNamespace(string) }
	switch kind {
	case "MessengerPage":
		p := &v1alpha1.MessengerPage{}
		d.pages[tn.Metadata.Name], obj = p, p
	case "HandoverPolicy":
		p := &v1alpha1.HandoverPolicy{}
		d.policies[tn.Metadata.Name], obj = p, p
	case "MessengerApp":
		a := &v1alpha1.MessengerApp{}
		d.apps[tn.Metadata.Name], obj = a, a
	default:
		s := &corev1.Secret{}
		d.secrets[tn.Metadata.Name], obj = s, s
	}
	if err := yaml.UnmarshalStrict(doc, obj); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	obj.SetNamespace(namespace)
	return nil
}
