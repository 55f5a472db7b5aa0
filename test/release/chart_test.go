package release

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"

	"github.com/messenger-operator/messenger-operator/test/testenv"
)

var chartDir = filepath.Join(testenv.RepoRoot(), "dist", "chart")

// Every option of the chart, set at once: the schema accepts it and helm lint --strict passes.
var allValues = []string{
	"replicas=2", "logLevel=debug",
	"imagePullSecrets[0].name=regcred",
	"podAnnotations.example\\.com/owner=support", "podLabels.team=support",
	"extraArgs[0]=--zap-encoder=console",
	"extraEnv[0].name=HTTPS_PROXY", "extraEnv[0].value=http://proxy.example:3128",
	"extraEnv[1].name=NO_PROXY", "extraEnv[1].value=10.0.0.0/8\\,.svc",
	"podDisruptionBudget.enabled=true",
	"topologySpreadConstraints[0].maxSkew=1", "topologySpreadConstraints[0].topologyKey=topology.kubernetes.io/zone",
	"topologySpreadConstraints[0].whenUnsatisfiable=ScheduleAnyway",
	"affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight=100",
	"affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey=kubernetes.io/hostname",
	"serviceMonitor.enabled=true", "serviceMonitor.labels.release=kube-prometheus-stack",
}

func setArgs(values []string) []string {
	var args []string
	for _, v := range values {
		args = append(args, "--set", v)
	}
	return args
}

// `helm lint --strict` passes with the defaults and with every option set.
func TestChartLintStrict(t *testing.T) {
	out := run(t, nil, helm(t), "lint", "--strict", chartDir)
	if !strings.Contains(string(out), "0 chart(s) failed") {
		t.Fatalf("helm lint:\n%s", out)
	}
	run(t, nil, helm(t), append([]string{"lint", "--strict", chartDir}, setArgs(allValues)...)...)
}

// values.schema.json refuses a misspelt key and a bad value, naming them, before anything is
// rendered.
func TestChartSchemaRefusesBadValues(t *testing.T) {
	for set, want := range map[string]string{
		"serviceMonitr.enabled=true":             "serviceMonitr",
		"logLevel=verbose":                       "logLevel",
		"podDisruptionBudget.minAvailable=-1":    "minAvailable",
		"serviceMonitor.authorization.tokn=x":    "tokn",
		"extraArgs[0]=verbose":                   "extraArgs",
		"topologySpreadConstraints[0].maxSkew=1": "topologyKey",
	} {
		out, err := runErr(nil, helm(t), "template", "mo", chartDir, "--set", set)
		if err == nil || !strings.Contains(string(out), want) {
			t.Errorf("--set %s: %v\n%s", set, err, out)
		}
	}
}

// rendered is the chart's output by kind/name.
func render(t *testing.T, values ...string) map[string][]byte {
	t.Helper()
	out := run(t, nil, helm(t), append([]string{"template", "rel", chartDir, "-n", "ops"}, setArgs(values)...)...)
	objs := map[string][]byte{}
	for _, doc := range docs(out) {
		var meta struct {
			Kind     string
			Metadata struct{ Name string }
		}
		must(t, yaml.Unmarshal(doc, &meta))
		if meta.Kind != "" {
			objs[meta.Kind+"/"+meta.Metadata.Name] = doc
		}
	}
	return objs
}

// The values reach the manager's pods: pull secrets, annotations and labels, flags, proxy
// environment, log level, the budget, the spread (with the pods' own selector) and affinity.
func TestChartValuesReachTheManager(t *testing.T) {
	objs := render(t, allValues...)
	d := &appsv1.Deployment{}
	must(t, yaml.UnmarshalStrict(objs["Deployment/rel-messenger-operator-manager"], d))
	pod := d.Spec.Template
	c := pod.Spec.Containers[0]
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	sel := d.Spec.Selector.MatchLabels
	switch {
	case len(pod.Spec.ImagePullSecrets) != 1 || pod.Spec.ImagePullSecrets[0].Name != "regcred":
		t.Errorf("imagePullSecrets %v", pod.Spec.ImagePullSecrets)
	case pod.Annotations["example.com/owner"] != "support" || pod.Labels["team"] != "support":
		t.Errorf("pod metadata %v %v", pod.Annotations, pod.Labels)
	case !slices.Contains(c.Args, "--zap-log-level=debug") || !slices.Contains(c.Args, "--zap-encoder=console"):
		t.Errorf("args %v", c.Args)
	case env["HTTPS_PROXY"] != "http://proxy.example:3128" || env["NO_PROXY"] != "10.0.0.0/8,.svc" || env["WATCH_NAMESPACE"] != "":
		t.Errorf("env %v", env)
	case len(pod.Spec.TopologySpreadConstraints) != 1 || pod.Spec.TopologySpreadConstraints[0].LabelSelector == nil ||
		!equalMaps(pod.Spec.TopologySpreadConstraints[0].LabelSelector.MatchLabels, sel):
		t.Errorf("topology spread %+v, want the selector %v", pod.Spec.TopologySpreadConstraints, sel)
	case pod.Spec.Affinity == nil || pod.Spec.Affinity.PodAntiAffinity == nil:
		t.Errorf("affinity %+v", pod.Spec.Affinity)
	}
	for k, v := range sel {
		if pod.Labels[k] != v {
			t.Errorf("pod label %s=%q, the selector wants %q", k, pod.Labels[k], v)
		}
	}
	pdb := &policyv1.PodDisruptionBudget{}
	must(t, yaml.UnmarshalStrict(objs["PodDisruptionBudget/rel-messenger-operator-manager"], pdb))
	if pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.IntValue() != 1 || pdb.Spec.MaxUnavailable != nil || !equalMaps(pdb.Spec.Selector.MatchLabels, sel) {
		t.Errorf("PodDisruptionBudget %+v", pdb.Spec)
	}
	// maxUnavailable instead, as a percentage.
	pdb = &policyv1.PodDisruptionBudget{}
	must(t, yaml.UnmarshalStrict(render(t, "podDisruptionBudget.enabled=true", "podDisruptionBudget.maxUnavailable=50%")["PodDisruptionBudget/rel-messenger-operator-manager"], pdb))
	if pdb.Spec.MaxUnavailable == nil || pdb.Spec.MaxUnavailable.String() != "50%" || pdb.Spec.MinAvailable != nil {
		t.Errorf("PodDisruptionBudget with maxUnavailable %+v", pdb.Spec)
	}
	// Defaults: log level info, no budget, no pull secrets, no spread.
	objs = render(t)
	d = &appsv1.Deployment{}
	must(t, yaml.UnmarshalStrict(objs["Deployment/rel-messenger-operator-manager"], d))
	if _, ok := objs["PodDisruptionBudget/rel-messenger-operator-manager"]; ok || !slices.Contains(d.Spec.Template.Spec.Containers[0].Args, "--zap-log-level=info") ||
		d.Spec.Template.Spec.ImagePullSecrets != nil || d.Spec.Template.Spec.TopologySpreadConstraints != nil {
		t.Errorf("defaults: %v, %+v", keys(objs), d.Spec.Template.Spec)
	}
}

// The ServiceMonitor carries the labels Prometheus selects by and scrapes with a token (no
// deprecated bearerTokenFile) of a ServiceAccount bound to the metrics-reader ClusterRole; with
// createToken off it reads the Secret named.
func TestChartServiceMonitor(t *testing.T) {
	objs := render(t, "serviceMonitor.enabled=true", "serviceMonitor.labels.release=kube-prometheus-stack")
	var sm struct {
		Metadata struct{ Labels map[string]string }
		Spec     struct {
			Endpoints []map[string]any
		}
	}
	must(t, yaml.Unmarshal(objs["ServiceMonitor/rel-messenger-operator"], &sm))
	if sm.Metadata.Labels["release"] != "kube-prometheus-stack" || len(sm.Spec.Endpoints) != 1 {
		t.Fatalf("ServiceMonitor %+v", sm)
	}
	ep := sm.Spec.Endpoints[0]
	if _, ok := ep["bearerTokenFile"]; ok {
		t.Error("the ServiceMonitor uses the deprecated bearerTokenFile")
	}
	want := map[string]any{"type": "Bearer", "credentials": map[string]any{"name": "rel-messenger-operator-metrics-scraper", "key": "token"}}
	if stringify(ep["authorization"]) != stringify(want) {
		t.Errorf("authorization %v, want %v", ep["authorization"], want)
	}
	secret := &corev1.Secret{}
	must(t, yaml.UnmarshalStrict(objs["Secret/rel-messenger-operator-metrics-scraper"], secret))
	if secret.Type != corev1.SecretTypeServiceAccountToken || secret.Annotations[corev1.ServiceAccountNameKey] != "rel-messenger-operator-metrics-scraper" {
		t.Errorf("token Secret %+v", secret)
	}
	if _, ok := objs["ServiceAccount/rel-messenger-operator-metrics-scraper"]; !ok {
		t.Errorf("no scraper ServiceAccount: %v", keys(objs))
	}
	crb := &rbacv1.ClusterRoleBinding{}
	must(t, yaml.UnmarshalStrict(objs["ClusterRoleBinding/rel-messenger-operator-metrics-scraper"], crb))
	if crb.RoleRef.Name != "rel-messenger-operator-metrics-reader" || len(crb.Subjects) != 1 || crb.Subjects[0].Name != "rel-messenger-operator-metrics-scraper" || crb.Subjects[0].Namespace != "ops" {
		t.Errorf("ClusterRoleBinding %+v", crb)
	}
	if _, ok := objs["ClusterRole/rel-messenger-operator-metrics-reader"]; !ok {
		t.Errorf("no metrics-reader ClusterRole: %v", keys(objs))
	}

	// An existing Secret instead: no account, token or binding made.
	objs = render(t, "serviceMonitor.enabled=true", "serviceMonitor.authorization.createToken=false",
		"serviceMonitor.authorization.secretName=prom-token", "serviceMonitor.authorization.secretKey=tok")
	must(t, yaml.Unmarshal(objs["ServiceMonitor/rel-messenger-operator"], &sm))
	want = map[string]any{"type": "Bearer", "credentials": map[string]any{"name": "prom-token", "key": "tok"}}
	if stringify(sm.Spec.Endpoints[0]["authorization"]) != stringify(want) {
		t.Errorf("authorization %v, want %v", sm.Spec.Endpoints[0]["authorization"], want)
	}
	for _, k := range []string{"Secret/rel-messenger-operator-metrics-scraper", "ClusterRoleBinding/rel-messenger-operator-metrics-scraper"} {
		if _, ok := objs[k]; ok {
			t.Errorf("%s made with createToken=false", k)
		}
	}
	out, err := runErr(nil, helm(t), "template", "rel", chartDir, "--set", "serviceMonitor.enabled=true", "--set", "serviceMonitor.authorization.createToken=false")
	if err == nil || !strings.Contains(string(out), "serviceMonitor.authorization.secretName is required") {
		t.Errorf("no token and no Secret: %v\n%s", err, out)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func stringify(v any) string {
	b, _ := yaml.Marshal(v)
	return string(b)
}

// The CRD downgrade guard is made where the API server serves ValidatingAdmissionPolicy (helm
// asks it; `helm template` is told here), with its binding denying; off with the value or without
// templated CRDs. (test/kwok's helm upgrade test runs it against an API server.)
func TestChartCRDDowngradeGuard(t *testing.T) {
	const api = "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy"
	objs := render(t)
	if _, ok := objs["ValidatingAdmissionPolicy/rel-messenger-operator-crd-downgrade-guard"]; ok {
		t.Fatal("the guard rendered for an API server that does not serve ValidatingAdmissionPolicy")
	}
	out := run(t, nil, helm(t), "template", "rel", chartDir, "-n", "ops", "--api-versions", api)
	objs = map[string][]byte{}
	for _, doc := range docs(out) {
		var meta struct {
			Kind     string
			Metadata struct{ Name string }
		}
		must(t, yaml.Unmarshal(doc, &meta))
		objs[meta.Kind+"/"+meta.Metadata.Name] = doc
	}
	policy := &admissionregistrationv1.ValidatingAdmissionPolicy{}
	must(t, yaml.UnmarshalStrict(objs["ValidatingAdmissionPolicy/rel-messenger-operator-crd-downgrade-guard"], policy))
	binding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{}
	must(t, yaml.UnmarshalStrict(objs["ValidatingAdmissionPolicyBinding/rel-messenger-operator-crd-downgrade-guard"], binding))
	if binding.Spec.PolicyName != policy.Name || !slices.Equal(binding.Spec.ValidationActions, []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny}) ||
		len(policy.Spec.Validations) != 1 || *policy.Spec.FailurePolicy != admissionregistrationv1.Fail {
		t.Fatalf("guard %+v, binding %+v", policy.Spec, binding.Spec)
	}
	for _, set := range []string{"crds.downgradeGuard=false", "crds.enabled=false"} {
		out := run(t, nil, helm(t), "template", "rel", chartDir, "-n", "ops", "--api-versions", api, "--set", set)
		if strings.Contains(string(out), "kind: ValidatingAdmissionPolicy") {
			t.Errorf("the guard rendered with %s", set)
		}
	}
}
