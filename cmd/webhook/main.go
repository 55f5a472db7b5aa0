// Command webhook serves the Messenger webhook of one MessengerPage (--page) or of every page of
// one MessengerApp (--app). In a cluster (what the operator deploys) it reads its page (or app
// and pages), policies and Secrets from the API server and follows their changes live; with
// --manifests it reads them from a directory of YAML files instead. It only parses its
// flags: the process is internal/webhook.Run.
//
//	webhook --page NAMESPACE/NAME [--verify-token-secret NAME]
//	webhook --app NAMESPACE/NAME [--verify-token-secret NAME]
//	webhook --manifests DIR --page NAMESPACE/NAME --listen :1337
//	webhook --manifests DIR --app NAMESPACE/NAME
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/go-logr/logr"
	"k8s.io/klog/v2"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/messenger-operator/messenger-operator/internal/webhook"
)

func main() {
	opts, err := parseFlags(os.Args[1:], os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "webhook:", err)
		os.Exit(2)
	}
	opts.Logger = webhook.NewLogger(opts)
	if limit := webhook.SetMemoryLimit(os.Getenv); limit > 0 {
		opts.Logger.Info("soft memory limit set", "bytes", limit)
	}
	// client-go logs through klog, the caches' informers through controller-runtime's logger: one
	// logger for the whole process (globals, hence here).
	klog.SetSlogLogger(opts.Logger.With("logger", "client-go"))
	ctrllog.SetLogger(logr.FromSlogHandler(opts.Logger.With("logger", "controller-runtime").Handler()))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := webhook.Run(ctx, opts); err != nil {
		fmt.Fprintln(os.Stderr, "webhook:", err)
		os.Exit(1)
	}
}
