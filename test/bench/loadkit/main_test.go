package main

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
)

// The targets are what Meta would send: signed with the app secret, one text message each, a
// distinct mid per target and per offset, users and pages cycling.
func TestTargetsAreSignedAndDistinct(t *testing.T) {
	var out bytes.Buffer
	if err := targets(&out, 10, 5, 3, 2, "http://127.0.0.1:1/webhook", "appsecret", "1000000000000001"); err != nil {
		t.Fatal(err)
	}
	mids, users, pages := map[string]bool{}, map[string]bool{}, map[string]bool{}
	sc := bufio.NewScanner(&out)
	sc.Buffer(make([]byte, 1<<16), 1<<16)
	for sc.Scan() {
		var tg target
		if err := json.Unmarshal(sc.Bytes(), &tg); err != nil {
			t.Fatal(err)
		}
		body, err := base64.StdEncoding.DecodeString(tg.Body)
		if err != nil {
			t.Fatal(err)
		}
		mac := hmac.New(sha256.New, []byte("appsecret"))
		mac.Write(body)
		if got, want := tg.Header["X-Hub-Signature-256"][0], "sha256="+hex.EncodeToString(mac.Sum(nil)); got != want {
			t.Fatalf("signature %s, want %s", got, want)
		}
		var ev struct {
			Entry []struct {
				ID        string
				Messaging []struct {
					Sender  struct{ ID string }
					Message struct{ Mid, Text string }
				}
			}
		}
		if err := json.Unmarshal(body, &ev); err != nil {
			t.Fatalf("body is not JSON: %v", err)
		}
		m := ev.Entry[0].Messaging[0]
		mids[m.Message.Mid] = true
		users[m.Sender.ID] = true
		pages[ev.Entry[0].ID] = true
		if !strings.HasPrefix(m.Message.Mid, "m_loadkit_1") {
			t.Fatalf("mid %q does not start at the offset", m.Message.Mid)
		}
	}
	if len(mids) != 5 || len(users) != 3 || !pages["1000000000000001"] || !pages["1000000000000002"] || len(pages) != 2 {
		t.Fatalf("%d mids, %d users, pages %v; want 5, 3 and two consecutive ids", len(mids), len(users), pages)
	}
}

func TestSummaryReadsVegetaReport(t *testing.T) {
	report := `{"requests":100,"throughput":99.5,"success":0.98,"latencies":{"50th":1500000,"99th":12000000},"status_codes":{"200":98,"0":2}}`
	var out bytes.Buffer
	if err := summary(strings.NewReader(report), &out); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), "100 1.50 12.00 98.0 98 0:2,200:98\n"; got != want {
		t.Fatalf("summary %q, want %q", got, want)
	}
}
