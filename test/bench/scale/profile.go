package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/rest"
)

// profileAPIServer takes a CPU profile of the kube-apiserver (its /debug/pprof, on by default,
// with the admin's credentials) for d and writes it to path: where the API server's time goes.
func profileAPIServer(ctx context.Context, admin *rest.Config, d time.Duration, path string) error {
	hc, err := rest.HTTPClientFor(admin)
	if err != nil {
		return err
	}
	hc.Timeout = d + 30*time.Second
	url := fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", strings.TrimRight(admin.Host, "/"), int(d.Seconds()))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s: %s", resp.Status, b)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// clusterCPU returns the CPU seconds used so far by each process of the kwok cluster named
// name (kube-apiserver, etcd, ...), by command name: the processes whose command line names the
// cluster's directory.
func clusterCPU(name string) map[string]float64 {
	out := map[string]float64{}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		cmd, err := os.ReadFile(d + "/cmdline")
		if err != nil || !strings.Contains(string(cmd), "/clusters/"+name+"/") {
			continue
		}
		comm, err := os.ReadFile(d + "/comm")
		if err != nil {
			continue
		}
		pid, _ := strconv.Atoi(filepath.Base(d))
		out[strings.TrimSpace(string(comm))] += cpuSeconds(pid)
	}
	return out
}

// cpuSince formats the CPU seconds each process used between two clusterCPU readings.
func cpuSince(before, after map[string]float64) string {
	names := make([]string, 0, len(after))
	for k := range after {
		names = append(names, k)
	}
	sort.Strings(names)
	var parts []string
	for _, k := range names {
		parts = append(parts, fmt.Sprintf("%s %.1f s", k, after[k]-before[k]))
	}
	return strings.Join(parts, ", ")
}
