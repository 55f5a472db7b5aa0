// Command simulator runs the Messenger Platform simulator (internal/simulator) as a process: the
// Graph API for a webhook to call, signed webhooks to the webhook's callback, and a JSON control
// API under /_sim/ to drive the customer, the Page Inbox agent and other apps. See README.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/messenger-operator/messenger-operator/internal/simulator"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "simulator:", err)
		os.Exit(1)
	}
}

// run parses args, serves until ctx ends, and calls ready with the base URL once listening.
func run(ctx context.Context, args []string, logOut io.Writer, ready func(baseURL string)) error {
	fs := flag.NewFlagSet("simulator", flag.ContinueOnError)
	fs.SetOutput(logOut)
	var (
		configPath  = fs.String("config", "", "JSON configuration file (pages, apps, tokens, behaviour); the app/page flags below are then ignored")
		listen      = fs.String("listen", "127.0.0.1:8089", "listen address (Graph API and /_sim/ control API)")
		version     = fs.String("graph-version", "v25.0", "Graph API version reported on subscriptions (any /vNN.N/ path is served)")
		pageID      = fs.String("page-id", "1000000000000001", "Page id")
		pageName    = fs.String("page-name", "Demo Page", "Page name")
		appID       = fs.String("app-id", "111111111111111", "our app's id")
		appName     = fs.String("app-name", "bot", "our app's readable name in transcripts")
		appSecret   = fs.String("app-secret", "", "our app's secret (or env SIM_APP_SECRET); signs webhooks to the callback")
		callback    = fs.String("callback", "", "our webhook's callback URL; empty: the webhook registers it via POST /{app-id}/subscriptions")
		verifyToken = fs.String("verify-token", "", "verify token recorded with a preconfigured callback")
		pageToken   = fs.String("page-token", "", "Page access token accepted for our app (or env SIM_PAGE_TOKEN)")
		canTake     = fs.Bool("take", true, "our app may take thread control")
		proof       = fs.Bool("require-appsecret-proof", false, "our app has \"Require App Secret\" on: every call needs appsecret_proof")
		getStarted  = fs.String("get-started", "", "preset the Page's Get Started payload (messenger_profile get_started)")
		defaultApp  = fs.String("default-app", "", "Conversation Routing default app: our app's name (default), inbox, or none for zero-config")
		clock       = fs.String("clock", "offset", "clock: offset (wall time, /_sim/clock/advance skips ahead), manual (stands still) or real")
		delivery    = fs.Duration("delivery-timeout", 5*time.Second, "time a callback has to answer 200")
		ids         = fs.String("ids", "strings", "ids in webhook bodies: strings, numbers or documented")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	var cfg *fileConfig
	if *configPath != "" {
		var err error
		if cfg, err = loadConfig(*configPath); err != nil {
			return err
		}
		if cfg.Listen == "" || isSet(fs, "listen") {
			cfg.Listen = *listen
		}
	} else {
		secret := firstNonEmpty(*appSecret, os.Getenv("SIM_APP_SECRET"))
		if secret == "" {
			return fmt.Errorf("-app-secret (or SIM_APP_SECRET) is required without -config")
		}
		def := *defaultApp
		if def == "" {
			def = *appName
		}
		cfg = &fileConfig{Listen: *listen, GraphVersion: *version, Clock: *clock, DeliveryTimeout: delivery.String(), IDs: *ids,
			Pages: []pageConfig{{ID: *pageID, Name: *pageName, DefaultApp: def, GetStartedPayload: *getStarted}},
			Apps: []appConfig{{ID: *appID, Name: *appName, Secret: secret, CallbackURL: *callback, VerifyToken: *verifyToken,
				CanTake: *canTake, RequireAppSecretProof: *proof}}}
		if tok := firstNonEmpty(*pageToken, os.Getenv("SIM_PAGE_TOKEN")); tok != "" {
			cfg.Tokens = []tokenConfig{{App: *appName, Page: *pageID, Token: tok}}
		}
	}
	opts, err := cfg.options()
	if err != nil {
		return err
	}
	logger := log.New(logOut, "simulator: ", log.LstdFlags)
	opts.Logf = logger.Printf
	sim, err := simulator.New(opts)
	if err != nil {
		return err
	}
	defer sim.Close()
	srv, err := sim.Start(cfg.Listen)
	if err != nil {
		return err
	}
	gv := opts.GraphVersion
	if gv == "" {
		gv = "v25.0"
	}
	logger.Printf("listening on %s (Graph base URL %s/%s, control API %s%s)", srv.URL, srv.URL, gv, srv.URL, strings.TrimSuffix(simulator.ControlPrefix, "/"))
	if ready != nil {
		ready(srv.URL)
	}
	<-ctx.Done()
	sim.Close()
	return srv.Close()
}

func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
