// Package webhook is the webhook process of a MessengerPage: Run wires its parts, serves Meta's
// calls, /healthz, /readyz and /metrics, and drains on shutdown. cmd/webhook parses the flags
// into Options and calls Run; tests call Run in-process.
//
// The parts, one package each:
//
//   - config loads the page, its HandoverPolicy and its Secrets (typed caches scoped by name in
//     a cluster, or a directory of manifests) and compiles them into a config.Page;
//   - callback is the HTTP contract with Meta: the verification GET, the signature, the parse of
//     the signed POST and its acknowledgement;
//   - runner queues the accepted events per user, drives the handover engine, and makes the
//     Graph calls with their retries and timers;
//   - store holds what the runner remembers between events (thread states, dedup keys);
//   - status writes the conditions only the webhook can see into the page's status.
//
// Server puts the callback in front of the runner and applies each config.Page to both. A policy
// edit takes this path: the API server -> config's cache -> config.Build -> config.Applier ->
// Server.Apply -> the next event.
package webhook
