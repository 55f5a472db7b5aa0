package testenv

import (
	"strings"
	"testing"
	"time"
)

func TestBinaryRunsAndReportsItsFlags(t *testing.T) {
	path, err := Binary("webhook")
	if err != nil {
		t.Fatal(err)
	}
	again, err := Binary("webhook")
	if err != nil || again != path {
		t.Fatalf("second Binary call = %q, %v; want the cached %q", again, err, path)
	}
	p, err := StartProcess(path, nil, "PAGE=")
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.Exited():
	case <-time.After(time.Minute):
		t.Fatal("webhook without --page did not exit")
	}
	if !strings.Contains(p.Output(), "--page") {
		t.Fatalf("output does not name the missing flag:\n%s", p.Output())
	}
}

func TestStopEndsALongRunningProcess(t *testing.T) {
	p, err := StartProcess("sleep", []string{"60"})
	if err != nil {
		t.Fatal(err)
	}
	err = p.Stop(10 * time.Second)
	if err == nil || !strings.Contains(err.Error(), "terminated") {
		t.Fatalf("Stop = %v; want the SIGTERM exit", err)
	}
}
