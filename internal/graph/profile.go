package graph

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"sync"
	"time"
)

// Profile is what the webhook uses of a user's profile.
type Profile struct {
	FirstName string
}

// UserProfile returns the user's first name, from a per-PSID cache when possible. Failures
// (no Business Asset User Profile Access, 2018218 phone-only accounts, network) are cached
// briefly too, so that a page without profile access does not pay a call per message; the
// caller then uses its fallback text.
func (c *Client) UserProfile(ctx context.Context, psid string) (Profile, error) {
	if psid == "" {
		return Profile{}, errors.New("graph user_profile: empty psid")
	}
	now := c.now()
	if p, err, ok := c.profiles.get(psid, now); ok {
		return p, err
	}
	var p Profile
	u, err := c.parse(EndpointProfile, c.base+"/"+c.version+"/"+url.PathEscape(psid)+"?fields=first_name&access_token="+url.QueryEscape(c.token))
	if err != nil {
		return p, err
	}
	err = c.call(ctx, EndpointProfile, "GET", u, nil, true, func(b []byte) error {
		var a struct {
			FirstName string `json:"first_name"`
		}
		if err := json.Unmarshal(b, &a); err != nil {
			return err
		}
		p.FirstName = a.FirstName
		return nil
	})
	if err == nil && p.FirstName == "" {
		err = &Error{Endpoint: EndpointProfile, Status: 200, Message: "no first_name in the profile"}
	}
	if ctx.Err() == nil { // a cancelled caller says nothing about the profile
		c.profiles.put(psid, p, err, c.now())
	}
	return p, err
}

// profileCache is bounded: when full, an arbitrary entry makes room (expired ones first go
// lazily on lookup); a miss only costs one call.
type profileCache struct {
	mu      sync.Mutex
	m       map[string]profileEntry
	max     int
	ttl     time.Duration
	failTTL time.Duration
}

type profileEntry struct {
	p       Profile
	err     error
	expires time.Time
}

func newProfileCache(max int, ttl, failTTL time.Duration) *profileCache {
	if max <= 0 {
		max = 10000
	}
	if ttl <= 0 {
		ttl = 24 * time.Hour
	}
	if failTTL <= 0 {
		failTTL = 5 * time.Minute
	}
	return &profileCache{m: make(map[string]profileEntry), max: max, ttl: ttl, failTTL: failTTL}
}

func (pc *profileCache) get(psid string, now time.Time) (Profile, error, bool) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	e, ok := pc.m[psid]
	if !ok {
		return Profile{}, nil, false
	}
	if !now.Before(e.expires) {
		delete(pc.m, psid)
		return Profile{}, nil, false
	}
	return e.p, e.err, true
}

func (pc *profileCache) put(psid string, p Profile, err error, now time.Time) {
	ttl := pc.ttl
	if err != nil {
		ttl = pc.failTTL
	}
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if _, ok := pc.m[psid]; !ok && len(pc.m) >= pc.max {
		for k := range pc.m {
			delete(pc.m, k)
			break
		}
	}
	pc.m[psid] = profileEntry{p: p, err: err, expires: now.Add(ttl)}
}

func (pc *profileCache) len() int {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	return len(pc.m)
}
