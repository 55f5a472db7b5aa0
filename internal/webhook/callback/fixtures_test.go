package callback

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// Fixtures of the package's internal tests: the external tests take test/webhooktest's, which
// cannot be imported here (it builds on this package).
const (
	testPage        = "1000000000000001"
	testSecret      = "app-secret-S3CR3T"
	testVerifyToken = "verify-token-V3R1FY"
)

func sign(body []byte, secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// textBody is a delivery of one text message from psid.
func textBody(psid, mid string, ts int64) string {
	return fmt.Sprintf(`{"object":"page","entry":[{"id":"%s","time":1700000000000,"messaging":[{"sender":{"id":"%s"},"recipient":{"id":"%s"},"timestamp":%d,"message":{"mid":"%s","text":"hello"}}]}]}`,
		testPage, psid, testPage, ts, mid)
}
