package graph

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

func BenchmarkSend(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, `{"recipient_id":"1","message_id":"m_fake"}`)
	}))
	defer srv.Close()
	c, err := New(Config{BaseURL: srv.URL, Version: "v25.0", PageID: "1000000000000001", Token: []byte(testToken), AppSecret: []byte(testSecret)})
	if err != nil {
		b.Fatal(err)
	}
	msg := map[string]any{"text": "Welcome! The bot is currently in control.", "quick_replies": []map[string]any{{"content_type": "text", "title": "Pass to Inbox", "payload": "pass_to_inbox"}}}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := c.Send(context.Background(), "2000000000000001", msg); err != nil {
				b.Fatal(err)
			}
		}
	})
}
