package store

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/messenger-operator/messenger-operator/internal/handover"
)

// encodeThread writes a thread state as one short string: ids, owners, flags and times (unix
// ms), never message text. Fields in a fixed order; a new field goes last.
func encodeThread(th handover.Thread) string {
	ms := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return strconv.FormatInt(t.UnixMilli(), 10)
	}
	flag := func(b bool) string {
		if b {
			return "1"
		}
		return ""
	}
	return strings.Join([]string{
		strconv.Itoa(int(th.Owner)), th.OwnerAppID, ms(th.PassedAt), flag(th.AgentActive), ms(th.LastAgentAt),
		flag(th.Unreachable), ms(th.HandoverAt), ms(th.LastUserAt), ms(th.ErrorAt),
	}, "|")
}

var errBadThread = errors.New("malformed thread state")

func decodeThread(s string) (handover.Thread, error) {
	f := strings.Split(s, "|")
	if len(f) < 9 {
		return handover.Thread{}, errBadThread
	}
	owner, err := strconv.Atoi(f[0])
	if err != nil {
		return handover.Thread{}, errBadThread
	}
	t := func(v string) time.Time {
		n, err := strconv.ParseInt(v, 10, 64)
		if v == "" || err != nil {
			return time.Time{}
		}
		return time.UnixMilli(n)
	}
	return handover.Thread{
		Owner: handover.Owner(owner), OwnerAppID: f[1], PassedAt: t(f[2]), AgentActive: f[3] == "1",
		LastAgentAt: t(f[4]), Unreachable: f[5] == "1", HandoverAt: t(f[6]), LastUserAt: t(f[7]), ErrorAt: t(f[8]),
	}, nil
}
