// Package simulator is a stand-in for the Messenger Platform (Graph API + webhooks + Conversation
// Routing) built from /work/shared/reference/messenger-platform.md, so end-to-end tests and the demo
// can run without Meta.
//
// It deliberately shares no code with the webhook, the handover engine or the Graph client of this
// repository (it imports only the standard library): a misunderstanding of the platform there must
// not be copied here, or the tests would agree with the bug.
//
// What it models:
//   - Graph API endpoints under /{version}/... (Handler): messages (send limits, 24 h window,
//     exclusive control, inline thread_control), pass/take/request/release/extend_thread_control,
//     thread_owner, user profile, /{page}/subscribed_apps, /{app}/subscriptions (with the
//     synchronous verification GET), Meta's error JSON.
//   - Page tokens per (app, page) that can be revoked and re-issued.
//   - Conversation Routing per Page, with a default app or in zero-config mode, ownership expiry
//     after 24 h of inactivity on a controllable Clock.
//   - Signed webhook delivery (X-Hub-Signature-256 with each app's secret), messaging vs standby,
//     echoes, messaging_handovers, batching, redelivery, disabling after an hour of failures.
//   - A scripted customer, the Page Inbox (app 263902037430900) with agent actions, other apps.
//   - Fault injection, call counters, accepted messages per thread and a readable transcript.
//
// Where the reference is unsure the behaviour is a switch in Behaviour, defaulting to the documented
// or most likely variant; each switch says why.
package simulator
