package simulator

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// twoPages: the bot app is subscribed to two Pages and has one callback (reference §2.1).
func twoPages(o *Options) {
	o.Pages = append(o.Pages, PageConfig{ID: page2, Name: "Outlet", DefaultApp: botName, Apps: []string{botName}})
}

// Within the batch window, an app subscribed to several Pages gets their entries in one POST to
// its one callback (reference §2.1); Delivery.Pages names them.
func TestBatchWindowCollectsSeveralPages(t *testing.T) {
	e := newEnv(t, func(o *Options) {
		twoPages(o)
		o.BatchWindow = 200 * time.Millisecond
	})
	errs := make(chan error, 2)
	go func() { errs <- e.sim.Customer(pageID, psid).Say("to the shop") }()
	go func() { errs <- e.sim.Customer(page2, psid2).Say("to the outlet") }()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	posts := e.bot.allPosts()
	if len(posts) != 1 || !posts[0].valid {
		t.Fatalf("posts = %d, want one signed POST", len(posts))
	}
	if evs := decodeEvents(t, posts[0].body); len(evs) != 2 || evs[0].page == evs[1].page {
		t.Fatalf("body = %s", posts[0].body)
	}
	if d := e.sim.Deliveries(botName); len(d[0].Pages) != 2 || d[0].Pages[0] == d[0].Pages[1] {
		t.Fatalf("delivery pages = %v", d[0].Pages)
	}
}

func TestMaxBatchEventsSplitsAFlush(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.MaxBatchEvents = 2 })
	e.sim.Hold()
	for i := range 5 {
		if err := e.sim.Customer(pageID, psid).Say(fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	e.sim.Flush()
	e.idle()
	var sizes []int
	for _, d := range e.sim.Deliveries(botName) {
		sizes = append(sizes, d.Events)
	}
	if fmt.Sprint(sizes) != "[2 2 1]" {
		t.Fatalf("batch sizes = %v", sizes)
	}
}

// heldBody sends three messages from each of three people on hold and returns the order the
// flushed POST carries them in, as "person:n".
func heldBody(t *testing.T, mode ReorderMode, seed int64) []string {
	e := newEnv(t, func(o *Options) {
		o.Reorder, o.Seed = mode, seed
		o.Pages[0].Users = append(o.Pages[0].Users, UserConfig{PSID: psid2}, UserConfig{PSID: "3"})
	})
	e.sim.Hold()
	for n := range 3 {
		for _, p := range []string{psid, psid2, "3"} {
			if err := e.sim.Customer(pageID, p).Say(fmt.Sprintf("%s:%d", p, n)); err != nil {
				t.Fatal(err)
			}
		}
	}
	e.sim.Flush()
	e.idle()
	var order []string
	for _, g := range decodeEvents(t, e.bot.allPosts()[0].body) {
		order = append(order, g.ev.Message.Text)
	}
	return order
}

func TestReorderAcrossAndWithinUsers(t *testing.T) {
	inOrder := fmt.Sprint(heldBody(t, InOrder, 0))
	across := heldBody(t, ReorderAcrossUsers, 7)
	if fmt.Sprint(across) == inOrder || len(across) != 9 {
		t.Fatalf("across users: %v (in order: %s)", across, inOrder)
	}
	// Each person's own messages keep their order.
	next := map[string]int{}
	for _, m := range across {
		p, n := splitMark(m)
		if n != next[p] {
			t.Fatalf("across users reordered a person's own messages: %v", across)
		}
		next[p]++
	}
	within := heldBody(t, ReorderWithinUsers, 7)
	swapped := false
	last := map[string]int{}
	for _, m := range within {
		p, n := splitMark(m)
		if v, ok := last[p]; ok && n < v {
			swapped = true
		}
		last[p] = n
	}
	if !swapped || len(within) != 9 {
		t.Fatalf("within users kept every person's order: %v", within)
	}
	// The seed makes it repeatable.
	if fmt.Sprint(heldBody(t, ReorderWithinUsers, 7)) != fmt.Sprint(within) {
		t.Fatal("same seed, different order")
	}
}

func splitMark(m string) (string, int) {
	p, n, _ := strings.Cut(m, ":")
	v, _ := strconv.Atoi(n)
	return p, v
}
