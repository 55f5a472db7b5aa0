package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// PageSubscription reads which fields the app has subscribed on the page (GET
// /{page-id}/subscribed_apps, page token); subscribed is false when the app is not listed.
func (c *Client) PageSubscription(ctx context.Context, appID string) (fields []string, subscribed bool, err error) {
	if err := c.needPage(EndpointSubscribedApps); err != nil {
		return nil, false, err
	}
	err = c.call(ctx, c.get(EndpointSubscribedApps, c.subscribedURL, func(b []byte) error {
		var a struct {
			Data []struct {
				ID               idString `json:"id"`
				SubscribedFields []string `json:"subscribed_fields"`
			} `json:"data"`
		}
		if err := json.Unmarshal(b, &a); err != nil {
			return err
		}
		for _, d := range a.Data {
			if string(d.ID) == appID {
				fields, subscribed = d.SubscribedFields, true
			}
		}
		return nil
	}))
	return fields, subscribed, err
}

// SubscribePage subscribes the app to the page's fields (POST /{page-id}/subscribed_apps, page
// token).
func (c *Client) SubscribePage(ctx context.Context, fields []string) error {
	if err := c.needPage(EndpointSubscribedApps); err != nil {
		return err
	}
	if len(fields) == 0 {
		return errors.New("graph subscribed_apps: no fields")
	}
	form := url.Values{"subscribed_fields": {strings.Join(fields, ",")}}
	return c.call(ctx, c.postForm(EndpointSubscribedApps, c.subscribedURL, form, decodeSuccess))
}

// AppSubscription is the app's webhook subscription for object page.
type AppSubscription struct {
	CallbackURL string
	Active      bool
	Fields      []string
}

// AppSubscription reads the app's page subscription (GET /{app-id}/subscriptions, app token);
// nil when the app has none.
func (c *Client) AppSubscription(ctx context.Context, appID string) (*AppSubscription, error) {
	u, err := c.appURL(appID)
	if err != nil {
		return nil, err
	}
	var sub *AppSubscription
	err = c.call(ctx, c.get(EndpointSubscriptions, u, func(b []byte) error {
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
		if err := json.Unmarshal(b, &a); err != nil {
			return err
		}
		for _, d := range a.Data {
			if d.Object != "page" {
				continue
			}
			sub = &AppSubscription{CallbackURL: d.CallbackURL, Active: d.Active}
			for _, f := range d.Fields {
				sub.Fields = append(sub.Fields, f.Name)
			}
			break
		}
		return nil
	}))
	return sub, err
}

// RegisterCallback sets the app's callback URL, verify token and fields for object page (POST
// /{app-id}/subscriptions, app token). Meta verifies the callback with a GET before answering;
// a callback that does not echo the challenge fails with CallbackUnverified.
func (c *Client) RegisterCallback(ctx context.Context, appID, callbackURL string, verifyToken []byte, fields []string) error {
	u, err := c.appURL(appID)
	if err != nil {
		return err
	}
	form := url.Values{
		"object":         {"page"},
		"callback_url":   {callbackURL},
		"verify_token":   {string(verifyToken)},
		"fields":         {strings.Join(fields, ",")},
		"include_values": {"true"},
	}
	r := c.postForm(EndpointSubscriptions, u, form, decodeSuccess)
	r.secrets = secretForms(string(verifyToken)) // Meta's answer may quote it
	return c.call(ctx, r)
}

func (c *Client) appURL(appID string) (*url.URL, error) {
	if !isID(appID) {
		return nil, fmt.Errorf("graph subscriptions: app id %q is not a Graph id (digits)", appID)
	}
	return c.url(appID+"/subscriptions", "")
}
