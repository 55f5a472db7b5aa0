// Package webhooktest is what the tests of the webhook's callback and runner share: a fake Graph
// API, a scriptable engine, a reporter and a clock moved by hand, and a Harness that serves one
// page through webhook.Server (the callback in front of the runner, as the process wires them)
// over real HTTP with signed requests.
package webhooktest

// The page every harness serves, and its credentials.
const (
	PageID      = "1000000000000001"
	AppID       = "1517776481860111"
	AppSecret   = "app-secret-S3CR3T"
	VerifyToken = "verify-token-V3R1FY"
	PageToken   = "EAAB-page-token-T0K3N"
)
