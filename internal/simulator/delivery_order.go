package simulator

import "math/rand/v2"

// Batching, ordering and duplicates of webhook bodies (reference §2.1, §2.3).

// ReorderMode says whether events collected into one body keep their order.
type ReorderMode int

const (
	// InOrder keeps events in the order they happened (the messages reference: "Messages are
	// always sent in order").
	InOrder ReorderMode = iota
	// ReorderAcrossUsers shuffles the events of different people (and Pages) among themselves;
	// each person's own events keep their order (§2.3: ordering "not guaranteed ... across
	// entries").
	ReorderAcrossUsers
	// ReorderWithinUsers shuffles every event, a person's own included (§2.3: the webhooks page
	// tells receivers to sort by timestamp).
	ReorderWithinUsers
)

// buildBody groups a batch into entries: consecutive events of the same Page and channel share an
// entry (an entry carries either messaging or standby, §2.1); entries of several Pages share the
// body (§2.1: "One POST can contain entries for different Pages"). It also returns the Page ids.
func (s *Simulator) buildBody(batch []*queued) (*webhookBody, []string) {
	body := &webhookBody{Object: "page"}
	var pages []string
	seen := map[string]bool{}
	var last *entry
	var lastPage, lastChannel string
	for _, q := range batch {
		if !seen[q.pageID] {
			seen[q.pageID] = true
			pages = append(pages, q.pageID)
		}
		if last == nil || q.pageID != lastPage || q.channel != lastChannel {
			last = &entry{ID: s.id(q.pageID, idPlain)}
			body.Entry = append(body.Entry, last)
			lastPage, lastChannel = q.pageID, q.channel
		}
		if q.channel == ChannelStandby {
			last.Standby = append(last.Standby, q.ev)
		} else {
			last.Messaging = append(last.Messaging, q.ev)
		}
		if q.ev.Timestamp > last.Time {
			last.Time = q.ev.Timestamp
		}
	}
	return body, pages
}

// reorder applies Options.Reorder to an app's batch (s.mu held). Each app has its own random
// source so the order is repeatable whatever the order the apps' workers run in.
func (s *Simulator) reorder(appID string, batch []*queued) []*queued {
	if s.opts.Reorder == InOrder || len(batch) < 2 {
		return batch
	}
	rng := s.rngs[appID]
	if rng == nil {
		seed := uint64(s.opts.Seed)
		for _, c := range appID {
			seed = seed*31 + uint64(c)
		}
		rng = rand.New(rand.NewPCG(seed, 0x5eed))
		s.rngs[appID] = rng
	}
	out := append([]*queued(nil), batch...)
	if s.opts.Reorder == ReorderWithinUsers {
		rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
		return out
	}
	// Across users: pick the next person at random, then take that person's oldest event left.
	var order []string
	byUser := map[string][]*queued{}
	for _, q := range batch {
		k := q.pageID + "/" + q.psid
		if _, ok := byUser[k]; !ok {
			order = append(order, k)
		}
		byUser[k] = append(byUser[k], q)
	}
	out = out[:0]
	for len(order) > 0 {
		i := rng.IntN(len(order))
		k := order[i]
		out = append(out, byUser[k][0])
		byUser[k] = byUser[k][1:]
		if len(byUser[k]) == 0 {
			order = append(order[:i:i], order[i+1:]...)
		}
	}
	return out
}

// duplicateLocked decides whether an app's acknowledged body is sent again: its every
// DuplicateEvery-th acknowledged body, and the next ones asked for with DuplicateNext.
func (s *Simulator) duplicateLocked(appID string) bool {
	if s.dupNext > 0 {
		s.dupNext--
		return true
	}
	if s.opts.DuplicateEvery <= 0 {
		return false
	}
	s.acked[appID]++
	return s.acked[appID]%s.opts.DuplicateEvery == 0
}

// DuplicateNext makes the next n acknowledged POSTs (any app) arrive twice.
func (s *Simulator) DuplicateNext(n int) {
	s.mu.Lock()
	s.dupNext += n
	s.mu.Unlock()
}
