package handover

import (
	"fmt"
	"strings"
	"time"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"

	// Distroless images carry no zone data: embed it so time.LoadLocation works everywhere.
	_ "time/tzdata"
)

const minutesPerWeek = 7 * 24 * 60

// hours are weekly business hours, precompiled into one bit per minute of the week (Sunday 00:00
// first, as time.Weekday counts) in wall-clock time of the zone, so that a check is one lookup.
// Wall-clock time is what people mean by "09:00-17:30": on DST days a window keeps its local times
// (and a time that the clock skips simply never comes).
type hours struct {
	loc     *time.Location
	open    [(minutesPerWeek + 63) / 64]uint64
	action  v1alpha1.OutsideHoursAction
	appID   string      // PassTo
	message *OutMessage // BotOnly
}

// isOpen reports whether t falls in a window.
func (h *hours) isOpen(t time.Time) bool {
	lt := t.In(h.loc)
	hh, mm, _ := lt.Clock()
	m := (int(lt.Weekday())*24+hh)*60 + mm
	return h.open[m/64]&(1<<(m%64)) != 0
}

func (h *hours) set(from, to int) { // minutes of the week, to exclusive, may wrap past Saturday
	for m := from; m != to; m = (m + 1) % minutesPerWeek {
		h.open[m/64] |= 1 << (m % 64)
	}
}

var weekdays = map[string]time.Weekday{
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

// compileHours checks and compiles spec.businessHours (defaults applied).
func compileHours(bh *v1alpha1.BusinessHours, appID string, msg *OutMessage, c *checker) *hours {
	const field = "spec.businessHours"
	h := &hours{action: bh.OutsideHours.Action, appID: bh.OutsideHours.AppID, message: msg}
	loc, err := time.LoadLocation(bh.TimeZone)
	if bh.TimeZone == "" || bh.TimeZone == "Local" || err != nil {
		c.add(field+".timeZone", v1alpha1.ReasonInvalidTimeZone,
			fmt.Sprintf("unknown time zone %q: use an IANA name such as Europe/Paris", bh.TimeZone))
	}
	h.loc = loc
	if len(bh.Windows) == 0 {
		c.add(field+".windows", "", "at least one window is required")
	}
	for i, w := range bh.Windows {
		wf := fmt.Sprintf("%s.windows[%d]", field, i)
		day, ok := weekdays[strings.ToLower(w.Day)]
		if !ok {
			c.add(wf+".day", "", fmt.Sprintf("unknown day %q: use Monday to Sunday", w.Day))
		}
		start, okS := parseClock(w.Start)
		if !okS {
			c.add(wf+".start", "", fmt.Sprintf("%q is not a time of day as HH:MM (00:00 to 23:59)", w.Start))
		}
		end, okE := parseClock(w.End)
		if !okE {
			c.add(wf+".end", "", fmt.Sprintf("%q is not a time of day as HH:MM (00:00 to 23:59)", w.End))
		}
		if !ok || !okS || !okE {
			continue
		}
		if start == end {
			c.add(wf, "", "a window's start and end must differ")
			continue
		}
		base := int(day) * 24 * 60
		if end < start {
			end += 24 * 60 // runs past midnight into the next day (Saturday into Sunday wraps)
		}
		h.set(base+start, (base+end)%minutesPerWeek)
	}
	switch h.action {
	case v1alpha1.OutsideBotOnly, v1alpha1.OutsidePassAnyway:
	case v1alpha1.OutsidePassTo:
		c.appID(field+".outsideHours.appID", h.appID, appID, true)
	default:
		c.add(field+".outsideHours.action", "", fmt.Sprintf("unknown action %q: use BotOnly, PassAnyway or PassTo", h.action))
	}
	return h
}

// parseClock parses HH:MM (24 h) into minutes after midnight.
func parseClock(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	d := func(c byte) (int, bool) { return int(c - '0'), c >= '0' && c <= '9' }
	h1, a := d(s[0])
	h2, b := d(s[1])
	m1, c := d(s[3])
	m2, e := d(s[4])
	h, m := h1*10+h2, m1*10+m2
	if !a || !b || !c || !e || h > 23 || m > 59 {
		return 0, false
	}
	return h*60 + m, true
}
