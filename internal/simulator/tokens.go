package simulator

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// tokenInfo is a Page access token: issued for one (app, page), revocable, with an expiry (zero:
// never, as Page tokens derived from long-lived user tokens), the end of data access and scopes
// (reference §7.4).
type tokenInfo struct {
	app, page  string
	revoked    bool
	issued     time.Time
	expires    time.Time
	dataAccess time.Time
	scopes     []string
}

// defaultScopes are the permissions a Page token of a messaging app carries (§4, §7.2).
var defaultScopes = []string{"pages_messaging", "pages_manage_metadata", "pages_show_list"}

// dataAccessPeriod: data access lasts 90 days from the user's last consent (§7.4).
const dataAccessPeriod = 90 * 24 * time.Hour

func (s *Simulator) newTokenLocked(appID, pageID string) *tokenInfo {
	now := s.clock.Now()
	return &tokenInfo{app: appID, page: pageID, issued: now, dataAccess: now.Add(dataAccessPeriod),
		scopes: append([]string(nil), defaultScopes...)}
}

func (ti *tokenInfo) has(scope string) bool {
	for _, sc := range ti.scopes {
		if sc == scope {
			return true
		}
	}
	return false
}

// caller is who a Graph request is made by, from its access token.
type caller struct {
	app      *app
	page     *page      // nil for an app token
	token    *tokenInfo // nil for an app token
	appToken bool
}

const tokenAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func randomString(n int, alphabet string) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// IssueToken issues a new Page access token for (app, page). Older tokens stay valid until revoked.
func (s *Simulator) IssueToken(appRef, pageID string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, p, err := s.connectedLocked(appRef, pageID)
	if err != nil {
		return "", err
	}
	tok := "EAAS" + randomString(60, tokenAlphabet)
	s.tokens[tok] = s.newTokenLocked(a.id, p.id)
	return tok, nil
}

// PageToken returns a valid token for (app, page), issuing one if there is none.
func (s *Simulator) PageToken(appRef, pageID string) (string, error) {
	s.mu.Lock()
	a, p, err := s.connectedLocked(appRef, pageID)
	if err != nil {
		s.mu.Unlock()
		return "", err
	}
	now := s.clock.Now()
	for tok, ti := range s.tokens {
		if ti.app == a.id && ti.page == p.id && !ti.revoked && (ti.expires.IsZero() || now.Before(ti.expires)) {
			s.mu.Unlock()
			return tok, nil
		}
	}
	s.mu.Unlock()
	return s.IssueToken(appRef, pageID)
}

// RevokeToken invalidates one token: every later call with it fails with 190/OAuthException.
func (s *Simulator) RevokeToken(token string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ti, ok := s.tokens[token]
	if !ok {
		return fmt.Errorf("simulator: unknown token")
	}
	ti.revoked = true
	s.logf("token of %s on page %s revoked", s.appName(ti.app), ti.page)
	return nil
}

// RevokeTokens invalidates every token of (app, page) and returns how many were revoked.
func (s *Simulator) RevokeTokens(appRef, pageID string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, p, err := s.connectedLocked(appRef, pageID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, ti := range s.tokens {
		if ti.app == a.id && ti.page == p.id && !ti.revoked {
			ti.revoked = true
			n++
		}
	}
	s.logf("%d token(s) of %s on page %s revoked", n, a.name, p.id)
	return n, nil
}

// SetAppSecret replaces an app's secret, as resetting it in the App Dashboard does: webhooks
// queued from now on are signed with the new secret and app tokens must use it.
func (s *Simulator) SetAppSecret(appRef, secret string) error {
	if secret == "" {
		return fmt.Errorf("simulator: empty app secret")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.appByRef(appRef)
	if a == nil || a.builtin {
		return fmt.Errorf("simulator: unknown app %q", appRef)
	}
	a.secret = secret
	s.logf("secret of %s replaced", a.name)
	return nil
}

// AppToken returns the app access token "{app-id}|{app-secret}".
func (s *Simulator) AppToken(appRef string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.appByRef(appRef)
	if a == nil || a.builtin {
		return "", fmt.Errorf("simulator: unknown app %q", appRef)
	}
	return a.id + "|" + a.secret, nil
}

func (s *Simulator) connectedLocked(appRef, pageID string) (*app, *page, error) {
	a := s.appByRef(appRef)
	p := s.pages[pageID]
	if a == nil || a.builtin {
		return nil, nil, fmt.Errorf("simulator: unknown app %q", appRef)
	}
	if p == nil {
		return nil, nil, fmt.Errorf("simulator: unknown page %q", pageID)
	}
	if !p.connected(a.id) {
		return nil, nil, fmt.Errorf("simulator: app %s is not connected to page %s", a.name, p.id)
	}
	return a, p, nil
}

// authenticateLocked resolves an access token (never echoed in errors).
func (s *Simulator) authenticateLocked(token, proof string) (*caller, *GraphError) {
	if token == "" {
		return nil, errNoToken()
	}
	var c *caller
	if appID, secret, ok := strings.Cut(token, "|"); ok {
		a, found := s.apps[appID]
		if !found || a.builtin || !hmac.Equal([]byte(secret), []byte(a.secret)) {
			return nil, errBadAppToken()
		}
		c = &caller{app: a, appToken: true}
	} else {
		ti, found := s.tokens[token]
		if !found {
			return nil, errBadToken()
		}
		if ti.revoked {
			return nil, errRevokedToken()
		}
		if !ti.expires.IsZero() && !s.clock.Now().Before(ti.expires) {
			return nil, errExpiredToken(ti.expires, s.clock.Now())
		}
		c = &caller{app: s.apps[ti.app], page: s.pages[ti.page], token: ti}
	}
	if proof != "" || c.app.requireProof {
		if proof == "" {
			return nil, errAppSecretProof(true)
		}
		mac := hmac.New(sha256.New, []byte(c.app.secret))
		mac.Write([]byte(token))
		if !hmac.Equal([]byte(strings.ToLower(proof)), []byte(hex.EncodeToString(mac.Sum(nil)))) {
			return nil, errAppSecretProof(false)
		}
	}
	return c, nil
}
