package dirsync

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Sentinels matched by *APIError via errors.Is.
var (
	// ErrUnauthorized: the API key was missing, wrong (401) or lacks permission (403).
	ErrUnauthorized = errors.New("dirsync: unauthorized")
	// ErrNotFound: the object does not exist (404).
	ErrNotFound = errors.New("dirsync: not found")
	// ErrValidation: WorkOS rejected the parameters or body (400, 422).
	ErrValidation = errors.New("dirsync: validation failed")
	// ErrRateLimited: still 429 after all retries.
	ErrRateLimited = errors.New("dirsync: rate limited")
	// ErrServer: still 5xx (or 408) after all retries.
	ErrServer = errors.New("dirsync: server error")
	// ErrMalformed: a 2xx response whose body is not the JSON expected
	// (unparseable, truncated, or an HTML page from a proxy).
	ErrMalformed = errors.New("dirsync: malformed response")
)

// APIError describes a failed WorkOS call: any non-2xx answer, or a 2xx answer
// whose body could not be decoded (then Status is 2xx and it matches ErrMalformed).
type APIError struct {
	Status      int
	RequestID   string // X-Request-Id
	Code        string // e.g. "entity_not_found", "invalid_events_request"
	Message     string
	EntityID    string // 404 entity_id
	FieldErrors []FieldError
	RetryAfter  time.Duration // parsed Retry-After, if any
	Body        string        // raw body, capped
	Method      string
	Path        string
	Attempts    int   // attempts made, including the first
	Err         error // decoding error for malformed bodies
}

// FieldError is one entry of a validation error's "errors" list. The string-list
// shape leaves Field empty and puts the text in Code.
type FieldError struct {
	Field string `json:"field"`
	Code  string `json:"code"`
}

// Is matches the sentinel that fits the status.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrValidation:
		return e.Status == http.StatusBadRequest || e.Status == http.StatusUnprocessableEntity
	case ErrRateLimited:
		return e.Status == http.StatusTooManyRequests
	case ErrServer:
		return e.Status >= 500 || e.Status == http.StatusRequestTimeout
	case ErrMalformed:
		return e.Status >= 200 && e.Status < 300
	}
	return false
}

// Unwrap exposes the decoding error of a malformed response.
func (e *APIError) Unwrap() error { return e.Err }

// Error is a sentence a person can act on.
func (e *APIError) Error() string {
	var b strings.Builder
	call := strings.TrimSpace(e.Method + " " + e.Path)
	switch {
	case e.Status == http.StatusUnauthorized:
		b.WriteString("WorkOS rejected the API key; check WORKOS_API_KEY")
	case e.Status == http.StatusForbidden:
		b.WriteString("WorkOS refused " + call + " for this API key")
		e.appendMessage(&b)
	case e.Status == http.StatusNotFound:
		b.WriteString("WorkOS found nothing for " + call)
		if e.EntityID != "" {
			fmt.Fprintf(&b, " (no object %q)", e.EntityID)
		}
		e.appendMessage(&b)
	case e.Status == http.StatusBadRequest || e.Status == http.StatusUnprocessableEntity:
		b.WriteString("WorkOS rejected the parameters of " + call)
		e.appendMessage(&b)
		for i, f := range e.FieldErrors {
			sep := "; "
			if i == 0 {
				sep = ": "
			}
			b.WriteString(sep)
			if f.Field != "" {
				b.WriteString(f.Field + ": ")
			}
			b.WriteString(f.Code)
		}
	case e.Status == http.StatusTooManyRequests:
		fmt.Fprintf(&b, "WorkOS rate limit still exceeded for %s after %d attempts; slow down or retry later", call, e.Attempts)
		if e.RetryAfter > 0 {
			fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
		}
	case e.Status >= 500 || e.Status == http.StatusRequestTimeout:
		fmt.Fprintf(&b, "WorkOS failed to answer %s after %d attempts; try again later or check https://status.workos.com", call, e.Attempts)
		e.appendMessage(&b)
	case e.Status >= 200 && e.Status < 300:
		b.WriteString("WorkOS answered " + call + " with a body that is not the expected JSON")
		if looksHTML(e.Body) {
			b.WriteString(" (an HTML page: is a proxy in the way, or WORKOS_BASE_URL wrong?)")
		}
		if e.Err != nil {
			b.WriteString(": " + e.Err.Error())
		}
	default:
		b.WriteString("WorkOS returned an unexpected status for " + call)
		e.appendMessage(&b)
	}
	fmt.Fprintf(&b, " (%d", e.Status)
	if e.RequestID != "" {
		b.WriteString(", request " + e.RequestID)
	}
	b.WriteString(")")
	return b.String()
}

func (e *APIError) appendMessage(b *strings.Builder) {
	if e.Message != "" {
		b.WriteString(": " + strings.TrimRight(e.Message, "."))
	}
}

// maxErrorBody caps APIError.Body so a huge proxy page is not kept around.
const maxErrorBody = 4 << 10

// newAPIError builds an APIError from a non-2xx response, accepting every body
// shape seen: {"message","code","entity_id","errors":[{field,code}]|[string]},
// OAuth-style {"error","error_description"}, a bare JSON string, plain text or HTML.
func newAPIError(method, path string, resp *http.Response, body []byte) *APIError {
	e := &APIError{
		Status:    resp.StatusCode,
		RequestID: resp.Header.Get("X-Request-Id"),
		Method:    method,
		Path:      path,
		Body:      truncate(string(body), maxErrorBody),
	}
	trimmed := bytes.TrimSpace(body)
	var w struct {
		Message          string          `json:"message"`
		Code             string          `json:"code"`
		EntityID         string          `json:"entity_id"`
		Errors           json.RawMessage `json:"errors"`
		Error            string          `json:"error"`
		ErrorDescription string          `json:"error_description"`
	}
	var s string
	switch {
	case json.Unmarshal(trimmed, &w) == nil:
		e.Message, e.Code, e.EntityID = w.Message, w.Code, w.EntityID
		if e.Code == "" {
			e.Code = w.Error
		}
		if e.Message == "" {
			e.Message = w.ErrorDescription
		}
		e.FieldErrors = parseFieldErrors(w.Errors)
	case json.Unmarshal(trimmed, &s) == nil: // e.g. 429 "Ratelimited"
		e.Message = s
	case len(trimmed) > 0 && !looksHTML(string(trimmed)):
		e.Message = truncate(string(trimmed), 200)
	}
	return e
}

func parseFieldErrors(raw json.RawMessage) []FieldError {
	if len(raw) == 0 {
		return nil
	}
	var objs []FieldError
	if json.Unmarshal(raw, &objs) == nil {
		return objs
	}
	var strs []string
	if json.Unmarshal(raw, &strs) == nil {
		out := make([]FieldError, len(strs))
		for i, s := range strs {
			out[i] = FieldError{Code: s}
		}
		return out
	}
	// Mixed lists: keep what can be read, one element at a time.
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		return nil
	}
	var out []FieldError
	for _, it := range items {
		var f FieldError
		var s string
		if json.Unmarshal(it, &f) == nil {
			out = append(out, f)
		} else if json.Unmarshal(it, &s) == nil {
			out = append(out, FieldError{Code: s})
		}
	}
	return out
}

func looksHTML(s string) bool {
	s = strings.TrimSpace(s)
	return strings.HasPrefix(s, "<")
}
