package specs

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/contract"
)

// Default resources of the webhook container when spec.webhook.resources is empty.
var (
	defaultCPURequest    = resource.MustParse("50m")
	defaultMemoryRequest = resource.MustParse("64Mi")
	defaultMemoryLimit   = resource.MustParse("256Mi")
)

// Deployment is the webhook of a page or an app: restricted pod security, probes on the probe
// port, the spec hash on the pod template and, with the Redis store, a rolling update that never
// drops below the desired replicas and pods spread over nodes.
func Deployment(w Webhook) *appsv1ac.DeploymentApplyConfiguration {
	d := appsv1ac.Deployment(w.Name(), w.Namespace())
	w.meta(d.ObjectMetaApplyConfiguration)
	d.WithSpec(appsv1ac.DeploymentSpec().
		WithReplicas(w.Replicas()).
		WithRevisionHistoryLimit(3).
		WithSelector(metav1ac.LabelSelector().WithMatchLabels(w.SelectorLabels())).
		WithStrategy(strategy(w)).
		WithTemplate(podTemplate(w)))
	stamp(d, d.ObjectMetaApplyConfiguration)
	return d
}

// strategy: with the memory store two pods must never serve at once (each would keep its own
// dedup keys and timers), so the old pod goes before the new one starts (Recreate: a short gap
// during which Meta retries). With Redis the replicas share everything: a surge of one pod and
// none unavailable.
func strategy(w Webhook) *appsv1ac.DeploymentStrategyApplyConfiguration {
	if w.webhookSpec().Redis() == nil {
		return appsv1ac.DeploymentStrategy().WithType(appsv1.RecreateDeploymentStrategyType)
	}
	return appsv1ac.DeploymentStrategy().
		WithType(appsv1.RollingUpdateDeploymentStrategyType).
		WithRollingUpdate(appsv1ac.RollingUpdateDeployment().
			WithMaxUnavailable(intstr.FromInt32(0)).
			WithMaxSurge(intstr.FromInt32(1)))
}

func podTemplate(w Webhook) *corev1ac.PodTemplateSpecApplyConfiguration {
	spec := w.webhookSpec()
	annotations := maps.Clone(spec.PodAnnotations)
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[SpecHashAnnotation] = PodSpecHash(w)

	pod := corev1ac.PodSpec().
		WithServiceAccountName(w.Name()).
		WithAutomountServiceAccountToken(true).
		WithEnableServiceLinks(false).
		WithTerminationGracePeriodSeconds(TerminationGracePeriodSeconds).
		WithSecurityContext(corev1ac.PodSecurityContext().
			WithRunAsNonRoot(true).
			WithSeccompProfile(corev1ac.SeccompProfile().WithType(corev1.SeccompProfileTypeRuntimeDefault))).
		WithContainers(container(w))
	if len(spec.NodeSelector) > 0 {
		pod.WithNodeSelector(spec.NodeSelector)
	}
	for i := range spec.Tolerations {
		pod.WithTolerations(toleration(spec.Tolerations[i]))
	}
	if spec.Redis() != nil {
		// Best effort (ScheduleAnyway): a one-node cluster still runs every replica.
		pod.WithTopologySpreadConstraints(corev1ac.TopologySpreadConstraint().
			WithMaxSkew(1).
			WithTopologyKey(corev1.LabelHostname).
			WithWhenUnsatisfiable(corev1.ScheduleAnyway).
			WithLabelSelector(metav1ac.LabelSelector().WithMatchLabels(w.SelectorLabels())).
			WithMatchLabelKeys(appsv1.DefaultDeploymentUniqueLabelKey))
	}
	return corev1ac.PodTemplateSpec().
		WithLabels(w.podLabels()).
		WithAnnotations(annotations).
		WithSpec(pod)
}

func container(w Webhook) *corev1ac.ContainerApplyConfiguration {
	probe := func(path string) *corev1ac.ProbeApplyConfiguration {
		return corev1ac.Probe().WithHTTPGet(corev1ac.HTTPGetAction().
			WithPath(path).WithPort(intstr.FromString(probePortName)))
	}
	return corev1ac.Container().
		WithName(containerName).
		WithImage(w.Image()).
		WithCommand("/webhook").
		WithArgs(w.Args()...).
		WithEnv(env(w)...).
		WithPorts(
			corev1ac.ContainerPort().WithName(httpPortName).WithContainerPort(contract.WebhookPort).WithProtocol(corev1.ProtocolTCP),
			corev1ac.ContainerPort().WithName(probePortName).WithContainerPort(contract.ProbePort).WithProtocol(corev1.ProtocolTCP)).
		WithLivenessProbe(probe(contract.HealthzPath).WithPeriodSeconds(10).WithFailureThreshold(3)).
		WithReadinessProbe(probe(contract.ReadyzPath).WithPeriodSeconds(5).WithFailureThreshold(2)).
		WithResources(resources(w.webhookSpec().Resources)).
		WithSecurityContext(corev1ac.SecurityContext().
			WithRunAsNonRoot(true).
			WithReadOnlyRootFilesystem(true).
			WithAllowPrivilegeEscalation(false).
			WithCapabilities(corev1ac.Capabilities().WithDrop("ALL")).
			WithSeccompProfile(corev1ac.SeccompProfile().WithType(corev1.SeccompProfileTypeRuntimeDefault)))
}

// env is the pod's namespace (downward API), an app's name (APP, read by --app), the audit key
// (from the generated Secret), its Role's name (ROLE), while the
// generated verify token is in use the name of its Secret (the webhook learns it from its
// Deployment, never from the owner's status) and, with Redis, the store's URL and key prefix.
func env(w Webhook) []*corev1ac.EnvVarApplyConfiguration {
	out := []*corev1ac.EnvVarApplyConfiguration{
		corev1ac.EnvVar().WithName(contract.EnvPodNamespace).WithValueFrom(
			corev1ac.EnvVarSource().WithFieldRef(corev1ac.ObjectFieldSelector().WithFieldPath("metadata.namespace"))),
		corev1ac.EnvVar().WithName(contract.EnvMemoryLimit).WithValueFrom(
			corev1ac.EnvVarSource().WithResourceFieldRef(corev1ac.ResourceFieldSelector().WithResource("limits.memory"))),
	}
	if w.App != nil {
		out = append(out, corev1ac.EnvVar().WithName(contract.EnvApp).WithValue(w.App.Name))
	}
	// The audit key, read by the kubelet like the Redis URL: the Role is not widened.
	out = append(out, corev1ac.EnvVar().WithName(contract.EnvAuditKey).WithValueFrom(corev1ac.EnvVarSource().WithSecretKeyRef(
		corev1ac.SecretKeySelector().WithName(w.AuditKeySecretName()).WithKey(v1alpha1.GeneratedAuditKeyKey))))
	if w.VerifyTokenSecret != "" {
		out = append(out, corev1ac.EnvVar().WithName(contract.EnvVerifyTokenSecret).WithValue(w.VerifyTokenSecret))
	}
	if len(w.GraphAPIHosts) > 0 {
		out = append(out, corev1ac.EnvVar().WithName(contract.EnvGraphAPIHosts).WithValue(strings.Join(w.GraphAPIHosts, ",")))
	}
	if r := w.webhookSpec().Redis(); r != nil {
		// The kubelet reads the URL for the pod: the webhook's Role is not widened to its Secret.
		out = append(out,
			corev1ac.EnvVar().WithName(contract.EnvRedisURL).WithValueFrom(corev1ac.EnvVarSource().WithSecretKeyRef(
				corev1ac.SecretKeySelector().WithName(r.URLSecretRef.Name).WithKey(r.URLSecretRef.Key))),
			corev1ac.EnvVar().WithName(contract.EnvRedisKeyPrefix).WithValue(w.RedisKeyPrefix()))
	}
	// The Role the webhook waits for before watching a Secret (Role, AppRole: it may read it).
	out = append(out, corev1ac.EnvVar().WithName(contract.EnvRole).WithValue(w.Name()))
	return out
}

// resources are the user's, or small defaults (a memory limit, no CPU limit so bursts of events
// are not throttled).
func resources(r corev1.ResourceRequirements) *corev1ac.ResourceRequirementsApplyConfiguration {
	if len(r.Requests) == 0 && len(r.Limits) == 0 && len(r.Claims) == 0 {
		return corev1ac.ResourceRequirements().
			WithRequests(corev1.ResourceList{corev1.ResourceCPU: defaultCPURequest, corev1.ResourceMemory: defaultMemoryRequest}).
			WithLimits(corev1.ResourceList{corev1.ResourceMemory: defaultMemoryLimit})
	}
	ac := corev1ac.ResourceRequirements()
	if len(r.Requests) > 0 {
		ac.WithRequests(r.Requests)
	}
	if len(r.Limits) > 0 {
		ac.WithLimits(r.Limits)
	}
	for _, c := range r.Claims {
		claim := corev1ac.ResourceClaim().WithName(c.Name)
		if c.Request != "" {
			claim.WithRequest(c.Request)
		}
		ac.WithClaims(claim)
	}
	return ac
}

func toleration(t corev1.Toleration) *corev1ac.TolerationApplyConfiguration {
	ac := corev1ac.Toleration()
	if t.Key != "" {
		ac.WithKey(t.Key)
	}
	if t.Operator != "" {
		ac.WithOperator(t.Operator)
	}
	if t.Value != "" {
		ac.WithValue(t.Value)
	}
	if t.Effect != "" {
		ac.WithEffect(t.Effect)
	}
	if t.TolerationSeconds != nil {
		ac.WithTolerationSeconds(*t.TolerationSeconds)
	}
	return ac
}

// PodSpecHash hashes exactly what should roll the webhook's pods: spec.webhook (but replicas:
// scaling needs no new pods), the image, the flags, which generated verify token Secret is in
// use and the hash of the Redis URL (a new store is never switched live). The other Secrets'
// contents and the HandoverPolicy are not inputs: the webhook reads them live, so their edits
// never restart it.
func PodSpecHash(w Webhook) string {
	spec := w.webhookSpec().DeepCopy()
	spec.Replicas = nil
	spec.Image = ""
	b, err := json.Marshal(struct {
		Webhook           *v1alpha1.WebhookSpec `json:"webhook"`
		Image             string                `json:"image"`
		Args              []string              `json:"args"`
		VerifyTokenSecret string                `json:"verifyTokenSecret,omitempty"`
		StoreURLHash      string                `json:"storeURLHash,omitempty"`
	}{spec, w.Image(), w.Args(), w.VerifyTokenSecret, w.StoreURLHash})
	if err != nil {
		panic(err) // plain data: cannot fail
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}
