// Package playground serves the playground: a page in the browser where a support lead tries a
// HandoverPolicy before it goes live. It holds no handover logic and no platform model: the
// Messenger Platform simulator is reached over its HTTP control API (chat as a customer, the
// Page Inbox, owners, the timeline, the clock), the HandoverPolicy through the API server (get
// and update only), and the handover audit by reading the webhook's log. The page is plain HTML,
// CSS and JavaScript embedded in the binary; live updates are server-sent events.
package playground
