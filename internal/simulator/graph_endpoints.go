package simulator

import (
	"fmt"
	"strconv"
)

// Page-token endpoints: Send API, handover calls, thread_owner, user profile, the Page node.

type success struct {
	Success bool `json:"success"`
}

func (s *Simulator) sendEndpoint(c *caller, p params) (any, *GraphError) {
	req, gerr := parseSend(p, s.opts.Behaviour)
	if gerr != nil {
		return nil, gerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if gerr := s.sendRateLocked(c.app, c.page, req.media()); gerr != nil {
		return nil, gerr
	}
	res, gerr := s.sendLocked(c.page, c.app, req)
	if gerr != nil {
		if t := c.page.threads[req.recipientID]; t != nil && gerr.Code != 100 {
			s.refusedLocked(c.page, t, c.app, "send", gerr)
		}
		return nil, gerr
	}
	return res, nil
}

// recipientParam reads recipient={"id":PSID} (or a bare PSID, as thread_owner takes it).
func recipientParam(p params) (string, *GraphError) {
	var r struct {
		ID flexString `json:"id"`
	}
	if !p.has("recipient") {
		return "", errParam("param recipient is required")
	}
	if gerr := p.obj("recipient", &r); gerr == nil && r.ID.v != "" {
		return r.ID.v, nil
	}
	if v, gerr := p.str("recipient"); gerr == nil && v != "" {
		return v, nil
	}
	return "", errParam("param recipient[id] is required")
}

func (s *Simulator) handoverEndpoint(c *caller, edge string, p params) (any, *GraphError) {
	psid, gerr := recipientParam(p)
	if gerr != nil {
		return nil, gerr
	}
	metadata, gerr := p.str("metadata")
	if gerr != nil {
		return nil, gerr
	}
	if runes(metadata) >= maxMetadataLen {
		return nil, errParam("param metadata must be less than %d characters", maxMetadataLen)
	}
	target, gerr := p.str("target_app_id")
	if gerr != nil {
		return nil, gerr
	}
	var seconds int64
	if edge == EndpointExtend {
		d, gerr := p.str("duration")
		if gerr != nil {
			return nil, gerr
		}
		if seconds, _ = strconv.ParseInt(d, 10, 64); d == "" || seconds <= 0 {
			return nil, errParam("param duration must be a positive number of seconds")
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	pg := c.page
	if pg.users[psid] == nil {
		return nil, errNoUser()
	}
	t := pg.threadLocked(psid)
	s.expireLocked(pg, t)
	switch edge {
	case EndpointPass:
		gerr = s.passLocked(pg, t, c.app, target, metadata)
	case EndpointTake:
		gerr = s.takeLocked(pg, t, c.app, metadata, false)
	case EndpointRequest:
		gerr = s.requestLocked(pg, t, c.app, metadata)
	case EndpointRelease:
		gerr = s.releaseLocked(pg, t, c.app)
	case EndpointExtend:
		gerr = s.extendLocked(pg, t, c.app, seconds)
	}
	if gerr != nil {
		s.refusedLocked(pg, t, c.app, edge, gerr)
		return nil, gerr
	}
	return success{true}, nil
}

type threadOwnerData struct {
	ThreadOwner struct {
		AppID      string `json:"app_id,omitempty"`
		Expiration int64  `json:"expiration"`
	} `json:"thread_owner"`
}

// threadOwner: CR visibility (§4.1) - the app id only for the owner or the default app, the others
// see the expiration only; an idle thread gives empty data. The answer is nested under data[]
// (§9.3 messaging-apis#347; Behaviour.ThreadOwnerFlat).
func (s *Simulator) threadOwner(c *caller, p params) (any, *GraphError) {
	psid, gerr := recipientParam(p)
	if gerr != nil {
		return nil, gerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	pg := c.page
	if pg.hopDisabled {
		return nil, errHOPDisabled()
	}
	if pg.users[psid] == nil {
		return nil, errNoUser()
	}
	t := pg.threadLocked(psid)
	s.expireLocked(pg, t)
	data := []threadOwnerData{}
	if t.owner != "" {
		var d threadOwnerData
		d.ThreadOwner.Expiration = t.expires.Unix()
		if c.app.id == t.owner || c.app.id == pg.defaultApp {
			d.ThreadOwner.AppID = t.owner
		}
		data = append(data, d)
	}
	if s.opts.Behaviour.ThreadOwnerFlat {
		if len(data) == 0 {
			return map[string]any{}, nil
		}
		return data[0], nil
	}
	return map[string]any{"data": data}, nil
}

var (
	defaultProfileFields = map[string]bool{"id": true, "name": true, "first_name": true, "last_name": true, "profile_pic": true}
	extraProfileFields   = map[string]bool{"locale": true, "timezone": true, "gender": true}
)

// profile: GET /{psid}?fields=... (§6).
func (s *Simulator) profile(c *caller, psid string, p params) (any, *GraphError) {
	fields, gerr := p.list("fields")
	if gerr != nil {
		return nil, gerr
	}
	if len(fields) == 0 {
		fields = []string{"name", "id"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u := c.page.users[psid]
	if u == nil {
		return nil, errNoObject(psid)
	}
	if !c.app.profileAccess {
		return nil, errProfileAccess()
	}
	if u.cfg.NoProfile || !u.interacted {
		// Phone-number accounts have no profile; others are visible once they wrote (opt-in).
		return nil, errNoProfile()
	}
	out := map[string]any{"id": psid}
	for _, f := range fields {
		switch {
		case defaultProfileFields[f]:
		case extraProfileFields[f]:
			if !c.app.extraProfileFields {
				return nil, errProfileField(f)
			}
		default:
			return nil, errNoField(f, "User")
		}
		switch f {
		case "name":
			out[f] = u.cfg.FirstName + " " + u.cfg.LastName
		case "first_name":
			out[f] = u.cfg.FirstName
		case "last_name":
			out[f] = u.cfg.LastName
		case "profile_pic":
			out[f] = fmt.Sprintf("https://platform-lookaside.fbsbx.com/platform/profilepic/?psid=%s&width=1024&ext=%d&hash=sim", psid, s.clock.Now().Add(72*3600e9).Unix())
		case "locale":
			out[f] = "en_US"
		case "timezone":
			out[f] = 0
		case "gender":
			out[f] = ""
		}
	}
	return out, nil
}

// pageNode: GET /me or /{page-id} (name, id, messaging_feature_status, §0).
func (s *Simulator) pageNode(c *caller, p params) (any, *GraphError) {
	fields, gerr := p.list("fields")
	if gerr != nil {
		return nil, gerr
	}
	if len(fields) == 0 {
		fields = []string{"name", "id"}
	}
	out := map[string]any{"id": c.page.id}
	for _, f := range fields {
		switch f {
		case "id":
		case "name":
			out["name"] = c.page.name
		case "messaging_feature_status":
			out[f] = map[string]bool{"hop_v2": false, "msgr_multi_app": true, "ig_multi_app": false}
		default:
			return nil, errNoField(f, "Page")
		}
	}
	return out, nil
}
