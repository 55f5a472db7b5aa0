package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// batcher sends the hot path's scripts of concurrent deliveries together: each of a few senders
// takes every request waiting and sends them in one pipeline (one write and one read for the
// lot instead of one each). Nothing waits for a batch to fill: a request that finds a sender
// idle goes at once, alone. Each request is still its own script, answered on its own.
type batcher struct {
	c       *redis.Client
	timeout time.Duration
	reqs    chan *batchReq
	stop    chan struct{}
}

type batchReq struct {
	script *redis.Script
	keys   []string
	args   []any
	cmd    *redis.Cmd
	done   chan struct{}
}

const (
	batchSenders = 4
	batchMax     = 128
)

var errClosed = errors.New("the Redis store is closed")

func newBatcher(c *redis.Client, timeout time.Duration) *batcher {
	b := &batcher{c: c, timeout: timeout, reqs: make(chan *batchReq, batchMax), stop: make(chan struct{})}
	for range batchSenders {
		go b.send()
	}
	return b
}

func (b *batcher) close() { close(b.stop) }

// run runs script with keys and args in the next batch. When ctx ends first the script may
// still run (as when a connection breaks after a write): the callers' records and commits are
// safe to see done or not.
func (b *batcher) run(ctx context.Context, script *redis.Script, keys []string, args ...any) *redis.Cmd {
	r := &batchReq{script: script, keys: keys, args: args, done: make(chan struct{})}
	fail := func(err error) *redis.Cmd {
		cmd := redis.NewCmd(ctx)
		cmd.SetErr(err)
		return cmd
	}
	select {
	case b.reqs <- r:
	case <-b.stop:
		return fail(errClosed)
	case <-ctx.Done():
		return fail(ctx.Err())
	}
	select {
	case <-r.done:
		return r.cmd
	case <-ctx.Done():
		return fail(ctx.Err())
	}
}

func (b *batcher) send() {
	batch := make([]*batchReq, 0, batchMax)
	for {
		select {
		case <-b.stop:
			return
		case r := <-b.reqs:
			batch = append(batch[:0], r)
		}
	more:
		for len(batch) < batchMax {
			select {
			case r := <-b.reqs:
				batch = append(batch, r)
			default:
				break more
			}
		}
		b.exec(batch)
	}
}

func (b *batcher) exec(batch []*batchReq) {
	ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
	defer cancel()
	if len(batch) == 1 {
		r := batch[0]
		r.cmd = r.script.Run(ctx, b.c, r.keys, r.args...)
		close(r.done)
		return
	}
	_, _ = b.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, r := range batch {
			r.cmd = p.EvalSha(ctx, r.script.Hash(), r.keys, r.args...)
		}
		return nil
	})
	for _, r := range batch {
		if err := r.cmd.Err(); err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT") {
			r.cmd = r.script.Run(ctx, b.c, r.keys, r.args...) // the server restarted: loads it again
		}
		close(r.done)
	}
}
