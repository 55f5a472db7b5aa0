package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// row prints one line of the performance table for hack/bench.sh: section, measure, figure,
// target and its result ("pass", "miss" or "" when the row has no target).
func row(section, measure, figure, target, result string) {
	fmt.Printf("ROW|%s|%s|%s|%s|%s\n", section, measure, figure, target, result)
}

func passMiss(ok bool) string {
	if ok {
		return "pass"
	}
	return "miss"
}

// note goes to stderr: progress for the reader, not part of the table.
func note(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

// rss reads a process's resident set (VmRSS) and its peak (VmHWM) in MiB from /proc.
func rss(pid int) (now, peak float64) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "VmRSS:":
			now = kb / 1024
		case "VmHWM:":
			peak = kb / 1024
		}
	}
	return now, peak
}
