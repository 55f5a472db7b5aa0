package main

import (
	"strings"
	"testing"
)

func TestListensOnLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:8090", "[::1]:0", "localhost:8090"} {
		if err := loopback(addr); err != nil {
			t.Errorf("%s: %v", addr, err)
		}
	}
	for _, addr := range []string{"0.0.0.0:8090", ":8090", "192.168.1.2:80", "example.com:80", "nonsense"} {
		if err := loopback(addr); err == nil {
			t.Errorf("%s accepted", addr)
		}
	}
	if err := run([]string{"--listen", ":8090", "--simulator", "http://127.0.0.1:1", "--policy", "a/b", "--page", "1=P", "--customer", "2=C"}); err == nil ||
		!strings.Contains(err.Error(), "loopback") {
		t.Errorf("run on all interfaces: %v", err)
	}
}
