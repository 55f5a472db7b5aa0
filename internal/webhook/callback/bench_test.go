package callback

import (
	"fmt"
	"testing"
)

// BenchmarkSignature: X-Hub-Signature-256 checked over the raw body of one text event, as every
// POST is before anything else.
func BenchmarkSignature(b *testing.B) {
	body := fmt.Appendf(nil, `{"object":"page","entry":[{"id":"%s","time":1700000000000,"messaging":[{"sender":{"id":"2000000000000001"},"recipient":{"id":"%s"},"timestamp":1700000000000,"message":{"mid":"m_bench_1","text":"hello 1"}}]}]}`,
		testPage, testPage)
	header := sign(body, testSecret)
	v := newVerifier([]byte(testSecret))
	b.ReportAllocs()
	for b.Loop() {
		if !v.valid(header, body) {
			b.Fatal("signature refused")
		}
	}
}
