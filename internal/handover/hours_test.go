package handover

import (
	"testing"
	"time"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
)

func compiledHours(t *testing.T, tz string, ws ...v1alpha1.HoursWindow) *hours {
	t.Helper()
	bh := &v1alpha1.BusinessHours{TimeZone: tz, Windows: ws, OutsideHours: v1alpha1.OutsideHours{Action: v1alpha1.OutsideBotOnly}}
	if ps := (&v1alpha1.HandoverPolicySpec{BusinessHours: bh}).ValidateForApp(testApp); len(ps) > 0 {
		t.Fatalf("business hours: %v", ps)
	}
	return compileHours(bh, nil)
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestBusinessHoursWindows(t *testing.T) {
	var ws []v1alpha1.HoursWindow
	for _, d := range []string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday"} {
		ws = append(ws, v1alpha1.HoursWindow{Day: d, Start: "09:00", End: "17:30"})
	}
	ws = append(ws,
		v1alpha1.HoursWindow{Day: "Friday", Start: "22:00", End: "02:00"},   // into Saturday
		v1alpha1.HoursWindow{Day: "Saturday", Start: "20:00", End: "00:00"}, // until midnight
		v1alpha1.HoursWindow{Day: "Sunday", Start: "23:00", End: "01:00"},   // into Monday
	)
	h := compiledHours(t, "Europe/Paris", ws...)
	// June: Paris is UTC+2. 2026-06-10 is a Wednesday.
	for _, tc := range []struct {
		at   string
		open bool
	}{
		{"2026-06-10T08:00:00Z", true},  // Wed 10:00
		{"2026-06-10T06:59:00Z", false}, // Wed 08:59
		{"2026-06-10T07:00:00Z", true},  // Wed 09:00
		{"2026-06-10T15:29:00Z", true},  // Wed 17:29
		{"2026-06-10T15:30:00Z", false}, // Wed 17:30
		{"2026-06-12T19:59:00Z", false}, // Fri 21:59
		{"2026-06-12T20:00:00Z", true},  // Fri 22:00
		{"2026-06-12T23:59:00Z", true},  // Sat 01:59, Friday's window
		{"2026-06-13T00:00:00Z", false}, // Sat 02:00
		{"2026-06-13T07:00:00Z", false}, // Sat 09:00: no Saturday day window
		{"2026-06-13T21:59:00Z", true},  // Sat 23:59
		{"2026-06-13T22:00:00Z", false}, // Sun 00:00
		{"2026-06-14T20:59:00Z", false}, // Sun 22:59
		{"2026-06-14T21:00:00Z", true},  // Sun 23:00
		{"2026-06-14T22:30:00Z", true},  // Mon 00:30, Sunday's window across the week's end
		{"2026-06-14T23:00:00Z", false}, // Mon 01:00
	} {
		if got := h.isOpen(utc(tc.at)); got != tc.open {
			t.Errorf("%s (%s in Paris): open = %v, want %v", tc.at, utc(tc.at).In(h.loc).Format("Mon 15:04"), got, tc.open)
		}
	}
}

// The same instant in different zones; windows keep their wall-clock times across DST changes.
func TestBusinessHoursZonesAndDST(t *testing.T) {
	nine2five := func(tz string) *hours {
		return compiledHours(t, tz, v1alpha1.HoursWindow{Day: "Wednesday", Start: "09:00", End: "17:00"},
			v1alpha1.HoursWindow{Day: "Thursday", Start: "09:00", End: "17:00"})
	}
	at := utc("2026-06-10T16:00:00Z") // Paris Wed 18:00, New York Wed 12:00, Tokyo Thu 01:00
	for tz, want := range map[string]bool{"Europe/Paris": false, "America/New_York": true, "Asia/Tokyo": false, "UTC": true} {
		if got := nine2five(tz).isOpen(at); got != want {
			t.Errorf("%s: open = %v, want %v", tz, got, want)
		}
	}

	for _, tc := range []struct {
		name, tz string
		w        v1alpha1.HoursWindow
		at       string
		open     bool
	}{
		// Paris springs forward on Sunday 2026-03-29 at 02:00 CET to 03:00 CEST.
		{"spring before", "Europe/Paris", v1alpha1.HoursWindow{Day: "Sunday", Start: "01:00", End: "04:00"}, "2026-03-29T00:30:00Z", true},     // 01:30 CET
		{"spring after", "Europe/Paris", v1alpha1.HoursWindow{Day: "Sunday", Start: "01:00", End: "04:00"}, "2026-03-29T01:30:00Z", true},      // 03:30 CEST
		{"spring end", "Europe/Paris", v1alpha1.HoursWindow{Day: "Sunday", Start: "01:00", End: "04:00"}, "2026-03-29T02:00:00Z", false},       // 04:00 CEST
		{"spring late", "Europe/Paris", v1alpha1.HoursWindow{Day: "Sunday", Start: "01:00", End: "04:00"}, "2026-03-29T01:59:00Z", true},       // 03:59 CEST
		{"spring wall clock", "Europe/Paris", v1alpha1.HoursWindow{Day: "Sunday", Start: "09:00", End: "10:00"}, "2026-03-29T07:30:00Z", true}, // 09:30 CEST
		// ... and falls back on Sunday 2026-10-25 at 03:00 CEST to 02:00 CET: 02:15 happens twice.
		{"fall first 02:15", "Europe/Paris", v1alpha1.HoursWindow{Day: "Sunday", Start: "02:00", End: "02:30"}, "2026-10-25T00:15:00Z", true},
		{"fall second 02:15", "Europe/Paris", v1alpha1.HoursWindow{Day: "Sunday", Start: "02:00", End: "02:30"}, "2026-10-25T01:15:00Z", true},
		{"fall 02:45", "Europe/Paris", v1alpha1.HoursWindow{Day: "Sunday", Start: "02:00", End: "02:30"}, "2026-10-25T01:45:00Z", false},
		// New York springs forward on Sunday 2026-03-08; a window past midnight spans the change.
		{"NY night before", "America/New_York", v1alpha1.HoursWindow{Day: "Saturday", Start: "22:00", End: "06:00"}, "2026-03-08T06:30:00Z", true}, // 01:30 EST
		{"NY night after", "America/New_York", v1alpha1.HoursWindow{Day: "Saturday", Start: "22:00", End: "06:00"}, "2026-03-08T09:59:00Z", true},  // 05:59 EDT
		{"NY night end", "America/New_York", v1alpha1.HoursWindow{Day: "Saturday", Start: "22:00", End: "06:00"}, "2026-03-08T10:00:00Z", false},   // 06:00 EDT
		{"NY night start", "America/New_York", v1alpha1.HoursWindow{Day: "Saturday", Start: "22:00", End: "06:00"}, "2026-03-08T02:59:00Z", false}, // Sat 21:59 EST
		// Tokyo has no DST; Auckland's Sunday evening is Sunday morning in UTC.
		{"Tokyo", "Asia/Tokyo", v1alpha1.HoursWindow{Day: "Monday", Start: "08:00", End: "09:00"}, "2026-06-14T23:30:00Z", true},          // Mon 08:30
		{"Auckland", "Pacific/Auckland", v1alpha1.HoursWindow{Day: "Sunday", Start: "20:00", End: "02:00"}, "2026-06-14T13:00:00Z", true}, // Mon 01:00 NZST
	} {
		if got := compiledHours(t, tc.tz, tc.w).isOpen(utc(tc.at)); got != tc.open {
			t.Errorf("%s: open = %v, want %v", tc.name, got, tc.open)
		}
	}
}

func businessSpec(action v1alpha1.OutsideHoursAction) *v1alpha1.HandoverPolicySpec {
	var ws []v1alpha1.HoursWindow
	for _, d := range []string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday"} {
		ws = append(ws, v1alpha1.HoursWindow{Day: d, Start: "09:00", End: "17:00"})
	}
	oh := v1alpha1.OutsideHours{Action: action}
	if action == v1alpha1.OutsidePassTo {
		oh.AppID = otherApp
	}
	return &v1alpha1.HandoverPolicySpec{
		Handoff: v1alpha1.HandoffSpec{Triggers: v1alpha1.Triggers{
			QuickReplyPayloads: []string{v1alpha1.PassToInboxPayload},
			PostbackPayloads:   []string{"HUMAN"},
			Keywords:           []string{"agent"},
			Patterns:           []string{`(?i)^help\b`},
		}},
		BusinessHours: &v1alpha1.BusinessHours{TimeZone: "Europe/Paris", Windows: ws, OutsideHours: oh},
	}
}

// Precedence: payload triggers first, then business hours, then keywords and patterns.
func TestBusinessHoursPrecedence(t *testing.T) {
	open := t0                            // Wednesday 10:00 in Paris
	closed := utc("2026-06-10T18:00:00Z") // Wednesday 20:00 in Paris
	const (
		handoffOpen  = handoffMsg + " > " + passInbox
		closedMsg    = "send[outside_hours](We are closed right now)"
		anywayInbox  = "send[outside_hours](The bot is passing control to the Page Inbox) > pass[outside_hours](" + inbox + ")"
		passToOther  = "send[outside_hours](The bot is passing control to the Page Inbox) > pass[outside_hours](" + otherApp + ")"
		welcomeReply = welcomeMsg
	)
	inputs := map[string]Event{
		"quick reply": quick(Messaging, "Pass to Inbox", v1alpha1.PassToInboxPayload),
		"postback":    postback(Messaging, "Talk to a human", "HUMAN"),
		"keyword":     text(Messaging, "an agent please"),
		"pattern":     text(Messaging, "Help me"),
		"plain":       text(Messaging, "what are your prices?"),
	}
	for _, tc := range []struct {
		action v1alpha1.OutsideHoursAction
		at     time.Time
		want   map[string]string
	}{
		{v1alpha1.OutsideBotOnly, open, map[string]string{
			"quick reply": handoffOpen, "postback": handoffOpen, "keyword": handoffOpen, "pattern": handoffOpen, "plain": welcomeReply}},
		// Outside hours with BotOnly: an explicit request gets the out-of-hours message; typed text
		// is not evaluated as a handoff at all.
		{v1alpha1.OutsideBotOnly, closed, map[string]string{
			"quick reply": closedMsg, "postback": closedMsg, "keyword": welcomeReply, "pattern": welcomeReply, "plain": welcomeReply}},
		{v1alpha1.OutsidePassAnyway, closed, map[string]string{
			"quick reply": anywayInbox, "postback": anywayInbox, "keyword": anywayInbox, "pattern": anywayInbox, "plain": welcomeReply}},
		{v1alpha1.OutsidePassTo, closed, map[string]string{
			"quick reply": passToOther, "postback": passToOther, "keyword": passToOther, "pattern": passToOther, "plain": welcomeReply}},
		{v1alpha1.OutsidePassTo, open, map[string]string{
			"quick reply": handoffOpen, "keyword": handoffOpen, "plain": welcomeReply}},
	} {
		p := page(t, businessSpec(tc.action))
		for name, want := range tc.want {
			d := Decide(p, inputs[name], Thread{Owner: OwnerUs}, tc.at)
			if got := describe(d.Actions); got != want {
				t.Errorf("%s at %s, %s:\n got  %s\n want %s", tc.action, tc.at.Format(time.Kitchen), name, got, want)
			}
			passes := len(d.Actions) > 0 && len(d.Actions[0].Then) > 0
			if passes != !d.Thread.PassedAt.IsZero() || passes != (d.Thread.Owner == OwnerOther) {
				t.Errorf("%s %s: thread %+v does not match the actions", tc.action, name, d.Thread)
			}
		}
	}
	// Take-backs ignore business hours.
	p := page(t, businessSpec(v1alpha1.OutsideBotOnly))
	wantActions(t, Decide(p, quick(Standby, "Take From Inbox", "take_from_inbox"), Thread{Owner: OwnerOther}, closed),
		"take[take_back] > "+takeBackMsg)
}
