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

// cpuSeconds is the CPU time (user + system) a process has used so far, from /proc.
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The fields after the command name, which is in parentheses and may hold spaces.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100 // USER_HZ
}

// machineCPU is the CPU time (all processes, every core) the machine has spent busy so far, and
// its number of cores, from /proc/stat.
func machineCPU() (busy float64, cores int) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) > 5 && f[0] == "cpu":
			for i, v := range f[1:] {
				if i == 3 || i == 4 { // idle, iowait
					continue
				}
				x, _ := strconv.ParseFloat(v, 64)
				busy += x / 100
			}
		case len(f) > 0 && strings.HasPrefix(f[0], "cpu"):
			cores++
		}
	}
	return busy, cores
}
