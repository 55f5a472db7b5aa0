package runner_test

import "github.com/messenger-operator/messenger-operator/test/webhooktest"

// The harness's page and its helpers, by the names the tests were written with.
const (
	testPage        = webhooktest.PageID
	testApp         = webhooktest.AppID
	testSecret      = webhooktest.AppSecret
	testVerifyToken = webhooktest.VerifyToken
	testPageToken   = webhooktest.PageToken
)

var (
	newHarness = webhooktest.NewHarness
	testConfig = webhooktest.Config
	sign       = webhooktest.Sign
	proofOf    = webhooktest.ProofOf
	textEvent  = webhooktest.TextEvent
	pageBody   = webhooktest.PageBody
	eventually = webhooktest.Eventually
)
