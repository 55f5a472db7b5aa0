package simulator

import (
	"fmt"
	"strings"
	"time"
)

// GET /debug_token?input_token= with an app token (reference §7.4): what the platform knows of a
// token - valid, type, scopes, expiry (0 = never), end of data access - and for an invalid or
// revoked one is_valid false with an error object (code 190 and a subcode).

type granularScope struct {
	Scope     string   `json:"scope"`
	TargetIDs []string `json:"target_ids,omitempty"`
}

type debugError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Subcode int    `json:"subcode,omitempty"`
}

type debugData struct {
	AppID               string          `json:"app_id,omitempty"`
	Type                string          `json:"type,omitempty"`
	Application         string          `json:"application,omitempty"`
	DataAccessExpiresAt int64           `json:"data_access_expires_at,omitempty"`
	ExpiresAt           *int64          `json:"expires_at,omitempty"`
	IsValid             bool            `json:"is_valid"`
	IssuedAt            int64           `json:"issued_at,omitempty"`
	ProfileID           string          `json:"profile_id,omitempty"`
	Scopes              []string        `json:"scopes"`
	GranularScopes      []granularScope `json:"granular_scopes,omitempty"`
	Error               *debugError     `json:"error,omitempty"`
}

func (s *Simulator) debugToken(c *caller, p params) (any, *GraphError) {
	input, gerr := p.str("input_token")
	if gerr != nil {
		return nil, gerr
	}
	if input == "" {
		return nil, errParam("The parameter input_token is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	d := debugData{Scopes: []string{}}
	if appID, secret, isApp := strings.Cut(input, "|"); isApp {
		a := s.apps[appID]
		if a == nil || a.builtin || secret != a.secret || a.id != c.app.id {
			d.Error = &debugError{Code: 190, Message: "Invalid OAuth access token signature."}
			return map[string]any{"data": d}, nil
		}
		d.AppID, d.Type, d.Application, d.IsValid = a.id, "APP", a.name, true
		return map[string]any{"data": d}, nil
	}
	ti := s.tokens[input]
	if ti == nil || ti.app != c.app.id {
		// Unknown here, or another app's token: the caller learns nothing about it.
		d.Error = &debugError{Code: 190, Message: "Invalid OAuth access token - Cannot parse access token"}
		return map[string]any{"data": d}, nil
	}
	a := s.apps[ti.app]
	exp := int64(0)
	if !ti.expires.IsZero() {
		exp = ti.expires.Unix()
	}
	d.AppID, d.Type, d.Application, d.ProfileID = a.id, "PAGE", a.name, ti.page
	d.IssuedAt, d.ExpiresAt, d.DataAccessExpiresAt = ti.issued.Unix(), &exp, ti.dataAccess.Unix()
	d.Scopes = append(d.Scopes, ti.scopes...)
	for _, sc := range ti.scopes {
		g := granularScope{Scope: sc}
		if strings.HasPrefix(sc, "pages_") {
			g.TargetIDs = []string{ti.page}
		}
		d.GranularScopes = append(d.GranularScopes, g)
	}
	switch {
	case ti.revoked:
		d.Error = &debugError{Code: 190, Subcode: 460, Message: "Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons."}
	case !ti.expires.IsZero() && !now.Before(ti.expires):
		d.Error = &debugError{Code: 190, Subcode: 463, Message: fmt.Sprintf("Error validating access token: Session has expired on %s.", ti.expires.UTC().Format(time.RFC1123))}
	default:
		d.IsValid = true
	}
	return map[string]any{"data": d}, nil
}

// tokensLocked selects tokens: one token, or every token of (app, page).
func (s *Simulator) tokensLocked(token, appRef, pageID string) ([]*tokenInfo, error) {
	if token != "" {
		ti := s.tokens[token]
		if ti == nil {
			return nil, fmt.Errorf("simulator: unknown token")
		}
		return []*tokenInfo{ti}, nil
	}
	a, p, err := s.connectedLocked(appRef, pageID)
	if err != nil {
		return nil, err
	}
	var out []*tokenInfo
	for _, ti := range s.tokens {
		if ti.app == a.id && ti.page == p.id {
			out = append(out, ti)
		}
	}
	return out, nil
}

// TokenChange changes what the platform records of Page tokens; nil fields stay.
type TokenChange struct {
	// ExpiresAt: when the token stops working (zero: never, as expires_at 0).
	ExpiresAt *time.Time
	// DataAccessExpiresAt: the end of data access (debug_token reports it; calls keep working).
	DataAccessExpiresAt *time.Time
	// Scopes replace the token's permissions (pages_messaging, pages_manage_metadata, ...).
	Scopes []string
}

// ChangeTokens applies ch to one token, or to every token of (app, page) when token is "";
// it answers how many changed.
func (s *Simulator) ChangeTokens(token, appRef, pageID string, ch TokenChange) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tis, err := s.tokensLocked(token, appRef, pageID)
	if err != nil {
		return 0, err
	}
	for _, ti := range tis {
		if ch.ExpiresAt != nil {
			ti.expires = *ch.ExpiresAt
		}
		if ch.DataAccessExpiresAt != nil {
			ti.dataAccess = *ch.DataAccessExpiresAt
		}
		if ch.Scopes != nil {
			ti.scopes = append([]string(nil), ch.Scopes...)
		}
	}
	return len(tis), nil
}
