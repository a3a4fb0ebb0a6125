// Package dirsync is a typed client for the WorkOS Directory Sync, Events,
// Organizations and Admin Portal REST APIs, plus webhook signing.
//
// The client is deliberately careful with the rate limits: every request draws
// from a whole-key token bucket (6,000 per minute) and /directory_users calls
// also from a per-directory bucket (4 per second), so a long walk never
// provokes a storm of 429s. Transient failures (network errors, 408, 429, 5xx)
// are retried with jittered exponential backoff, honouring Retry-After.
// Decoding is lenient where real WorkOS data is untidy (timestamps, legacy
// listMetadata, error shapes) and strict where it matters: a body that is not
// JSON yields ErrMalformed, never a panic.
package dirsync

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Version is the client version reported in the default User-Agent.
var Version = "0.1.0"

// Defaults applied by New for zero Config fields.
const (
	DefaultBaseURL               = "https://api.workos.com"
	DefaultMaxAttempts           = 4
	DefaultRequestTimeout        = 30 * time.Second
	DefaultUsersRatePerDirectory = 4.0
	DefaultKeyRequestsPerMinute  = 6000
)

// Backoff and Retry-After bounds.
const (
	backoffBase   = 500 * time.Millisecond
	backoffMax    = 20 * time.Second
	minRetryAfter = 250 * time.Millisecond // Retry-After: 0 would otherwise hammer the API
	maxRetryAfter = 60 * time.Second
	maxBodyBytes  = 32 << 20
)

// Config configures a Client. Zero values select the documented defaults.
type Config struct {
	BaseURL    string       // "" → https://api.workos.com
	APIKey     string       // sent as "Authorization: Bearer <key>"
	UserAgent  string       // "" → "roster/<Version>"
	HTTPClient *http.Client // nil → a client with a tuned transport

	MaxAttempts    int           // total attempts per call including the first; default 4
	RequestTimeout time.Duration // per attempt; default 30s

	UsersRatePerDirectory float64 // requests/s per directory on /directory_users; default 4; negative disables
	KeyRequestsPerMinute  int     // whole-key budget; default 6000; negative disables

	Now   func() time.Time                                 // clock; default time.Now
	Sleep func(ctx context.Context, d time.Duration) error // default: timer that honours ctx
}

// Client talks to the WorkOS API. It is safe for concurrent use.
type Client struct {
	baseURL     string
	apiKey      string
	userAgent   string
	hc          *http.Client
	maxAttempts int
	timeout     time.Duration
	now         func() time.Time
	sleep       func(ctx context.Context, d time.Duration) error
	pace        *pacer

	mu        sync.Mutex
	groupDirs map[string]string // group id → directory id, learned from responses
}

// New returns a Client for cfg.
func New(cfg Config) *Client {
	c := &Client{
		baseURL:     strings.TrimRight(cfg.BaseURL, "/"),
		apiKey:      cfg.APIKey,
		userAgent:   cfg.UserAgent,
		hc:          cfg.HTTPClient,
		maxAttempts: cfg.MaxAttempts,
		timeout:     cfg.RequestTimeout,
		now:         cfg.Now,
		sleep:       cfg.Sleep,
		groupDirs:   map[string]string{},
	}
	if c.baseURL == "" {
		c.baseURL = DefaultBaseURL
	}
	if c.userAgent == "" {
		c.userAgent = "roster/" + Version
	}
	if c.hc == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 16
		t.ResponseHeaderTimeout = 0 // the per-attempt context bounds the whole exchange
		c.hc = &http.Client{Transport: t}
	}
	if c.maxAttempts == 0 {
		c.maxAttempts = DefaultMaxAttempts
	}
	c.maxAttempts = max(c.maxAttempts, 1)
	if c.timeout <= 0 {
		c.timeout = DefaultRequestTimeout
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.sleep == nil {
		c.sleep = sleepCtx
	}
	perDir := cfg.UsersRatePerDirectory
	if perDir == 0 {
		perDir = DefaultUsersRatePerDirectory
	}
	perMin := cfg.KeyRequestsPerMinute
	if perMin == 0 {
		perMin = DefaultKeyRequestsPerMinute
	}
	c.pace = newPacer(perDir, perMin, c.now, c.sleep)
	return c
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// request is one logical API call; do may send it several times.
type request struct {
	method  string
	path    string // escaped path, e.g. /directories/directory_01
	query   url.Values
	body    any    // JSON-encoded when non-nil
	paceKey string // per-directory bucket key; "" = whole-key budget only
}

// do sends r with pacing and retries and decodes a 2xx JSON body into out
// (out == nil ignores the body, e.g. DELETE's "Accepted").
func (c *Client) do(ctx context.Context, r request, out any) error {
	var payload []byte
	idemKey := ""
	if r.body != nil {
		var err error
		if payload, err = json.Marshal(r.body); err != nil {
			return fmt.Errorf("dirsync: encode %s %s: %w", r.method, r.path, err)
		}
		if r.method == http.MethodPost {
			// Same key on every attempt, so a retried POST cannot create twice.
			idemKey = newIdempotencyKey()
		}
	}
	for attempt := 1; ; attempt++ {
		if err := c.pace.wait(ctx, r.paceKey); err != nil {
			return err
		}
		resp, body, err := c.attempt(ctx, r, payload, idemKey)
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		var delay time.Duration
		switch {
		case err != nil:
			if attempt >= c.maxAttempts {
				var cut *bodyCutError
				if errors.As(err, &cut) && cut.resp.StatusCode < 300 && out != nil {
					// A 2xx whose body never arrived whole: malformed, not unreachable.
					e := malformedError(r, cut.resp, cut.partial, err)
					e.Attempts = attempt
					return e
				}
				return &TransportError{Method: r.method, Path: r.path, Attempts: attempt, Timeout: c.timeout, Err: err}
			}
			delay = backoff(attempt)
		case resp.StatusCode >= 200 && resp.StatusCode < 300:
			if out == nil {
				return nil
			}
			err := decodeBody(r, resp, body, out)
			var apiErr *APIError
			if errors.As(err, &apiErr) {
				apiErr.Attempts = attempt
			}
			return err
		default:
			apiErr := newAPIError(r.method, r.path, resp, body)
			apiErr.Attempts = attempt
			ra, hasRA := parseRetryAfter(resp.Header.Get("Retry-After"), c.now())
			apiErr.RetryAfter = ra
			if !retryable(resp.StatusCode) || attempt >= c.maxAttempts {
				return apiErr
			}
			delay = backoff(attempt)
			if hasRA {
				delay = ra
			}
		}
		if err := c.sleep(ctx, delay); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return err
		}
	}
}

// attempt performs one HTTP exchange bounded by the per-attempt timeout.
func (c *Client) attempt(ctx context.Context, r request, payload []byte, idemKey string) (*http.Response, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	u := c.baseURL + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, body)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.apiKey)
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if idemKey != "" {
		req.Header.Set("Idempotency-Key", idemKey)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes+1))
	if err != nil {
		// A body cut short by the network is a transport failure worth retrying.
		return nil, nil, &bodyCutError{resp: resp, partial: b, err: err}
	}
	return resp, b, nil
}

// bodyCutError is a response whose body could not be read to the end.
type bodyCutError struct {
	resp    *http.Response
	partial []byte
	err     error
}

func (e *bodyCutError) Error() string {
	return fmt.Sprintf("response body (status %d) cut short after %d bytes: %v", e.resp.StatusCode, len(e.partial), e.err)
}

func (e *bodyCutError) Unwrap() error { return e.err }

// malformedError reports a 2xx answer whose body is not the JSON expected.
func malformedError(r request, resp *http.Response, body []byte, err error) *APIError {
	return &APIError{
		Status: resp.StatusCode, RequestID: resp.Header.Get("X-Request-Id"),
		Method: r.method, Path: r.path, Body: truncate(string(body), maxErrorBody), Attempts: 1, Err: err,
	}
}

func decodeBody(r request, resp *http.Response, body []byte, out any) error {
	malformed := func(err error) error { return malformedError(r, resp, body, err) }
	switch trimmed := bytes.TrimSpace(body); {
	case len(body) > maxBodyBytes:
		return malformed(fmt.Errorf("body larger than %d bytes", maxBodyBytes))
	case len(trimmed) == 0:
		return malformed(errors.New("empty body"))
	case trimmed[0] != '{' && trimmed[0] != '[':
		ct := resp.Header.Get("Content-Type")
		return malformed(fmt.Errorf("body is not JSON (Content-Type %q, starts %q)", ct, truncate(string(trimmed), 40)))
	}
	if err := json.Unmarshal(body, out); err != nil {
		return malformed(err)
	}
	return nil
}

// TransportError reports a call that never got an HTTP answer (connection
// refused, reset, per-attempt timeout) even after retries.
type TransportError struct {
	Method, Path string
	Attempts     int
	Timeout      time.Duration
	Err          error
}

func (e *TransportError) Error() string {
	var ne net.Error
	if errors.As(e.Err, &ne) && ne.Timeout() || errors.Is(e.Err, context.DeadlineExceeded) {
		return fmt.Sprintf("WorkOS did not answer %s %s within %s, %d attempts; check the network or WORKOS_BASE_URL: %v",
			e.Method, e.Path, e.Timeout, e.Attempts, e.Err)
	}
	return fmt.Sprintf("could not reach WorkOS for %s %s after %d attempts; check the network or WORKOS_BASE_URL: %v",
		e.Method, e.Path, e.Attempts, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

func retryable(status int) bool {
	return status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500
}

// backoff returns the delay before attempt+1: 500ms·2^(attempt-1), capped, with
// jitter in [½d, d) so that many clients do not retry in lockstep.
func backoff(attempt int) time.Duration {
	d := backoffBase << min(attempt-1, 16)
	d = min(d, backoffMax)
	half := d / 2
	return half + time.Duration(mrand.Int64N(int64(half)+1))
}

// parseRetryAfter reads Retry-After as seconds or an HTTP date, clamped to
// [minRetryAfter, maxRetryAfter]. ok is false when the header is absent or unreadable.
func parseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		switch {
		case math.IsNaN(secs) || secs <= 0:
			d = 0
		case secs >= maxRetryAfter.Seconds():
			d = maxRetryAfter
		default:
			d = time.Duration(secs * float64(time.Second))
		}
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	} else {
		return 0, false
	}
	return min(max(d, minRetryAfter), maxRetryAfter), true
}

func newIdempotencyKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// query encodes the shared pagination parameters; order is always sent.
func (o ListOptions) query() url.Values {
	q := url.Values{}
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	if o.Before != "" {
		q.Set("before", o.Before)
	}
	if o.After != "" {
		q.Set("after", o.After)
	}
	order := o.Order
	if order == "" {
		order = "desc"
	}
	q.Set("order", order)
	return q
}

func setIf(q url.Values, k, v string) {
	if v != "" {
		q.Set(k, v)
	}
}

// objectPath builds /<collection>/<escaped id>, refusing an empty id.
func objectPath(op, collection, id string) (string, error) {
	if strings.TrimSpace(id) == "" {
		return "", fmt.Errorf("dirsync: %s: empty id", op)
	}
	return "/" + collection + "/" + url.PathEscape(id), nil
}

// rememberGroups records group → directory so ListUsers by group can be paced
// under the right directory.
func (c *Client) rememberGroups(gs []Group) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, g := range gs {
		if g.ID != "" && g.DirectoryID != "" {
			c.groupDirs[g.ID] = g.DirectoryID
		}
	}
}

func (c *Client) groupDirectory(id string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.groupDirs[id]
}
