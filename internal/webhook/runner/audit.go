package runner

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"time"

	"github.com/messenger-operator/messenger-operator/api/v1alpha1"
	"github.com/messenger-operator/messenger-operator/internal/handover"
)

// The handover audit: one structured line per handover the bot decides (record "decision", with
// the call's outcome) and per change of a thread's owner (record "owner": by the bot's own call or
// by another app's, as the platform reports it). Each line names the page, the user as an HMAC of
// the PSID with the app's audit key (so that every replica names one user alike and the log never
// holds the PSID), from, to, trigger, reason and outcome; never any message text.
const (
	auditMessage   = "handover"
	recordDecision = "decision"
	recordOwner    = "owner"
)

// Owner names of the audit and of the handover metrics' direction.
const (
	partyBot   = "bot"
	partyInbox = "inbox"
	partyIdle  = "idle"
	partyApp   = "app" // another app; the log adds its id
)

// auditor hashes users and writes audit lines.
type auditor struct {
	log *slog.Logger
	key []byte
}

// newAuditor uses key, or a random key of this process when there is none (the users' hashes
// then differ between replicas and restarts, which the log says once).
func newAuditor(log *slog.Logger, key []byte) *auditor {
	if len(key) == 0 {
		key = make([]byte, 32)
		_, _ = rand.Read(key)
		log.Warn("no audit key (env AUDIT_KEY): the handover audit hashes users with a key of this process only")
	}
	return &auditor{log: log, key: key}
}

// user is the audit's name of a PSID: HMAC-SHA256 with the audit key, 128 bits in hex.
func (a *auditor) user(psid string) string {
	m := hmac.New(sha256.New, a.key)
	m.Write([]byte(psid))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// auditLine is one line of the audit.
type auditLine struct {
	record, page, psid, from, to, trigger, reason, outcome string
}

func (a *auditor) write(l auditLine) {
	a.log.Info(auditMessage, "audit", l.record, "page", l.page, "user", a.user(l.psid),
		"from", l.from, "to", l.to, "trigger", l.trigger, "reason", l.reason, "outcome", l.outcome)
}

// party names an owner by app id: the bot (appID of the page), the Page Inbox, idle (""), or
// another app.
func party(appID, ourAppID string) string {
	switch appID {
	case ourAppID:
		return partyBot
	case v1alpha1.PageInboxAppID:
		return partyInbox
	case "":
		return partyIdle
	}
	return partyApp
}

// partyName is party with another app's id added, for the log.
func partyName(appID, ourAppID string) string {
	if p := party(appID, ourAppID); p != partyApp {
		return p
	}
	return partyApp + ":" + appID
}

// threadParty names the owner of th as the webhook knows it; "unknown" when it does not.
func threadParty(th *handover.Thread, ourAppID string) string {
	switch th.Owner {
	case handover.OwnerUs:
		return partyBot
	case handover.OwnerIdle:
		return partyIdle
	case handover.OwnerOther:
		if th.OwnerAppID == "" {
			return partyApp
		}
		return partyName(th.OwnerAppID, ourAppID)
	}
	return "unknown"
}

// triggerOf names what set a decision off, from the event (never its text).
func triggerOf(w *work) string {
	if w.tick {
		return "idle_timer"
	}
	ev := &w.ev
	switch {
	case ev.Kind == handover.KindMessage && ev.HasQuickReply:
		return "quick_reply"
	case ev.Kind == handover.KindMessage && ev.Text != "":
		return "text"
	case ev.Kind == handover.KindMessage:
		return "attachment"
	}
	return kindName(ev.Kind)
}

// direction is the handover metrics' label of a change of owner to party to.
func direction(to string) string {
	switch to {
	case partyBot:
		return "to_bot"
	case partyInbox:
		return "to_inbox"
	case partyIdle:
		return "to_idle"
	}
	return "to_app"
}

// auditHandover records the outcome of the bot's own pass or take: a decision line and, when
// the call succeeded, the change of owner with its metrics. before is the thread as it was
// before the decision (a pass records the target as owner at once).
func (r *Runner) auditHandover(live *livePage, psid string, st *step, before handover.Thread, ok bool, outcome string) {
	our := live.page.AppID
	from, to, dir := partyBot, partyName(st.act.TargetAppID, our), direction(party(st.act.TargetAppID, our))
	if st.act.Kind == handover.ActTake {
		from, to, dir = threadParty(&before, our), partyBot, direction(partyBot)
	}
	l := auditLine{record: recordDecision, page: live.page.PageID, psid: psid, from: from, to: to,
		trigger: st.trigger, reason: st.act.Reason, outcome: outcome}
	r.audit.write(l)
	if !ok {
		return
	}
	l.record = recordOwner
	r.audit.write(l)
	r.metrics.handover(live.page.PageID, dir, st.act.Reason)
	if st.act.Kind == handover.ActTake {
		r.metrics.backWithBot(live.page.PageID, st.awaySince, r.clock.Now())
		if st.act.Reason == handover.ReasonIdleTimeout {
			r.metrics.idleTakeBack(live.page.PageID)
		}
	}
}

// Reasons of the changes of owner another app made.
const (
	reasonDoneByOther = "done"   // control passed back to the bot
	reasonTaken       = "taken"  // control taken from the bot
	reasonPassed      = "passed" // control passed between other apps
)

// ownerEvent records a change of owner another app made (pass_thread_control,
// take_thread_control), as the platform reported it, and the time the thread spent away from
// the bot when it comes back to it.
func (r *Runner) ownerEvent(live *livePage, ev *handover.Event, before handover.Thread, now time.Time) {
	our := live.page.AppID
	from := threadParty(&before, our)
	if ev.PreviousOwnerAppID != "" {
		from = partyName(ev.PreviousOwnerAppID, our)
	}
	to := partyName(ev.NewOwnerAppID, our)
	if from == to || threadParty(&before, our) == to {
		return // nothing changed as far as the webhook knows (its own take, reported back)
	}
	reason := reasonPassed
	switch {
	case to == partyBot:
		reason = reasonDoneByOther
	case ev.Kind == handover.KindTakeThreadControl:
		reason = reasonTaken
	}
	r.audit.write(auditLine{record: recordOwner, page: live.page.PageID, psid: ev.PSID, from: from, to: to,
		trigger: kindName(ev.Kind), reason: reason, outcome: "ok"})
	r.metrics.handover(live.page.PageID, direction(party(ev.NewOwnerAppID, our)), reason)
	if to == partyBot {
		at := ev.Timestamp
		if at.IsZero() {
			at = now
		}
		r.metrics.backWithBot(live.page.PageID, before.PassedAt, at)
	}
}

// agentReplied observes, on the first message of a person after the bot passed the thread to
// the Page Inbox, how long the user waited for it.
func (r *Runner) agentReplied(live *livePage, ev *handover.Event, before, after handover.Thread) {
	if ev.Kind != handover.KindEcho || before.AgentActive || !after.AgentActive || before.PassedAt.IsZero() ||
		ev.EchoAppID != v1alpha1.PageInboxAppID {
		return
	}
	r.metrics.firstReply(live.page.PageID, ev.Timestamp.Sub(before.PassedAt))
}
