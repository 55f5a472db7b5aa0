package v1alpha1

import (
	"slices"
	"strings"
	"testing"
)

func TestParseGraphAPIHosts(t *testing.T) {
	got, err := ParseGraphAPIHosts(" Graph.Facebook.com, ,127.0.0.1:8080,[::1]:9,localhost")
	if err != nil || !slices.Equal(got, []string{"graph.facebook.com", "127.0.0.1:8080", "[::1]:9", "localhost"}) {
		t.Fatalf("%v, %v", got, err)
	}
	for _, bad := range []string{"", " , ", "https://graph.facebook.com", "graph.facebook.com/v1", "user@host", "host:", ":80", "a b"} {
		if _, err := ParseGraphAPIHosts(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestGraphAPIHostAllowed(t *testing.T) {
	allowed := []string{"graph.facebook.com", "127.0.0.1:8080", "[::1]"}
	for url, want := range map[string]bool{
		"https://graph.facebook.com":          true,
		"https://GRAPH.facebook.com:443/x":    true,
		"http://127.0.0.1:8080":               true,
		"http://127.0.0.1:8081":               false,
		"http://127.0.0.1":                    false,
		"http://[::1]:5":                      true,
		"https://graph.facebook.com.evil.com": false,
		"https://evil.com/graph.facebook.com": false,
		"https://graph.facebook.com@evil.com": false,
		"not a url":                           false,
	} {
		if got := GraphAPIHostAllowed(url, allowed); got != want {
			t.Errorf("%s: %v, want %v", url, got, want)
		}
	}
}

// The refusal names the field, the host and the setting that would allow it.
func TestGraphAPIHostRefusal(t *testing.T) {
	if m := GraphAPIHostRefusal("spec.graphAPI.baseURL", "https://graph.facebook.com", []string{DefaultGraphAPIHost}); m != "" {
		t.Fatalf("allowed host refused: %s", m)
	}
	m := GraphAPIHostRefusal("spec.graphAPI.baseURL", "https://evil.example:8443/x", []string{DefaultGraphAPIHost})
	for _, want := range []string{"spec.graphAPI.baseURL", `"evil.example:8443"`, "--graph-api-hosts", "graphAPIHosts", DefaultGraphAPIHost} {
		if !strings.Contains(m, want) {
			t.Errorf("%q lacks %q", m, want)
		}
	}
}
