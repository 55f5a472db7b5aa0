package handover

import (
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

// compileHours compiles spec.businessHours that Validate accepted (defaults applied).
func compileHours(bh *v1alpha1.BusinessHours, msg *OutMessage) *hours {
	h := &hours{action: bh.OutsideHours.Action, appID: bh.OutsideHours.AppID, message: msg}
	h.loc, _ = bh.Location()
	for i := range bh.Windows {
		w := &bh.Windows[i]
		day, _ := w.Weekday()
		start, _ := v1alpha1.ParseClock(w.Start)
		end, _ := v1alpha1.ParseClock(w.End)
		base := int(day) * 24 * 60
		if end < start {
			end += 24 * 60 // runs past midnight into the next day (Saturday into Sunday wraps)
		}
		h.set(base+start, (base+end)%minutesPerWeek)
	}
	return h
}
