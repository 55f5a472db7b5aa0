package subscription

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxBody bounds what is read of a Graph answer.
const maxBody = 1 << 20

// Client calls one Graph API base URL and version. The zero HTTP uses a client with a 15s
// timeout: registering a callback waits for Meta's verification GET to the webhook.
type Client struct {
	// BaseURL such as https://graph.facebook.com, and Version such as v25.0.
	BaseURL, Version string
	HTTP             *http.Client
}

// Credentials authenticate a call: the access token and, to compute appsecret_proof (required
// by apps with "Require App Secret" on), the app secret.
type Credentials struct {
	Token     []byte
	AppSecret []byte
}

// String never shows the secrets.
func (Credentials) String() string { return "subscription.Credentials{redacted}" }

// GoString never shows the secrets.
func (c Credentials) GoString() string { return c.String() }

// AppToken is Meta's app access token form "{app-id}|{app-secret}".
func AppToken(appID string, appSecret []byte) []byte {
	return append([]byte(appID+"|"), appSecret...)
}

// Error is an error answer of the Graph API. Its message is Meta's, which never holds the
// caller's tokens.
type Error struct {
	HTTPStatus int
	Code       int
	Subcode    int
	Type       string
	Message    string
}

func (e *Error) Error() string {
	s := fmt.Sprintf("graph error %d", e.Code)
	if e.Subcode != 0 {
		s += fmt.Sprintf("/%d", e.Subcode)
	}
	if e.Type != "" {
		s += " (" + e.Type + ")"
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Unauthorized says whether Meta refused the token (code 190, or 102 for a bad session).
func (e *Error) Unauthorized() bool { return e.Code == 190 || e.Code == 102 }

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 15 * time.Second}
}

// endpoint builds base/version/node/edge, checking the pieces so that no id can change the path.
func (c *Client) endpoint(node, edge string) (string, error) {
	base := strings.TrimRight(c.BaseURL, "/")
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return "", fmt.Errorf("graph base URL %q is not an http(s) URL without query", c.BaseURL)
	}
	if c.Version == "" || strings.ContainsAny(c.Version, "/?#%") {
		return "", fmt.Errorf("graph version %q is not a version like v25.0", c.Version)
	}
	if node == "" || strings.Trim(node, "0123456789") != "" {
		return "", fmt.Errorf("id %q is not a Graph id (digits)", node)
	}
	return base + "/" + c.Version + "/" + node + "/" + edge, nil
}

// call sends one request and decodes a 2xx JSON answer into out. form holds the parameters (the
// body of a POST, the query of a GET).
func (c *Client) call(ctx context.Context, method, node, edge string, cred Credentials, form url.Values, out any) error {
	target, err := c.endpoint(node, edge)
	if err != nil {
		return err
	}
	if len(cred.Token) == 0 {
		return errors.New("no access token")
	}
	if form == nil {
		form = url.Values{}
	}
	if len(cred.AppSecret) > 0 {
		mac := hmac.New(sha256.New, cred.AppSecret)
		mac.Write(cred.Token)
		form.Set("appsecret_proof", hex.EncodeToString(mac.Sum(nil)))
	}
	var body io.Reader
	if method == http.MethodGet {
		target += "?" + form.Encode()
	} else {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, edge, err)
	}
	req.Header.Set("Authorization", "Bearer "+string(cred.Token))
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		// Only the cause: the URL of a GET carries appsecret_proof, a hash but no business of logs.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("%s /%s/%s: %w", method, node, edge, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("%s /%s/%s: reading the answer: %w", method, node, edge, err)
	}
	if resp.StatusCode/100 != 2 {
		return decodeError(resp.StatusCode, raw)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s /%s/%s: answer is not the expected JSON: %w", method, node, edge, err)
	}
	return nil
}

func decodeError(status int, raw []byte) error {
	var b struct {
		Error struct {
			Message string `json:"message"`
			Type    string `json:"type"`
			Code    int    `json:"code"`
			Subcode int    `json:"error_subcode"`
		} `json:"error"`
	}
	if err := json.Unmarshal(raw, &b); err != nil || b.Error.Code == 0 {
		return &Error{HTTPStatus: status, Message: fmt.Sprintf("HTTP %d without a Graph error body", status)}
	}
	return &Error{HTTPStatus: status, Code: b.Error.Code, Subcode: b.Error.Subcode, Type: b.Error.Type, Message: b.Error.Message}
}

type successAnswer struct {
	Success bool `json:"success"`
}

func (a successAnswer) check(what string) error {
	if !a.Success {
		return fmt.Errorf(`%s: answer has no "success":true`, what)
	}
	return nil
}
