// Package runner handles the events the callback accepted: it queues them per user, asks the
// handover engine what to do, and runs the engine's actions against the Graph API with retries
// that never repeat a call that may have taken effect.
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
// State: thread states and the dedup keys live in a store.Store (in memory by default: the API
// allows one replica per page). Timers (the agent idle timeout) run on the Clock and put a tick on
// the user's queue when the engine's NextTick comes.
package runner
