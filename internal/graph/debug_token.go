package graph

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"time"
)

// EndpointDebugToken inspects an access token (GET /debug_token, app token).
const EndpointDebugToken Endpoint = "debug_token"

// TokenInfo is what Meta says of a token (reference §7.4).
type TokenInfo struct {
	Valid bool
	// ExpiresAt is zero when the token never expires (expires_at 0).
	ExpiresAt time.Time
	// DataAccessExpiresAt is zero when Meta gives none.
	DataAccessExpiresAt time.Time
	Scopes              []string
	// Problem says why an invalid token is refused, in words (Meta's subcode read here), with
	// Meta's message; empty for a valid token.
	Problem string
}

// HasScope reports whether the token was granted scope.
func (t *TokenInfo) HasScope(scope string) bool { return slices.Contains(t.Scopes, scope) }

// Token subcodes of an invalid token (error code 190) that say what a person must do.
var tokenSubcodes = map[int]string{
	458: "the app is no longer authorised by the user who issued the token",
	459: "the user must log in to Facebook to restore the session",
	460: "the session was invalidated (password change, or Meta's security measures)",
	463: "the token has expired",
	464: "the user who issued the token is not confirmed",
	467: "the token was invalidated (logged out, or replaced)",
	492: "the user who issued the token no longer manages the Page",
}

// DebugToken asks Meta about input (GET /debug_token?input_token=..., called with an app
// token). An invalid token is no error: it is a TokenInfo with Valid false and the Problem; an
// error means the question itself failed (the app token refused, Meta unreachable). The input
// token travels in the query, as Meta requires: it is scrubbed from every error.
func (c *Client) DebugToken(ctx context.Context, input []byte) (*TokenInfo, error) {
	if len(input) == 0 {
		return nil, errors.New("graph debug_token: the token to inspect is empty")
	}
	u, err := c.url("debug_token", "input_token="+url.QueryEscape(string(input)))
	if err != nil {
		return nil, err
	}
	var info TokenInfo
	r := c.get(EndpointDebugToken, u, func(b []byte) error {
		var a struct {
			Data *struct {
				IsValid             bool     `json:"is_valid"`
				ExpiresAt           *int64   `json:"expires_at"`
				DataAccessExpiresAt int64    `json:"data_access_expires_at"`
				Scopes              []string `json:"scopes"`
				Error               *struct {
					Code    int    `json:"code"`
					Subcode int    `json:"subcode"`
					Message string `json:"message"`
				} `json:"error"`
			} `json:"data"`
		}
		if err := json.Unmarshal(b, &a); err != nil {
			return err
		}
		d := a.Data
		if d == nil {
			return errors.New("no data object")
		}
		info.Valid = d.IsValid
		if d.ExpiresAt != nil && *d.ExpiresAt > 0 {
			info.ExpiresAt = time.Unix(*d.ExpiresAt, 0).UTC()
		}
		if d.DataAccessExpiresAt > 0 {
			info.DataAccessExpiresAt = time.Unix(d.DataAccessExpiresAt, 0).UTC()
		}
		info.Scopes = d.Scopes
		if !d.IsValid {
			info.Problem = "Meta calls the token invalid"
			if e := d.Error; e != nil {
				if why, ok := tokenSubcodes[e.Subcode]; ok {
					info.Problem = why
				}
				if e.Message != "" {
					info.Problem += ": " + truncate(e.Message, maxMessage)
				}
			}
		}
		return nil
	})
	r.secrets = secretForms(string(input))
	if err := c.call(ctx, r); err != nil {
		return nil, err
	}
	info.Problem = c.scrub(info.Problem, r.secrets)
	return &info, nil
}
