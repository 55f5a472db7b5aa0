package graph

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"time"

	"k8s.io/apimachinery/pkg/util/cache"
)

// Profile is what the webhook uses of a user's profile.
type Profile struct {
	FirstName string
}

// The profile cache: at most profileCacheSize users (the least recently used go first); a
// profile is kept a day, a failure five minutes.
const (
	profileCacheSize = 10000
	profileTTL       = 24 * time.Hour
	profileFailTTL   = 5 * time.Minute
)

// profileCache maps a PSID to a profileEntry.
type profileCache = cache.LRUExpireCache

type profileEntry struct {
	p   Profile
	err error
}

type clockFunc func() time.Time

func (f clockFunc) Now() time.Time { return f() }

func newProfileCache(size int, now func() time.Time) *profileCache {
	return cache.NewLRUExpireCacheWithClock(size, clockFunc(now))
}

// UserProfile returns the user's first name, from a per-PSID cache when possible. Failures
// (no Business Asset User Profile Access, 2018218 phone-only accounts, network) are cached
// briefly too, so that a page without profile access does not pay a call per message; the
// caller then uses its fallback text.
func (c *Client) UserProfile(ctx context.Context, psid string) (Profile, error) {
	if psid == "" {
		return Profile{}, errors.New("graph user_profile: empty psid")
	}
	if v, ok := c.profiles.Get(psid); ok {
		e := v.(profileEntry)
		return e.p, e.err
	}
	var p Profile
	u, err := c.url(url.PathEscape(psid), "fields=first_name")
	if err != nil {
		return p, err
	}
	err = c.call(ctx, c.get(EndpointProfile, u, func(b []byte) error {
		var a struct {
			FirstName string `json:"first_name"`
		}
		if err := json.Unmarshal(b, &a); err != nil {
			return err
		}
		p.FirstName = a.FirstName
		return nil
	}))
	if err == nil && p.FirstName == "" {
		err = &apiError{Endpoint: EndpointProfile, Status: 200, Message: "no first_name in the profile"}
	}
	if ctx.Err() == nil { // a cancelled caller says nothing about the profile
		ttl := profileTTL
		if err != nil {
			ttl = profileFailTTL
		}
		c.profiles.Add(psid, profileEntry{p: p, err: err}, ttl)
	}
	return p, err
}
