package simulator

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Subscriptions (reference §7): the app-level callback (POST /{app-id}/subscriptions with an app
// token, verified synchronously) and the Page-level subscription (/{page-id}/subscribed_apps with a
// Page token). Events are delivered only for fields subscribed at both levels.

// PageFields are the webhook fields of object page known to the simulator (§7.2).
var PageFields = []string{
	"messages", "message_echoes", "message_deliveries", "message_reads", "message_edits", "message_reactions",
	"messaging_postbacks", "messaging_referrals", "messaging_optins", "messaging_handovers", "standby",
	"messaging_policy_enforcement", "messaging_account_linking", "response_feedback", "messaging_feedback",
	"send_cart", "messenger_template_status_update",
}

func knownField(f string) bool {
	for _, k := range PageFields {
		if k == f {
			return true
		}
	}
	return false
}

func fieldsOrAll(fields []string) []string {
	if len(fields) == 0 {
		return append([]string(nil), PageFields...)
	}
	return fields
}

type subscribedApp struct {
	ID               string   `json:"id"`
	Name             string   `json:"name"`
	SubscribedFields []string `json:"subscribed_fields"`
}

func (s *Simulator) pageSubscribedApps(method string, c *caller, p params) (any, *GraphError) {
	switch method {
	case http.MethodGet:
		s.mu.Lock()
		defer s.mu.Unlock()
		data := []subscribedApp{}
		for _, id := range c.page.subOrder {
			data = append(data, subscribedApp{ID: id, Name: s.apps[id].name, SubscribedFields: c.page.subscribed[id]})
		}
		return map[string]any{"data": data}, nil
	case http.MethodPost:
		fields, gerr := p.list("subscribed_fields")
		if gerr != nil {
			return nil, gerr
		}
		if len(fields) == 0 {
			return nil, errParam("param subscribed_fields is required")
		}
		for i, f := range fields {
			if !knownField(f) {
				return nil, errParam("param subscribed_fields[%d] must be one of the Page webhook fields, got %q", i, f)
			}
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		c.page.subscribe(c.app.id, fields)
		delete(c.page.failingSince, c.app.id)
		s.logf("%s subscribed to page %s: %s", c.app.name, c.page.id, strings.Join(fields, ","))
		return success{true}, nil
	case http.MethodDelete:
		s.mu.Lock()
		defer s.mu.Unlock()
		c.page.unsubscribe(c.app.id)
		return success{true}, nil
	}
	return nil, errUnsupported(method, c.page.id)
}

type subscriptionField struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

type subscriptionData struct {
	Object      string              `json:"object"`
	CallbackURL string              `json:"callback_url"`
	Active      bool                `json:"active"`
	Fields      []subscriptionField `json:"fields"`
}

func (s *Simulator) appSubscriptions(method string, c *caller, p params, version string) (any, *GraphError) {
	switch method {
	case http.MethodGet:
		s.mu.Lock()
		defer s.mu.Unlock()
		data := []subscriptionData{}
		if sub := c.app.sub; sub != nil {
			d := subscriptionData{Object: "page", CallbackURL: sub.callbackURL, Active: true}
			for _, f := range sub.order {
				d.Fields = append(d.Fields, subscriptionField{Name: f, Version: sub.fields[f]})
			}
			data = append(data, d)
		}
		return map[string]any{"data": data}, nil
	case http.MethodPost:
		return s.subscribeApp(c, p, version)
	case http.MethodDelete:
		if obj, _ := p.str("object"); obj != "" && obj != "page" {
			return nil, errParam("param object must be page")
		}
		fields, gerr := p.list("fields")
		if gerr != nil {
			return nil, gerr
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		sub := c.app.sub
		if sub == nil {
			return success{true}, nil
		}
		if len(fields) == 0 {
			c.app.sub = nil
			return success{true}, nil
		}
		for _, f := range fields {
			delete(sub.fields, f)
			for i, o := range sub.order {
				if o == f {
					sub.order = append(sub.order[:i:i], sub.order[i+1:]...)
					break
				}
			}
		}
		return success{true}, nil
	}
	return nil, errUnsupported(method, c.app.id)
}

// subscribeApp creates or updates the app's page subscription after the verification GET succeeds;
// fields are added to the existing ones.
func (s *Simulator) subscribeApp(c *caller, p params, version string) (any, *GraphError) {
	obj, gerr := p.str("object")
	if gerr != nil {
		return nil, gerr
	}
	if obj != "page" {
		return nil, errParam("param object must be page (the only object modelled)")
	}
	callback, gerr := p.str("callback_url")
	if gerr != nil {
		return nil, gerr
	}
	if callback == "" {
		return nil, errParam("param callback_url is required")
	}
	verifyToken, gerr := p.str("verify_token")
	if gerr != nil {
		return nil, gerr
	}
	fields, gerr := p.list("fields")
	if gerr != nil {
		return nil, gerr
	}
	if len(fields) == 0 {
		return nil, errParam("param fields is required")
	}
	for i, f := range fields {
		if !knownField(f) {
			return nil, errParam("param fields[%d] must be one of the page webhook fields, got %q", i, f)
		}
	}
	if gerr := s.verifyCallback(callback, verifyToken); gerr != nil {
		return nil, gerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sub := c.app.sub
	if sub == nil {
		sub = &appSubscription{fields: map[string]string{}}
		c.app.sub = sub
	}
	sub.callbackURL, sub.verifyToken = callback, verifyToken
	sub.add(fields, version)
	s.logf("%s subscription set: callback verified, fields %s", c.app.name, strings.Join(fields, ","))
	return success{true}, nil
}

// verifyCallback performs Meta's verification GET (§1): hub.mode=subscribe, hub.verify_token,
// hub.challenge; the callback must answer 200 with the challenge as the whole body.
func (s *Simulator) verifyCallback(callback, verifyToken string) *GraphError {
	u, err := url.Parse(callback)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errParam("param callback_url must be a valid URL")
	}
	if u.Scheme != "https" && s.opts.Behaviour.RequireHTTPS {
		return errParam("param callback_url must be an https URL")
	}
	challenge := randomString(10, "0123456789")
	if challenge[0] == '0' {
		challenge = "1" + challenge[1:]
	}
	q := u.Query()
	q.Set("hub.mode", "subscribe")
	q.Set("hub.challenge", challenge)
	q.Set("hub.verify_token", verifyToken)
	u.RawQuery = q.Encode()
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.DeliveryTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return errParam("param callback_url must be a valid URL")
	}
	req.Header.Set("User-Agent", "facebookplatform/1.0 (+http://developers.facebook.com)")
	resp, err := s.opts.HTTPClient.Do(req)
	if err != nil {
		return errCallbackVerification("could not connect to the callback URL or it did not answer in time")
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return errCallbackVerification(fmt.Sprintf("HTTP Status Code = %d; HTTP Message = %s", resp.StatusCode, http.StatusText(resp.StatusCode)))
	}
	if string(body) != challenge {
		// The received body is not quoted back: it could hold anything, secrets included.
		return errCallbackVerification("The URL couldn't be validated. Response does not match challenge")
	}
	return nil
}
