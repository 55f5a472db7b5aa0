package runner

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/messenger-operator/messenger-operator/internal/graph"
	"github.com/messenger-operator/messenger-operator/internal/handover"
)

// maxDepth bounds the rounds of Outcome follow-ups for one event: the engine should need two or
// three (resolve owner, then answer, then the error message); more means a loop.
const maxDepth = 8

// runQueue runs a ready user queue on the calling worker until it is empty or waits for a retry.
func (r *Runner) runQueue(q *userQueue) {
	r.disp.markRunning(q)
	for {
		if len(q.agenda) > 0 {
			if !r.runStep(q) {
				return // waiting for a retry; q now belongs to its timer
			}
			continue
		}
		if q.busy {
			q.busy = false
			r.finish(q)
			r.disp.release(1, q.size)
		}
		if !r.holdLease(q) {
			return // another replica acts on the thread; q now belongs to its timer
		}
		if q.lease != nil {
			// Dead from the moment the queue may retire: a new queue of the thread, made once
			// this one is gone, must not take the token that releaseLease is about to give back.
			r.released.note(q.user, q.lease.Token)
		}
		w, ok := r.disp.next(q)
		if !ok {
			r.releaseLease(q)
			return
		}
		if q.lease != nil {
			r.released.kept(q.user, q.lease.Token)
		}
		q.busy, q.size, q.jid, q.left, q.repeat, q.dirty = true, w.size, w.jid, false, w.claimed, false
		if w.tick {
			// A claimed timer is due again later unless its handling rewrites it: by default it
			// is removed with the unchanged state.
			q.timerAt, q.dirty = time.Time{}, q.lease != nil
		}
		r.handle(q, &w)
	}
}

// finish ends the item in progress: committed under the thread's lease with a shared store
// (one round trip), acknowledged in the journal otherwise; left unacknowledged for another
// replica when it could not be finished here.
func (r *Runner) finish(q *userQueue) {
	switch {
	case q.left:
		r.leftToOthers(q.jid)
	case q.lease != nil:
		r.commit(q)
	default:
		r.handled(q.jid)
	}
}

// thread is the state of q's thread: the one this holder keeps under its lease, else the store's.
func (r *Runner) thread(q *userQueue) handover.Thread {
	if q.lease != nil {
		return q.th
	}
	return r.store.Thread(q.user.page, q.user.psid)
}

// handle asks the engine about one event or tick and plans its actions.
func (r *Runner) handle(q *userQueue, w *work) {
	live := r.pageOf(q.user.page)
	if live.page.Handover == nil {
		r.ignore(ignoreNoPolicy)
		return
	}
	p := live.page.Handover
	now := r.clock.Now()
	psid := q.user.psid
	th := r.thread(q)
	var d handover.Decision
	kind := "tick"
	if w.tick {
		at := r.engine.NextTick(p, th)
		if at.IsZero() {
			return
		}
		if now.Before(at) {
			if q.lease != nil {
				q.setShared(th, at) // claimed too early: put it back
			} else {
				r.timers.schedule(q.user, at) // the thread changed since the timer was set
			}
			return
		}
		d = r.engine.Tick(p, th, now)
	} else {
		kind = kindName(w.ev.Kind)
		live.noteRouting(&w.ev, &th)
		d = r.engine.Decide(p, w.ev, th, now)
		r.noteEvent(live, &w.ev, th, d.Thread, now)
	}
	r.setThread(q, live, p, psid, d.Thread)
	r.noteDecision(live, &d, kind, psid)
	if len(d.Actions) == 0 {
		return
	}
	q.agenda = q.agenda[:0]
	trigger := triggerOf(w)
	for _, a := range d.Actions {
		q.agenda = append(q.agenda, step{act: a, kind: kind, trigger: trigger, awaySince: th.PassedAt})
	}
}

// noteEvent audits what an event of the platform tells of the thread's owner (another app
// passed or took it) and of the agent (the first reply after a pass to the Page Inbox). A stale
// event changed nothing.
func (r *Runner) noteEvent(live *livePage, ev *handover.Event, before, after handover.Thread, now time.Time) {
	if before == after {
		return
	}
	switch ev.Kind {
	case handover.KindPassThreadControl, handover.KindTakeThreadControl:
		r.ownerEvent(live, ev, before, now)
	case handover.KindEcho:
		r.agentReplied(live, ev, before, after)
	}
}

// noteDecision counts and logs what a decision left undone: the event it ignored (when it has
// no actions; after an owner check too) and the message it suppressed.
func (r *Runner) noteDecision(live *livePage, d *handover.Decision, kind, psid string) {
	if d.Suppressed != "" {
		r.metrics.inc(r.metrics.suppressed, d.Suppressed)
		r.log.Debug("message suppressed", "reason", d.Suppressed, "event", kind, "page", live.page.PageID, "psid", psid)
	}
	if len(d.Actions) == 0 && d.Ignored != "" {
		r.ignore(d.Ignored, slog.String("kind", kind), slog.String("page", live.page.PageID), slog.String("psid", psid))
	}
}

func (r *Runner) setThread(q *userQueue, live *livePage, p *handover.Page, psid string, th handover.Thread) {
	if q.lease != nil {
		q.setShared(th, r.engine.NextTick(p, th)) // the timer is shared too; both at the commit
		return
	}
	r.store.SetThread(live.page.PageID, psid, th)
	r.timers.schedule(userKey{page: live.page.PageID, psid: psid}, r.engine.NextTick(p, th))
}

// runStep runs the first action of q's agenda once. It returns false when the action will be
// retried after a backoff (the queue then waits); otherwise the action is done, its outcome fed
// to the engine and the follow-ups put first on the agenda.
func (r *Runner) runStep(q *userQueue) bool {
	st := q.agenda[0]
	// The page may have left the webhook since the event was taken: then there is no compiled
	// page, and the action fails as internal.
	live := r.pageOf(q.user.page)
	p := live.page.Handover
	psid := q.user.psid
	if st.act.PSID == "" {
		st.act.PSID = psid
	}
	if !r.leaseForAction(q) {
		return true
	}
	crashAt("leased", "")
	res, err := r.execute(live, p, &st.act, q.repeat)
	crashAt("called", endpointOf(st.act.Kind))
	meaning := graph.MeaningOf(err)
	var internal *internalError
	isInternal := errors.As(err, &internal)
	if err != nil && !isInternal && r.ctx.Err() != nil && r.journal != nil {
		// Stopping past the drain deadline: the call did not finish, and the event stays in
		// the journal, unacknowledged, for another replica (or this one restarted) to finish.
		r.log.Warn("stopping with an event unfinished: left in the journal for another replica", "page", live.page.PageID,
			"psid", psid, "endpoint", endpointOf(st.act.Kind), "event", st.kind)
		q.agenda, q.left = nil, true
		return true
	}
	if err != nil && !isInternal && meaning.Retry() {
		now := r.clock.Now()
		if st.first.IsZero() {
			st.first = now
		}
		if r.ctx.Err() == nil && now.Sub(st.first) < r.opts.RetryWindow {
			st.attempt++
			q.agenda[0] = st
			r.metrics.inc(r.metrics.retries, endpointOf(st.act.Kind))
			delay := r.backoff(st.attempt)
			r.log.Debug("graph call will be retried", "page", live.page.PageID, "psid", psid,
				"endpoint", endpointOf(st.act.Kind), "class", string(meaning), "attempt", st.attempt, "delay", delay)
			r.disp.wait(q)
			r.clock.AfterFunc(delay, func() { r.disp.wake(q) })
			return false
		}
		r.metrics.inc(r.metrics.deadLetters, endpointOf(st.act.Kind))
		r.log.Error("graph call given up (dead letter)", "page", live.page.PageID, "psid", psid,
			"endpoint", endpointOf(st.act.Kind), "reason", st.act.Reason, "event", st.kind,
			"attempts", st.attempt+1, "class", string(meaning), "error", err.Error(), "shuttingDown", r.ctx.Err() != nil)
		res.Failure = handover.FailInternal
	} else if err != nil {
		r.logFailure(live, psid, &st, meaning, err)
	}
	r.metrics.inc(r.metrics.actions, actionName(st.act.Kind), st.act.Reason, resultLabel(res, meaning, isInternal))
	q.agenda = q.agenda[1:]
	if p == nil {
		q.agenda = nil
		return true
	}

	switch {
	case st.act.Kind == handover.ActTake:
		r.noteTake(live, res, err)
	case meaning == graph.TakeRefused:
		// "Handover Protocol APIs disabled" on thread_owner: no take can follow either.
		live.status.permit(false, "Conversation Routing refuses the handover APIs ("+err.Error()+
			"): set a default app for the page and allow this app to take control of conversations (Page settings, Advanced Messaging)")
	}
	th := r.thread(q)
	if st.act.Kind == handover.ActPass || st.act.Kind == handover.ActTake {
		r.auditHandover(live, psid, &st, th, res.OK, resultLabel(res, meaning, isInternal))
	}
	if st.act.Kind == handover.ActSend && meaning == graph.NotOwner && th.Owner == handover.OwnerUs && th.HandoverAt.IsZero() {
		live.routingAgainst(psid, "sends on threads this app was never passed away from are refused with 2018300")
	}
	od := r.engine.Outcome(p, th, res, r.clock.Now())
	r.setThread(q, live, p, psid, od.Thread)
	r.noteDecision(live, &od, st.kind, psid)

	var next []step
	if res.OK {
		for _, a := range st.act.Then {
			next = append(next, step{act: a, depth: st.depth, kind: st.kind, trigger: st.trigger, awaySince: st.awaySince})
		}
	}
	for _, a := range od.Actions {
		next = append(next, step{act: a, depth: st.depth + 1, kind: st.kind, trigger: st.trigger, awaySince: st.awaySince})
	}
	if len(next) > 0 && st.depth+1 > maxDepth {
		r.log.Error("engine follow-ups dropped: too many rounds for one event", "page", live.page.PageID, "psid", psid)
		next = nil
	}
	if len(next) > 0 {
		q.agenda = append(next, q.agenda...)
	}
	return true
}

// internalError is a failure inside the process (no Graph client, a malformed action): never
// retried, reported to the engine as FailInternal.
type internalError struct{ msg string }

func (e *internalError) Error() string { return e.msg }

// execute makes the Graph call of one action and describes its outcome for the engine.
func (r *Runner) execute(live *livePage, p *handover.Page, a *handover.Action, repeat bool) (handover.Result, error) {
	res := handover.Result{Action: *a}
	g := live.graph
	var err error
	switch {
	case p == nil:
		err = &internalError{"no compiled page"}
	case g == nil:
		err = &internalError{"no Graph client (invalid Graph configuration)"}
	default:
		ctx := r.ctx
		switch a.Kind {
		case handover.ActSend:
			if a.Message == nil {
				err = &internalError{"send action without a message"}
				break
			}
			first := a.Message.FirstNameFallback
			if a.Message.NeedsFirstName {
				prof, perr := g.UserProfile(ctx, a.PSID)
				r.noteGraph(live, perr)
				if perr == nil {
					first = prof.FirstName
				}
			}
			msg := r.engine.Render(a.Message, first, p.BusinessName)
			err = g.Send(ctx, a.PSID, msg)
			if templateRejected(a.Message, err) {
				// Templates do not render everywhere; the message's text is its fallback.
				r.log.Info("template rejected, sending its text instead", "page", live.page.PageID, "psid", a.PSID, "reason", a.Reason)
				err = g.Send(ctx, a.PSID, r.engine.RenderFallback(a.Message, first, p.BusinessName))
			}
		case handover.ActPass:
			if repeat && r.ownerIs(ctx, live, a.PSID, a.TargetAppID) {
				break // done before the replica that began the event stopped
			}
			err = g.PassThreadControl(ctx, a.PSID, a.TargetAppID, a.Metadata)
		case handover.ActTake:
			if repeat && r.ownerIs(ctx, live, a.PSID, live.page.AppID) {
				break
			}
			err = g.TakeThreadControl(ctx, a.PSID, a.Metadata)
		case handover.ActResolveOwner:
			var o graph.ThreadOwner
			o, err = g.ThreadOwner(ctx, a.PSID)
			if err == nil {
				switch {
				case o.Idle:
					res.Owner = handover.OwnerIdle
				case o.AppID != "" && o.AppID == live.page.AppID:
					res.Owner = handover.OwnerUs
				default: // another app, possibly hidden by Conversation Routing
					res.Owner, res.OwnerAppID = handover.OwnerOther, o.AppID
				}
			}
		default:
			err = &internalError{"unknown action kind"}
		}
	}
	res.OK = err == nil
	if err != nil {
		res.Failure = failureOf(graph.MeaningOf(err))
	}
	var internal *internalError
	if errors.As(err, &internal) {
		res.Failure = handover.FailInternal
	}
	r.noteGraph(live, err)
	return res, err
}

// ownerIs asks thread_owner whether appID owns the thread already: before a pass or a take of
// an event another replica may have handled in part, so that it is not repeated. An answer
// that says nothing (an error) lets the call go ahead.
func (r *Runner) ownerIs(ctx context.Context, live *livePage, psid, appID string) bool {
	o, err := live.graph.ThreadOwner(ctx, psid)
	r.noteGraph(live, err)
	return err == nil && appID != "" && o.AppID == appID
}

// failureOf is the one translation of the Graph client's meanings into the engine's failures.
// The meanings worth a retry reach the engine only once retries are given up: FailInternal.
func failureOf(m graph.Meaning) handover.Failure {
	switch m {
	case graph.NotSent, graph.Transient, graph.Throttled:
		return handover.FailInternal
	case graph.Ambiguous:
		return handover.FailAmbiguous
	case graph.NotOwner:
		return handover.FailNotOwner
	case graph.TakeRefused:
		return handover.FailTakeRefused
	case graph.AlreadyOwner:
		return handover.FailAlreadyOwner
	case graph.Unreachable:
		return handover.FailUnreachable
	case graph.OutsideWindow:
		return handover.FailOutsideWindow
	case graph.TokenInvalid:
		return handover.FailTokenInvalid
	case graph.NotAuthorized:
		return handover.FailNotAuthorized
	case graph.BadRequest:
		return handover.FailRejected
	}
	return handover.FailRefused
}

// templateRejected: the Send API refused a button or generic template's content (BadRequest),
// not the user, the thread or the app.
func templateRejected(m *handover.OutMessage, err error) bool {
	return (m.Buttons != nil || len(m.Cards) > 0) && graph.MeaningOf(err) == graph.BadRequest
}

// backoff is the delay before the attempt-th retry: RetryBase doubling up to RetryMax, of which
// half is fixed and half random (wait.Backoff jitters half the step by up to 100 %), so that
// retries of many users after an outage do not arrive together.
func (r *Runner) backoff(attempt int) time.Duration {
	b := wait.Backoff{Duration: r.opts.RetryBase / 2, Factor: 2, Jitter: 1, Steps: attempt, Cap: r.opts.RetryMax / 2}
	d := b.Step()
	for i := 1; i < attempt; i++ {
		d = b.Step()
	}
	return d
}

// noteGraph turns Graph answers into the GraphAuthorized condition: false when the token or the
// app is refused, true after a call succeeds.
func (r *Runner) noteGraph(live *livePage, err error) {
	switch graph.MeaningOf(err) {
	case graph.OK:
		live.status.auth(true, "Graph API calls with the page access token succeed")
	case graph.TokenInvalid:
		live.status.auth(false, "the Graph API rejects the page access token ("+err.Error()+
			"): it is invalid, expired or revoked; put a new page access token in the page's Secret")
	case graph.NotAuthorized:
		live.status.auth(false, "the Graph API refuses the app's call ("+err.Error()+"): every call carries "+
			"appsecret_proof, so the app secret in the page's Secret must be the app's; the page access token "+
			"needs the pages_messaging permission")
	}
}

// noteTake turns take results into the HandoverPermitted condition.
func (r *Runner) noteTake(live *livePage, res handover.Result, err error) {
	switch {
	case res.OK:
		live.status.permit(true, "take_thread_control succeeds")
	case r.engine.TakeRefused(res) && res.Failure == handover.FailNotAuthorized:
		r.metrics.takeRefused.Inc()
		r.log.Warn("take_thread_control refused: the app lacks a permission", "page", live.page.PageID, "error", err.Error())
		live.status.permit(false, "the Graph API refuses take_thread_control for want of a permission ("+err.Error()+
			"): the page access token needs pages_messaging, and the app Advanced Access to it (App Review) to take conversations of people without a role on the app")
	case r.engine.TakeRefused(res):
		r.metrics.takeRefused.Inc()
		r.log.Warn("Conversation Routing refused take_thread_control", "page", live.page.PageID, "error", err.Error())
		live.status.permit(false, "Conversation Routing refuses take_thread_control ("+err.Error()+
			"): set a default app for the page and allow this app to take control of conversations (Page settings, Advanced Messaging)")
	}
}

func (r *Runner) logFailure(live *livePage, psid string, st *step, meaning graph.Meaning, err error) {
	level := slog.LevelInfo
	if meaning == graph.Ambiguous || meaning == graph.TokenInvalid || meaning == graph.NotAuthorized {
		level = slog.LevelWarn
	}
	var internal *internalError
	if errors.As(err, &internal) {
		level = slog.LevelError
	}
	r.log.Log(context.Background(), level, "graph call failed", "page", live.page.PageID, "psid", psid,
		"endpoint", endpointOf(st.act.Kind), "reason", st.act.Reason, "event", st.kind,
		"class", string(meaning), "error", err.Error())
}

func resultLabel(res handover.Result, meaning graph.Meaning, internal bool) string {
	switch {
	case internal:
		return "internal_error"
	case !res.OK && res.Failure == handover.FailInternal:
		return "dead_letter"
	}
	return string(meaning)
}

func endpointOf(k handover.ActionKind) string {
	switch k {
	case handover.ActSend:
		return string(graph.EndpointSend)
	case handover.ActPass:
		return string(graph.EndpointPass)
	case handover.ActTake:
		return string(graph.EndpointTake)
	case handover.ActResolveOwner:
		return string(graph.EndpointThreadOwner)
	}
	return "unknown"
}

func actionName(k handover.ActionKind) string {
	switch k {
	case handover.ActSend:
		return "send"
	case handover.ActPass:
		return "pass"
	case handover.ActTake:
		return "take"
	case handover.ActResolveOwner:
		return "resolve_owner"
	}
	return "unknown"
}
