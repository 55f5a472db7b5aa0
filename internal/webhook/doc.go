// Package webhook is the page's Messenger webhook: it verifies the callback (GET), takes signed
// events (POST), acknowledges them fast and hands them, one user at a time, to the handover
// engine; it then runs the engine's actions against the Graph API with retries that never
// repeat a call that may have taken effect.
//
// Use (cmd/webhook):
//
//	srv := webhook.New(webhook.Options{Logger: log, Reporter: status, Registry: reg})
//	srv.Apply(cfg)                          // on every change of page, Secret or policy
//	http.Handle("/", srv.Handler())         // 404 outside cfg.Path, 503 until Apply
//	...
//	srv.Shutdown(ctx)                       // on SIGTERM: 503 for new POSTs, drain, return
//
// Request path (the 5-second acknowledgement): body limit (413), X-Hub-Signature-256 over the
// raw bytes (403), a one-pass JSON scan (400), events for this page only, dedup, enqueue, 200.
// A full queue answers 503 without marking anything seen, so Meta's retry is handled later.
//
// Delivery: every user (PSID) has a queue, found through a sharded map; a fixed pool of workers
// runs ready queues, one user at a time each, so a user's events are decided in order and never
// concurrently, while users proceed in parallel. A Graph call that certainly did not take effect
// (graph.Meaning.Retry: not sent, transient, throttled) is retried with capped exponential
// backoff and jitter for Options.RetryWindow; the user's queue waits on a timer meanwhile, not a
// worker. A call that may have taken effect (sent, then a timeout or a reset) is never repeated;
// nor is a refusal. Every result goes to the engine's Outcome, its failure translated from the
// Graph client's meaning (failureOf); an action's Then runs only after it succeeded.
//
// State: thread states and the dedup keys live in a Store (in memory by default: the API allows
// one replica per page). Timers (the agent idle timeout) run on the Clock and put a tick on the
// user's queue when the engine's NextTick comes.
package webhook
