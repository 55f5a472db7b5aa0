// Package subscription is the operator's small Graph API client for the Messenger subscription
// set-up (reference §7): the app's callback URL and fields (/{app-id}/subscriptions, app token)
// and the Page's subscribed apps (/{page-id}/subscribed_apps, page token). The operator runs no
// handover logic; these are the only Graph calls it makes. Tokens travel in the Authorization
// header, never in URLs, and never appear in errors.
package subscription
