package controllers_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/yaml"

	"github.com/messenger-operator/messenger-operator/controllers"
	"github.com/messenger-operator/messenger-operator/test/testenv"
)

const testImage = "registry.example/messenger-operator:test"

// pageSuite is one control plane and one manager running the MessengerPage reconciler as a user
// bound to the generated ClusterRole (config/rbac/role.yaml), so a verb missing from the markers,
// or a Role granting more than the manager holds (RBAC escalation prevention), fails the tests.
type pageSuite struct {
	ctx    context.Context
	env    *testenv.Env
	c      client.Client // admin, uncached: the test's own reads and writes
	r      *controllers.MessengerPageReconciler
	writes *requestLog
	// ahead moves the reconciler's clock forward (subscription rechecks), in nanoseconds.
	ahead atomic.Int64
}

// TestMessengerPage runs the reconciler's tests on one control plane; each subtest works in its
// own namespace.
func TestMessengerPage(t *testing.T) {
	if os.Getenv("TEST_LOG") != "" {
		ctrl.SetLogger(zap.New(zap.UseDevMode(true)))
	} else {
		ctrl.SetLogger(logr.Discard())
	}
	env, err := testenv.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = env.Stop() }()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := &pageSuite{ctx: ctx, env: env, c: env.Client, writes: &requestLog{}}

	cfg := s.operatorConfig(t)
	cfg.Wrap(s.writes.wrap)
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 env.Scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Cache:                  controllers.CacheOptions(nil),
		Controller:             config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := controllers.SetupIndexes(ctx, mgr.GetFieldIndexer()); err != nil {
		t.Fatal(err)
	}
	s.r = &controllers.MessengerPageReconciler{
		Client:                  mgr.GetClient(),
		Scheme:                  mgr.GetScheme(),
		APIReader:               mgr.GetAPIReader(),
		Recorder:                mgr.GetEventRecorder("messenger-operator"),
		WebhookImage:            testImage,
		MaxConcurrentReconciles: 2,
		Now:                     func() time.Time { return time.Now().Add(time.Duration(s.ahead.Load())) },
		GatewayAPIRecheck:       500 * time.Millisecond,
		GraphAPIHosts:           suiteGraphHosts,
	}
	if err := s.r.SetupWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	apps := &controllers.MessengerAppReconciler{
		Client:                  mgr.GetClient(),
		Scheme:                  mgr.GetScheme(),
		APIReader:               mgr.GetAPIReader(),
		Recorder:                mgr.GetEventRecorder("messenger-operator"),
		WebhookImage:            testImage,
		MaxConcurrentReconciles: 2,
		GraphAPIHosts:           suiteGraphHosts,
		GatewayAPIRecheck:       500 * time.Millisecond,
		// Wider than in production, so that AppJoinWrites sees its pages in few batches on a
		// loaded machine.
		PageBatch: 500 * time.Millisecond,
	}
	if err := apps.SetupWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	}()

	for _, tc := range []struct {
		name string
		fn   func(*testing.T, *pageSuite)
	}{
		{"OwnedObjects", testOwnedObjects},
		{"DriftIsCorrected", testDrift},
		{"GeneratedVerifyToken", testGeneratedVerifyToken},
		{"AuditKey", testAuditKey},
		{"SecretAndPolicyWatches", testSecretAndPolicyWatches},
		{"StatusReasons", testStatusReasons},
		{"PageIDConflict", testPageIDConflict},
		{"NameClash", testNameClash},
		{"SharedApp", testSharedApp},
		{"IngressTLS", testIngressTLS},
		{"GraphUnauthorized", testGraphUnauthorized},
		{"ScaledToZero", testScaledToZero},
		{"WebhookRBAC", testWebhookRBAC},
		{"ZeroWritesInSteadyState", testZeroWrites},
		{"GitOpsSamples", testGitOpsSamples},
		{"SubscriptionValidation", testSubscriptionValidation},
		{"Subscription", testSubscription},
		{"SubscriptionSharedApp", testSubscriptionSharedApp},
		{"Profile", testProfile},
		{"ProfileAppPage", testProfileAppPage},
		{"SubscriptionVerifyTokenRotation", testSubscriptionVerifyTokenRotation},
		{"GraphOffWorkers", testGraphOffWorkers},
		{"GraphHostNotAllowed", testGraphHostNotAllowed},
		{"NetworkPolicy", testNetworkPolicy},
		{"AppWebhook", testAppWebhook},
		{"AppClaims", testAppClaims},
		{"AppMove", testAppMove},
		{"AppRBAC", testAppRBAC},
		{"AppCallback", testAppCallback},
		{"AppSamples", testAppSamples},
		{"AppZeroWrites", testAppZeroWrites},
		{"AppSecretReads", testAppSecretReads},
		{"WebhookStore", testWebhookStore},
		{"AppJoinWrites", testAppJoinWrites},
		{"PageToken", testPageToken},
		{"AppPageToken", testAppPageToken},
		{"TokenFirstStatus", testTokenFirstStatus},
		// It installs the PodMonitor CRD into the control plane.
		{"PodMonitor", testPodMonitor},
		// Last: it installs the Gateway API CRDs into the control plane.
		{"HTTPRoute", testHTTPRoute},
	} {
		if !t.Run(tc.name, func(t *testing.T) { tc.fn(t, s) }) && os.Getenv("TEST_FAILFAST") != "" {
			return
		}
	}
}

// operatorConfig is a connection as a user bound to the ClusterRole controller-gen writes from
// the rbac markers.
func (s *pageSuite) operatorConfig(t *testing.T) *rest.Config {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "config", "rbac", "role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	role := &rbacv1.ClusterRole{}
	if err := yaml.Unmarshal([]byte(strings.TrimPrefix(string(data), "---\n")), role); err != nil {
		t.Fatal(err)
	}
	const user = "messenger-operator"
	s.must(t, s.c.Create(s.ctx, role))
	s.must(t, s.c.Create(s.ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "messenger-operator-manager"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}},
	}))
	cfg, err := s.env.AddUser(user)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// requestLog records the mutating requests (anything but GET: list and watch are GETs too) the
// manager sends.
type requestLog struct {
	mu   sync.Mutex
	reqs []string
	// secretGets are the GETs of one Secret by name (not lists, not watches).
	secretGets []string
}

func (l *requestLog) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		switch {
		case req.Method != http.MethodGet:
			l.mu.Lock()
			l.reqs = append(l.reqs, req.Method+" "+req.URL.Path)
			l.mu.Unlock()
		case strings.Contains(req.URL.Path, "/secrets/") && req.URL.Query().Get("watch") == "":
			l.mu.Lock()
			l.secretGets = append(l.secretGets, req.URL.Path)
			l.mu.Unlock()
		}
		return rt.RoundTrip(req)
	})
}

func (l *requestLog) mark() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.reqs)
}

// secretGetsMark and secretGetsSince are mark and since for the GETs of Secrets.
func (l *requestLog) secretGetsMark() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.secretGets)
}

func (l *requestLog) secretGetsSince(mark int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.secretGets[mark:]...)
}

func (l *requestLog) since(mark int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.reqs[mark:]...)
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func (s *pageSuite) must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// eventually polls cond until it holds or 30s pass; cond returns a description of what it saw.
func (s *pageSuite) eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var seen string
	for time.Now().Before(deadline) {
		var ok bool
		if ok, seen = cond(); ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s; last seen: %s", what, seen)
}

// consistently checks that cond keeps holding for a while (used only where nothing should
// happen; the duration bounds the test, it is not asserted).
func (s *pageSuite) consistently(t *testing.T, what string, d time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if ok, seen := cond(); !ok {
			t.Fatalf("%s stopped holding: %s", what, seen)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
