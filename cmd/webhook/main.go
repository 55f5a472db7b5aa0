// Command webhook serves one MessengerPage's Messenger webhook. In a cluster (what the operator
// deploys) it reads its page, policy and Secrets from the API server and follows their changes
// live; with --manifests it reads them from a directory of YAML files instead.
//
//	webhook --page NAMESPACE/NAME
//	webhook --manifests DIR --page NAMESPACE/NAME --listen :1337
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"k8s.io/klog/v2"

	"github.com/messenger-operator/messenger-operator/cmd/webhook/app"
)

func main() {
	opts, err := app.ParseFlags(os.Args[1:], os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "webhook:", err)
		os.Exit(2)
	}
	opts.Logger = app.NewLogger(opts)
	// client-go logs through klog: one logger for the whole process (a global, hence here).
	klog.SetSlogLogger(opts.Logger.With("logger", "client-go"))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := app.Run(ctx, opts); err != nil {
		fmt.Fprintln(os.Stderr, "webhook:", err)
		os.Exit(1)
	}
}
