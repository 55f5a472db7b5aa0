package harness

import (
	"errors"
	"io"
	"net/http"
	"sync/atomic"
)

// lossyTransport carries the simulator's webhook POSTs and can lose answers: the webhook gets
// and handles the request, but the simulator sees no answer, as when Meta's 5-second deadline
// passes or the connection drops on the way back. Meta then redelivers the same body.
type lossyTransport struct {
	base http.RoundTripper
	lose atomic.Int32
}

var errAnswerLost = errors.New("harness: the answer was lost on the way back")

func (t *lossyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	for {
		n := t.lose.Load()
		if n <= 0 {
			return resp, nil
		}
		if t.lose.CompareAndSwap(n, n-1) {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			return nil, errAnswerLost
		}
	}
}
