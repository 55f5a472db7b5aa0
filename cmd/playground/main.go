// Command playground serves the handover playground on localhost: a page where a support lead
// chats as customers with the Pages of the Messenger Platform simulator, answers as the Page
// Inbox's agent, watches who owns each thread and the platform's timeline, moves the clock, and
// edits the HandoverPolicy in the cluster. `make playground` starts it with a local cluster, the
// operator, an app with two pages, the simulator and the webhook.
//
//	playground --simulator http://127.0.0.1:8089 --kubeconfig FILE --policy demo/support \
//	  --audit-log webhook.log --page 1000000000000001=ACME --customer 27458394012345678=Ada
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/playground"
)

// pairs is a repeated ID=NAME flag.
type pairs [][2]string

func (p *pairs) String() string { return fmt.Sprint(*p) }
func (p *pairs) Set(v string) error {
	id, name, ok := strings.Cut(v, "=")
	if !ok || id == "" || name == "" {
		return errors.New("want ID=NAME")
	}
	*p = append(*p, [2]string{id, name})
	return nil
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "playground:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("playground", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:8090", "address of the page; a loopback address only")
	sim := fs.String("simulator", "", "base URL of the Messenger Platform simulator (its control API)")
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig of an identity that may get and update the HandoverPolicy (and nothing more is needed)")
	policy := fs.String("policy", "", "the HandoverPolicy to show and edit, NAMESPACE/NAME")
	audit := fs.String("audit-log", "", "the webhook's log file, read for the handover audit")
	var pages, customers pairs
	fs.Var(&pages, "page", "a Page of the simulator, PAGE_ID=NAME (repeat)")
	fs.Var(&customers, "customer", "a customer the simulator knows, PSID=NAME (repeat)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ns, name, ok := strings.Cut(*policy, "/")
	switch {
	case *sim == "":
		return errors.New("--simulator is required")
	case !ok || ns == "" || name == "":
		return errors.New("--policy NAMESPACE/NAME is required")
	case len(pages) == 0 || len(customers) == 0:
		return errors.New("at least one --page and one --customer are required")
	}
	if err := loopback(*listen); err != nil {
		return err
	}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: *kubeconfig}, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	scheme := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		return err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return err
	}
	o := playground.Options{SimulatorURL: *sim, Client: c, Policy: types.NamespacedName{Namespace: ns, Name: name}, AuditLog: *audit}
	for _, p := range pages {
		o.Pages = append(o.Pages, playground.Page{ID: p[0], Name: p[1]})
	}
	for _, cu := range customers {
		o.Customers = append(o.Customers, playground.Customer{PSID: cu[0], Name: cu[1]})
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: playground.New(o).Handler(), ReadHeaderTimeout: 5 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	fmt.Printf("The playground is at http://%s/\n", ln.Addr())
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// loopback refuses an address that is not on the loopback interface: the page has no login.
func loopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--listen %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("--listen %q: the playground has no login and binds to a loopback address only (127.0.0.1, ::1, localhost)", addr)
	}
	return nil
}
