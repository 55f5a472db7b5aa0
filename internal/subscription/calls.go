package subscription

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// AppSubscription is the app's webhook subscription for object page.
type AppSubscription struct {
	CallbackURL string
	Active      bool
	Fields      []string
}

// AppSubscription reads the app's page subscription (GET /{app-id}/subscriptions, app token);
// nil when the app has none.
func (c *Client) AppSubscription(ctx context.Context, appID string, cred Credentials) (*AppSubscription, error) {
	var a struct {
		Data []struct {
			Object      string `json:"object"`
			CallbackURL string `json:"callback_url"`
			Active      bool   `json:"active"`
			Fields      []struct {
				Name string `json:"name"`
			} `json:"fields"`
		} `json:"data"`
	}
	if err := c.call(ctx, http.MethodGet, appID, "subscriptions", cred, nil, &a); err != nil {
		return nil, err
	}
	for _, d := range a.Data {
		if d.Object != "page" {
			continue
		}
		s := &AppSubscription{CallbackURL: d.CallbackURL, Active: d.Active}
		for _, f := range d.Fields {
			s.Fields = append(s.Fields, f.Name)
		}
		return s, nil
	}
	return nil, nil
}

// RegisterCallback sets the app's callback URL, verify token and fields for object page (POST
// /{app-id}/subscriptions, app token). Meta verifies the callback with a GET before answering;
// a callback that does not echo the challenge fails with code 2200.
func (c *Client) RegisterCallback(ctx context.Context, appID string, cred Credentials, callbackURL string, verifyToken []byte, fields []string) error {
	form := url.Values{
		"object":         {"page"},
		"callback_url":   {callbackURL},
		"verify_token":   {string(verifyToken)},
		"fields":         {strings.Join(fields, ",")},
		"include_values": {"true"},
	}
	var a successAnswer
	if err := c.call(ctx, http.MethodPost, appID, "subscriptions", cred, form, &a); err != nil {
		return err
	}
	return a.check("POST subscriptions")
}

// PageSubscription reads which fields the app has subscribed on the Page (GET
// /{page-id}/subscribed_apps, page token); subscribed is false when the app is not listed.
func (c *Client) PageSubscription(ctx context.Context, pageID, appID string, cred Credentials) (fields []string, subscribed bool, err error) {
	var a struct {
		Data []struct {
			ID               json.RawMessage `json:"id"` // a string, or a number in old answers
			SubscribedFields []string        `json:"subscribed_fields"`
		} `json:"data"`
	}
	if err := c.call(ctx, http.MethodGet, pageID, "subscribed_apps", cred, nil, &a); err != nil {
		return nil, false, err
	}
	for _, d := range a.Data {
		if strings.Trim(string(d.ID), `"`) == appID {
			return d.SubscribedFields, true, nil
		}
	}
	return nil, false, nil
}

// SubscribePage subscribes the app to the Page's fields (POST /{page-id}/subscribed_apps, page
// token).
func (c *Client) SubscribePage(ctx context.Context, pageID string, cred Credentials, fields []string) error {
	form := url.Values{"subscribed_fields": {strings.Join(fields, ",")}}
	var a successAnswer
	if err := c.call(ctx, http.MethodPost, pageID, "subscribed_apps", cred, form, &a); err != nil {
		return err
	}
	return a.check("POST subscribed_apps")
}
