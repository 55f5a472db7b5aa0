package graph

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
)

// SubscribedApp is one app subscribed to the page's webhooks.
type SubscribedApp struct {
	ID               string
	Name             string
	SubscribedFields []string
}

// SubscribedApps lists the apps subscribed to the page (GET /{page}/subscribed_apps), to notice a
// page that Meta unsubscribed after failing deliveries.
func (c *Client) SubscribedApps(ctx context.Context) ([]SubscribedApp, error) {
	var out []SubscribedApp
	err := c.call(ctx, EndpointSubscribedApps, "GET", c.subscribedURL, nil, true, func(b []byte) error {
		var a struct {
			Data []struct {
				ID               idString `json:"id"`
				Name             string   `json:"name"`
				SubscribedFields []string `json:"subscribed_fields"`
			} `json:"data"`
		}
		if err := json.Unmarshal(b, &a); err != nil {
			return err
		}
		for _, d := range a.Data {
			out = append(out, SubscribedApp{ID: string(d.ID), Name: d.Name, SubscribedFields: d.SubscribedFields})
		}
		return nil
	})
	return out, err
}

// Subscribe subscribes this app to the page's webhook fields (POST /{page}/subscribed_apps).
func (c *Client) Subscribe(ctx context.Context, fields []string) error {
	if len(fields) == 0 {
		return errors.New("graph subscribed_apps: no fields")
	}
	u, err := c.parse(EndpointSubscribedApps, c.subscribedURL.String()+"&subscribed_fields="+url.QueryEscape(strings.Join(fields, ",")))
	if err != nil {
		return err
	}
	return c.call(ctx, EndpointSubscribedApps, "POST", u, nil, false, func(b []byte) error {
		var a successAnswer
		if err := json.Unmarshal(b, &a); err != nil {
			return err
		}
		if !a.Success {
			return errors.New(`no "success":true`)
		}
		return nil
	})
}
