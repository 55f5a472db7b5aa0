package graph

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// ProfileProperties are Messenger Profile properties by name (get_started, greeting, ...), each
// in the Graph API's JSON form.
type ProfileProperties map[string]json.RawMessage

// MessengerProfile reads the page's Messenger Profile properties named in fields (GET
// /me/messenger_profile?fields=..., page token); a property that is not set is absent.
func (c *Client) MessengerProfile(ctx context.Context, fields []string) (ProfileProperties, error) {
	if len(fields) == 0 {
		return nil, errors.New("graph messenger_profile: no fields")
	}
	u, err := c.url("me/messenger_profile", "fields="+url.QueryEscape(strings.Join(fields, ",")))
	if err != nil {
		return nil, err
	}
	props := ProfileProperties{}
	err = c.call(ctx, c.get(EndpointMessengerProfile, u, func(b []byte) error {
		var a struct {
			Data []map[string]json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(b, &a); err != nil {
			return err
		}
		for _, d := range a.Data {
			for k, v := range d {
				props[k] = v
			}
		}
		return nil
	}))
	return props, err
}

// SetMessengerProfile sets the given properties and leaves the others (POST
// /me/messenger_profile, page token).
func (c *Client) SetMessengerProfile(ctx context.Context, props map[string]any) error {
	if len(props) == 0 {
		return errors.New("graph messenger_profile: no properties")
	}
	body, err := json.Marshal(props)
	if err != nil {
		return err
	}
	u, err := c.url("me/messenger_profile", "")
	if err != nil {
		return err
	}
	return c.call(ctx, c.postJSON(EndpointMessengerProfile, u, body, decodeResult))
}

// DeleteMessengerProfile removes the properties named in fields (DELETE /me/messenger_profile
// with {"fields":[...]}, page token).
func (c *Client) DeleteMessengerProfile(ctx context.Context, fields []string) error {
	if len(fields) == 0 {
		return errors.New("graph messenger_profile: no fields")
	}
	body, err := json.Marshal(map[string][]string{"fields": fields})
	if err != nil {
		return err
	}
	u, err := c.url("me/messenger_profile", "")
	if err != nil {
		return err
	}
	r := c.postJSON(EndpointMessengerProfile, u, body, decodeResult)
	r.method = http.MethodDelete
	return c.call(ctx, r)
}

// decodeResult checks the profile API's {"result":"success"}.
func decodeResult(b []byte) error {
	var a struct {
		Result string `json:"result"`
	}
	if err := json.Unmarshal(b, &a); err != nil {
		return err
	}
	if a.Result != "success" {
		return errors.New(`no "result":"success"`)
	}
	return nil
}
