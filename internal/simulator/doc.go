// Package simulator is a stand-in for the Messenger Platform (Graph API, signed webhooks,
// Conversation Routing) so end-to-end tests, the demo and the playground can run without Meta.
//
// It models the platform from Meta's documentation and users' reports, written up with their
// sources in docs/platform.md; "reference §N" and "§N" in comments are that page's sections. It
// deliberately shares no code with the webhook, the handover engine or the Graph client of this
// repository (it imports only the standard library): a misunderstanding of the platform there must
// not be copied here, or the tests would agree with the bug.
//
// What it models:
//   - Graph API endpoints under /{version}/... (Handler): messages (send limits, 24 h window,
//     exclusive control, inline thread_control), pass/take/request/release/extend_thread_control,
//     thread_owner, user profile, messenger_profile, /{page}/subscribed_apps,
//     /{app}/subscriptions (with the synchronous verification GET), debug_token, Meta's error
//     JSON, the Send API's per-second limits and the business use case budget with its
//     X-Business-Use-Case-Usage header.
//   - Page tokens per (app, page) that can be revoked, expire and lack scopes; appsecret_proof.
//   - Conversation Routing per Page, with a default app or in zero-config mode, ownership expiry
//     after 24 h of inactivity on a controllable Clock.
//   - Signed webhook delivery (X-Hub-Signature-256 with each app's secret), messaging vs standby,
//     echoes, messaging_handovers and the other fields, several Pages in one POST, immediate and
//     late redelivery on the simulator clock, the webhook disabled after an hour of failures,
//     optional reordering and duplicates.
//   - A scripted customer (text, quick replies, buttons, Get Started, menu, ice breakers,
//     attachments, stickers, reactions, edits, referrals, opt-ins), the Page Inbox (app
//     263902037430900) with agent actions and Business Suite automations, other apps.
//   - Fault injection, call counters, accepted messages per thread, a readable transcript and a
//     timeline of deliveries, Graph calls and ownership changes (Timeline, SubscribeTimeline).
//
// Where the sources are unsure the behaviour is a switch in Behaviour, defaulting to the
// documented or most likely variant; each switch says why.
package simulator
