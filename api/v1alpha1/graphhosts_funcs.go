package v1alpha1

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// The cluster admin's list of Graph API hosts: a base URL elsewhere would receive the tokens of
// the page's Secret (as a bearer token, from the manager's pod and from the webhook's).
const (
	// DefaultGraphAPIHost is Meta's Graph API host, the one allowed unless the admin says more.
	DefaultGraphAPIHost = "graph.facebook.com"
	// GraphAPIHostsSetting names the setting in messages: the manager's flag and the chart value.
	GraphAPIHostsSetting = "the manager's --graph-api-hosts (chart value graphAPIHosts)"
)

// ParseGraphAPIHosts reads a comma-separated list of hosts, each "host" (any port) or
// "host:port" ("[::1]:8080" for an IPv6 address). Blank entries are skipped; an empty list is
// an error, as it would refuse every page.
func ParseGraphAPIHosts(s string) ([]string, error) {
	var out []string
	for _, h := range strings.Split(s, ",") {
		h = strings.ToLower(strings.TrimSpace(h))
		if h == "" {
			continue
		}
		if u, err := url.Parse("//" + h); err != nil || u.Host != h || u.Hostname() == "" ||
			(strings.HasSuffix(h, ":") || strings.Contains(h, ":") && u.Port() == "" && !strings.HasPrefix(h, "[")) {
			return nil, fmt.Errorf("%q: give a host or host:port, not a URL", h)
		}
		out = append(out, h)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no host given: every page's Graph API base URL would be refused")
	}
	return out, nil
}

// GraphAPIHostAllowed says whether the host of baseURL is one of allowed: an entry "host"
// admits any port, "host:port" that port only. Names compare case-insensitively.
func GraphAPIHostAllowed(baseURL string, allowed []string) bool {
	u, err := url.Parse(baseURL)
	if err != nil || u.Host == "" {
		return false
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	for _, a := range allowed {
		a = strings.ToLower(a)
		if a == host || a == "["+host+"]" || (port != "" && a == net.JoinHostPort(host, port)) {
			return true
		}
	}
	return false
}

// GraphAPIHostRefusal is the reason to refuse baseURL (field names it) when its host is not
// allowed, naming the setting that would allow it; "" when allowed.
func GraphAPIHostRefusal(field, baseURL string, allowed []string) string {
	if GraphAPIHostAllowed(baseURL, allowed) {
		return ""
	}
	host := baseURL
	if u, err := url.Parse(baseURL); err == nil && u.Host != "" {
		host = u.Host
	}
	return fmt.Sprintf("%s: host %q is not an allowed Graph API host (%s: %s); nothing is sent there and no webhook is configured with it: use an allowed host, or ask the cluster admin to add it",
		field, host, GraphAPIHostsSetting, strings.Join(allowed, ","))
}
