package callback

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/messenger-operator/messenger-operator/internal/handover"
)

var decodeOK = []string{
	textBody("2000000000000001", "m_1", 1700000000000),
	`{"object":"page","entry":[{"id":1000000000000001,"time":1700000000000,"messaging":[{"sender":{"id":9007199254740993123},"recipient":{"id":1000000000000001},"timestamp":"1700000000001","message":{"mid":"m_1","text":"h\u00e4\u00f6\u00e5 \"q\" \ud83d\ude00","quick_reply":{"payload":"P"},"nlp":{"entities":{}},"seq":3}}]}]}`,
	`{"object":"page","entry":[{"id":"1","messaging":[{"sender":{"id":"1"},"recipient":{"id":"2"},"timestamp":1,"message":{"mid":"m","is_echo":true,"app_id":263902037430900,"metadata":"x","attachments":[{"type":"image","payload":{"url":"https://x/y?a=1&b=2"}}]}}]}]}`,
	`{"object":"page","entry":[{"id":"1","standby":[{"sender":{"id":"3"},"recipient":{"id":"1"},"timestamp":1.7e12,"postback":{"title":"Talk","mid":null}}],"messaging":[{"sender":{"id":"4"},"recipient":{"id":"1"},"timestamp":1,"pass_thread_control":{"previous_owner_app_id":null,"new_owner_app_id":"5","metadata":"m"}},{"recipient":{"id":"1"},"timestamp":1,"app_roles":{"1":["primary_receiver"]}},{"sender":{"id":"6"},"recipient":{"id":"6"},"timestamp":1,"request_thread_control":{"requested_owner_app_id":263902037430900}},{"sender":{"id":"7"},"take_thread_control":{"previous_owner_app_id":"1","new_owner_app_id":"2"}},{"sender":{"id":"8"},"read":{"watermark":1},"delivery":null}]}]}`,
	`{"object":"page","entry":[{"id":"1","changes":[{"field":"feed","value":{"a":[1,2,{"b":[]}],"c":-0.5e-3}}]}]}`,
	` {"object":"instagram","entry":[]} `,
	`{"OBJECT":"page","Entry":[{"ID":"1","Messaging":[{"SENDER":{"Id":"2"},"Message":{"Text":"t","MID":"m"}}]}]}`,
	`{"\u006fbject":"page","entry":null}`,
	`{"object":"page","entry":[{"id":true,"time":"x","messaging":[{"sender":{"id":{"x":1}},"timestamp":-5,"message":{"is_echo":"true","app_id":[1]}}]}]}`,
	`{"object":"page","entry":[{"id":1.0,"messaging":[{"sender":{"id":-2},"recipient":{"id":3e3},"message":{"mid":"m","app_id":1.5}}]}]}`,
	`{"object":"page","x":` + strings.Repeat("[", 1000) + strings.Repeat("]", 1000) + `}`,
}

var decodeBad = []string{
	`{"object":"page","entry":[{"id":"1","messaging":[{"sender":{"id":"2"},"message":{"text":"bad \xff escape"}}]}]}`,
	`{"object":"page","entry":[`,
	`{"object":"page","entry":"x"}`,
	`{"object":5}`,
	`{"object":"page","entry":[{"messaging":[{"message":"x"}]}]}`,
	`{"object":"page","entry":[{"messaging":[{"sender":5}]}]}`,
	`{"object":"page"} x`,
	`{"object":"page",}`,
	`{"object":"page","entry":[1,]}`,
	`{"a":01}`,
	`{"a":"\x01"}`,
	`{"a":"\u12"}`,
	`{"a":tru}`,
	`[]`,
	`"page"`,
	``,
	`   `,
}

func TestDecodeSeeds(t *testing.T) {
	for _, body := range decodeOK {
		var env envelope
		if err := decodeBody([]byte(body), &env); err != nil {
			t.Errorf("%.80s: %v", body, err)
		}
	}
	for _, body := range decodeBad {
		var env envelope
		if err := decodeBody([]byte(body), &env); err == nil {
			t.Errorf("%.80s: accepted", body)
		}
	}
}

// TestDecodeShapes: the shapes Meta sends decode into what the engine needs.
func TestDecodeShapes(t *testing.T) {
	var env envelope
	if err := decodeBody(seed(t, "9007199254740993123"), &env); err != nil {
		t.Fatal(err)
	}
	ev, reason := toEvent(string(env.Entry[0].ID), handover.Messaging, env.Entry[0].Time, &env.Entry[0].Messaging[0])
	if reason != "" || ev.PSID != "9007199254740993123" || ev.PageID != "1000000000000001" {
		t.Errorf("numeric ids lost digits: %+v %q", ev, reason)
	}
	if ev.Text != "häöå \"q\" 😀" || !ev.HasQuickReply || ev.QuickReplyPayload != "P" {
		t.Errorf("text or quick reply: %+v", ev)
	}
	if ev.Timestamp.UnixMilli() != 1700000000001 {
		t.Errorf("string timestamp: %v", ev.Timestamp)
	}

	env = envelope{}
	if err := decodeBody(seed(t, `"is_echo":true`), &env); err != nil {
		t.Fatal(err)
	}
	ev, _ = toEvent("1", handover.Messaging, 0, &env.Entry[0].Messaging[0])
	if ev.Kind != handover.KindEcho || ev.EchoAppID != "263902037430900" || ev.PSID != "2" || !ev.HasAttachments {
		t.Errorf("echo with numeric app_id: %+v", ev)
	}

	env = envelope{}
	if err := decodeBody(seed(t, "standby"), &env); err != nil {
		t.Fatal(err)
	}
	pb, _ := toEvent("1", handover.Standby, 0, &env.Entry[0].Standby[0])
	if pb.Kind != handover.KindPostback || pb.PostbackTitle != "Talk" || pb.Timestamp.UnixMilli() != 1.7e12 {
		t.Errorf("standby postback: %+v", pb)
	}
	var reasons []string
	for i := range env.Entry[0].Messaging {
		_, r := toEvent("1", handover.Messaging, 0, &env.Entry[0].Messaging[i])
		reasons = append(reasons, r)
	}
	if want := []string{"", ignoreNoSender, "", "", ""}; fmt.Sprint(reasons) != fmt.Sprint(want) {
		t.Errorf("ignore reasons %q, want %q", reasons, want)
	}

	env = envelope{}
	if err := decodeBody(seed(t, `"id":1.0`), &env); err != nil {
		t.Fatal(err)
	}
	if _, r := toEvent(string(env.Entry[0].ID), handover.Messaging, 0, &env.Entry[0].Messaging[0]); r != ignoreNoSender {
		t.Errorf("non-plain numeric sender id must be empty, reason %q", r)
	}
	if env.Entry[0].ID != "" || env.Entry[0].Messaging[0].Message.AppID != "" {
		t.Errorf("non-plain numeric ids: %+v", env.Entry[0])
	}
}

// seed is the first body of decodeOK that contains marker.
func seed(t *testing.T, marker string) []byte {
	for _, b := range decodeOK {
		if strings.Contains(b, marker) {
			return []byte(b)
		}
	}
	t.Fatalf("no seed with %q", marker)
	return nil
}

// FuzzDecode: decoding never panics, accepts only valid JSON, and every decoded event converts.
func FuzzDecode(f *testing.F) {
	for _, s := range append(append([]string{}, decodeOK...), decodeBad...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var env envelope
		if decodeBody(body, &env) != nil {
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		for _, e := range env.Entry {
			for ch, list := range [2][]rawEvent{e.Messaging, e.Standby} {
				for i := range list {
					toEvent(string(e.ID), handover.Channel(ch), e.Time, &list[i])
				}
			}
		}
	})
}
