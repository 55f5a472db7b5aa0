package simulator

import (
	"fmt"
	"net/http"
	"time"
)

// Control API endpoints that change or show the platform's own records: tokens, the Messenger
// Profile as a Page admin edits it at Meta.

func (s *Simulator) controlTokens(action string, req controlRequest) (any, error) {
	switch action {
	case "issue":
		tok, err := s.IssueToken(req.App, req.Page)
		if err != nil {
			return nil, err
		}
		return map[string]any{"token": tok}, nil
	case "revoke":
		if req.Token != "" {
			if err := s.RevokeToken(req.Token); err != nil {
				return nil, err
			}
			return map[string]any{"revoked": 1}, nil
		}
		n, err := s.RevokeTokens(req.App, req.Page)
		if err != nil {
			return nil, err
		}
		return map[string]any{"revoked": n}, nil
	case "set":
		var ch TokenChange
		if req.ExpiresAt != nil {
			t, err := parseInstant("expires_at", *req.ExpiresAt)
			if err != nil {
				return nil, err
			}
			ch.ExpiresAt = &t
		}
		if req.DataAccessExpiresAt != nil {
			t, err := parseInstant("data_access_expires_at", *req.DataAccessExpiresAt)
			if err != nil {
				return nil, err
			}
			ch.DataAccessExpiresAt = &t
		}
		ch.Scopes = req.Scopes
		n, err := s.ChangeTokens(req.Token, req.App, req.Page, ch)
		if err != nil {
			return nil, err
		}
		return map[string]any{"changed": n}, nil
	}
	return nil, notFound{path: "tokens/" + action}
}

// parseInstant reads an RFC 3339 time; "" or "never" is the zero time (no expiry).
func parseInstant(name, v string) (time.Time, error) {
	if v == "" || v == "never" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s must be an RFC 3339 time or \"never\"", name)
	}
	return t, nil
}

func (s *Simulator) controlProfile(method string, req controlRequest) (any, error) {
	switch method {
	case http.MethodGet:
		prof, err := s.Profile(req.Page)
		if err != nil {
			return nil, err
		}
		return prof, nil
	case http.MethodPost:
		return ok(), s.SetProfile(req.Page, req.Profile)
	case http.MethodDelete:
		return ok(), s.DeleteProfile(req.Page, req.Fields...)
	}
	return nil, notFound{path: method + " " + ControlPrefix + "profile"}
}
