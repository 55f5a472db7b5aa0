package playground

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// AuditLine is one line of the webhook's handover audit (docs/operations.md).
type AuditLine struct {
	Time    string `json:"time"`
	Audit   string `json:"audit"`
	Page    string `json:"page"`
	User    string `json:"user"`
	From    string `json:"from"`
	To      string `json:"to"`
	Trigger string `json:"trigger"`
	Reason  string `json:"reason"`
	Outcome string `json:"outcome"`
}

// parseAudit reads an audit line from a log line in either of the webhook's formats (json or
// text); ok is false for every other line.
func parseAudit(line string) (AuditLine, bool) {
	line = strings.TrimSpace(line)
	fields := map[string]string{}
	if strings.HasPrefix(line, "{") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) != nil {
			return AuditLine{}, false
		}
		for k, v := range m {
			if s, ok := v.(string); ok {
				fields[k] = s
			}
		}
	} else {
		fields = parseText(line)
	}
	if fields["msg"] != "handover" || fields["audit"] == "" {
		return AuditLine{}, false
	}
	return AuditLine{Time: fields["time"], Audit: fields["audit"], Page: fields["page"], User: fields["user"],
		From: fields["from"], To: fields["to"], Trigger: fields["trigger"], Reason: fields["reason"],
		Outcome: fields["outcome"]}, true
}

// parseText splits a line of slog's text format: key=value pairs, values quoted when needed.
func parseText(line string) map[string]string {
	out := map[string]string{}
	for len(line) > 0 {
		line = strings.TrimLeft(line, " ")
		eq := strings.IndexByte(line, '=')
		if eq <= 0 {
			break
		}
		key, rest := line[:eq], line[eq+1:]
		var val string
		if strings.HasPrefix(rest, `"`) {
			q, err := strconv.QuotedPrefix(rest)
			if err != nil {
				break
			}
			val, _ = strconv.Unquote(q)
			rest = rest[len(q):]
		} else if sp := strings.IndexByte(rest, ' '); sp >= 0 {
			val, rest = rest[:sp], rest[sp:]
		} else {
			val, rest = rest, ""
		}
		out[key] = val
		line = rest
	}
	return out
}

// followAudit reads the log file at path from its start and sends each audit line, then keeps
// reading what the webhook appends until ctx is done. A missing file is waited for.
func followAudit(ctx context.Context, path string, out chan<- AuditLine) {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var f *os.File
	for f == nil {
		var err error
		if f, err = os.Open(path); err != nil {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}
	defer func() { _ = f.Close() }()
	r := bufio.NewReaderSize(f, 64<<10)
	var partial strings.Builder
	for {
		s, err := r.ReadString('\n')
		partial.WriteString(s)
		if err == nil {
			if l, ok := parseAudit(partial.String()); ok {
				select {
				case out <- l:
				case <-ctx.Done():
					return
				}
			}
			partial.Reset()
			continue
		}
		if err != io.EOF {
			return
		}
		select { // the end for now: wait for more
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
