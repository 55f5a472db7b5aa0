package simulator

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// params are a Graph request's parameters from the query string and the body (JSON, form or
// multipart), as JSON values: form values that hold JSON objects or arrays (recipient={"id":..})
// become those objects, other form values become strings (reference §4: "Body may be JSON or
// form/query params").
type params map[string]json.RawMessage

const maxBody = 4 << 20

func parseParams(r *http.Request) (params, *GraphError) {
	p := params{}
	addValues := func(vals url.Values) {
		for k, vs := range vals {
			if len(vs) == 0 {
				continue
			}
			p[k] = formValue(vs[0])
		}
	}
	addValues(r.URL.Query())
	if r.Body == nil {
		return p, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return nil, errParam("could not read the request body")
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return p, nil
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case ct == "application/json" || (ct == "" && body[0] == '{'):
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(body, &obj); err != nil {
			return nil, errParam("The request body is not valid JSON")
		}
		for k, v := range obj {
			p[k] = v
		}
	case ct == "multipart/form-data":
		r.Body = io.NopCloser(bytes.NewReader(body))
		if err := r.ParseMultipartForm(maxBody); err != nil {
			return nil, errParam("could not parse the multipart body")
		}
		addValues(r.MultipartForm.Value)
	default:
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, errParam("could not parse the form body")
		}
		addValues(vals)
	}
	return p, nil
}

func formValue(v string) json.RawMessage {
	t := strings.TrimSpace(v)
	if (strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[")) && json.Valid([]byte(t)) {
		return json.RawMessage(t)
	}
	b, _ := json.Marshal(v)
	return b
}

func (p params) has(k string) bool {
	v, ok := p[k]
	return ok && string(v) != "null"
}

// str reads a string parameter; numbers are accepted as their digits (ids sent as numbers).
func (p params) str(k string) (string, *GraphError) {
	v, ok := p[k]
	if !ok || string(v) == "null" {
		return "", nil
	}
	var f flexString
	if err := json.Unmarshal(v, &f); err != nil {
		return "", errParam("param %s must be a string", k)
	}
	return f.v, nil
}

// obj decodes an object parameter, also when it arrives as a JSON string (form bodies).
func (p params) obj(k string, dst any) *GraphError {
	v, ok := p[k]
	if !ok {
		return nil
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		v = json.RawMessage(s)
	}
	if err := json.Unmarshal(v, dst); err != nil {
		return errParam("param %s is not valid: %s", k, strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}

// list reads a list given as a JSON array or a comma-separated string.
func (p params) list(k string) ([]string, *GraphError) {
	v, ok := p[k]
	if !ok {
		return nil, nil
	}
	var arr []string
	if json.Unmarshal(v, &arr) == nil {
		return arr, nil
	}
	s, gerr := p.str(k)
	if gerr != nil {
		return nil, gerr
	}
	if t := strings.TrimSpace(s); strings.HasPrefix(t, "[") {
		if json.Unmarshal([]byte(t), &arr) == nil {
			return arr, nil
		}
	}
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out, nil
}

// flexString accepts a JSON string or number (ids and payloads arrive both ways).
type flexString struct {
	v   string
	set bool
}

func (f *flexString) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		f.v, f.set = s, true
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	f.v, f.set = n.String(), true
	return nil
}

// MarshalJSON writes the value as a string (ids and payloads are kept as strings).
func (f flexString) MarshalJSON() ([]byte, error) { return json.Marshal(f.v) }

// IsZero: an unset value is left out (omitzero).
func (f flexString) IsZero() bool { return !f.set }

// accessToken: access_token parameter, or Authorization: Bearer/OAuth.
func accessToken(r *http.Request, p params) string {
	if t, _ := p.str("access_token"); t != "" {
		return t
	}
	h := r.Header.Get("Authorization")
	for _, prefix := range []string{"Bearer ", "OAuth ", "bearer ", "oauth "} {
		if strings.HasPrefix(h, prefix) {
			return strings.TrimSpace(h[len(prefix):])
		}
	}
	return ""
}
