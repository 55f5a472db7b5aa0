package simulator

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestTimelineRecordsDeliveriesCallsAndOwnership(t *testing.T) {
	e := newEnv(t, nil)
	e.say("hi")
	e.wantOK(e.send(botName, "Hello"))
	e.wantOK(e.handover(botName, "pass_thread_control", map[string]any{"target_app_id": InboxAppID}))
	e.wantErr(e.send(botName, "still me?"), 10, 2018300)
	tl := e.sim.Timeline(0)
	var owners, graph, deliveries, steps []TimelineEvent
	for i, ev := range tl {
		if ev.Seq != int64(i+1) {
			t.Fatalf("seq %d at %d", ev.Seq, i)
		}
		switch ev.Kind {
		case TimelineOwner:
			owners = append(owners, ev)
		case TimelineGraph:
			graph = append(graph, ev)
		case TimelineDelivery:
			deliveries = append(deliveries, ev)
		case TimelineStep:
			steps = append(steps, ev)
		}
	}
	if len(owners) != 2 || owners[0].From != "none" || owners[0].To != botName || owners[1].From != botName ||
		owners[1].To != InboxName || owners[1].PSID != psid || !strings.Contains(owners[1].Cause, "pass_thread_control") {
		t.Fatalf("owner events %+v", owners)
	}
	if len(graph) != 3 || graph[0].Endpoint != EndpointMessages || graph[0].Status != 200 || graph[0].App != botName ||
		graph[2].Code != 10 || graph[2].Subcode != 2018300 || graph[2].Status != 400 {
		t.Fatalf("graph events %+v", graph)
	}
	if len(deliveries) == 0 || deliveries[0].Attempt != 1 || deliveries[0].Status != 200 || !deliveries[0].OK || deliveries[0].Pages[0] != pageID {
		t.Fatalf("delivery events %+v", deliveries)
	}
	if len(steps) == 0 || steps[0].Step.Kind != StepSay {
		t.Fatalf("step events %+v", steps)
	}
	raw, _ := json.Marshal(tl)
	if strings.Contains(string(raw), e.token(botName)) || strings.Contains(string(raw), botSec) {
		t.Fatal("a token or secret reached the timeline")
	}
	if got := e.sim.Timeline(int64(len(tl) - 1)); len(got) != 1 || got[0].Seq != int64(len(tl)) {
		t.Fatalf("Timeline(since) = %+v", got)
	}
}

func TestTimelineLongPollAndSubscribe(t *testing.T) {
	e := newEnv(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sub := e.sim.SubscribeTimeline(ctx, 0)
	got := make(chan []TimelineEvent, 1)
	go func() {
		evs, _ := e.sim.WaitTimeline(ctx, 0)
		got <- evs
	}()
	e.say("hi")
	if evs := <-got; len(evs) == 0 || evs[0].Seq != 1 {
		t.Fatalf("long poll = %+v", evs)
	}
	seen := map[string]bool{}
	for ev := range sub {
		seen[ev.Kind] = true
		if seen[TimelineStep] && seen[TimelineOwner] && seen[TimelineDelivery] {
			cancel()
		}
	}
	if !seen[TimelineDelivery] {
		t.Fatalf("subscription saw %v", seen)
	}
}
