package dirsync

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestClient_HeadersAndQuery(t *testing.T) {
	s := &scripted{resps: []resp{{200, `{"object":"list","data":[],"list_metadata":{"before":null,"after":null}}`, nil}}}
	c, _ := newTestClient(t, s, nil)
	ctx := context.Background()
	if _, err := c.ListDirectories(ctx, ListDirectoriesOptions{OrganizationID: "org_1", Search: "Foo Corp", ListOptions: ListOptions{Limit: 5}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListUsers(ctx, ListUsersOptions{Directory: "directory_1", Email: "a@b.c", IdpID: "42", ListOptions: ListOptions{After: "directory_user_9", Order: "asc"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListGroups(ctx, ListGroupsOptions{User: "directory_user_1"}); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("CET", 3600))
	if _, err := c.ListEvents(ctx, ListEventsOptions{Events: []string{"dsync.user.created", "dsync.user.updated"}, RangeStart: start, Limit: 50, After: "event_01", OrganizationID: "org_1"}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"/directories?limit=5&order=desc&organization_id=org_1&search=Foo+Corp",
		"/directory_users?after=directory_user_9&directory=directory_1&email=a%40b.c&idp_id=42&order=asc",
		"/directory_groups?order=desc&user=directory_user_1",
		"/events?after=event_01&events=dsync.user.created%2Cdsync.user.updated&limit=50&order=asc&organization_id=org_1&range_start=2025-12-31T23%3A00%3A00Z",
	}
	for i, r := range s.reqs {
		if got := r.URL.RequestURI(); got != want[i] {
			t.Errorf("request %d = %s, want %s", i, got, want[i])
		}
		h := r.Header
		if h.Get("Authorization") != "Bearer sk_test_123" || h.Get("User-Agent") != "roster/"+Version ||
			h.Get("Content-Type") != "application/json" || h.Get("Accept") != "application/json" {
			t.Errorf("request %d headers = %v", i, h)
		}
	}
}

func TestClient_ListEventsDefaultsToDsyncTypes(t *testing.T) {
	s := &scripted{resps: []resp{{200, `{"object":"list","data":[],"list_metadata":{"after":"event_9"}}`, nil}}}
	c, _ := newTestClient(t, s, nil)
	p, err := c.ListEvents(context.Background(), ListEventsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p.After != "event_9" || p.Data == nil {
		t.Errorf("page = %+v", p)
	}
	if got := s.reqs[0].URL.Query().Get("events"); got != strings.Join(DsyncEventTypes, ",") {
		t.Errorf("events = %q", got)
	}
}

func TestClient_RetryThenSuccess(t *testing.T) {
	s := &scripted{resps: []resp{
		{503, `{"message":"unavailable"}`, nil},
		{500, `<html>oops</html>`, map[string]string{"Content-Type": "text/html"}},
		{408, ``, nil},
		{200, okDirectory, nil},
	}}
	c, clk := newTestClient(t, s, func(c *Config) { c.MaxAttempts = 4 })
	d, err := c.GetDirectory(context.Background(), "directory_1")
	if err != nil {
		t.Fatal(err)
	}
	if d.ID != "directory_1" || s.count() != 4 || len(clk.Sleeps()) != 3 {
		t.Errorf("dir %q after %d requests, %d sleeps", d.ID, s.count(), len(clk.Sleeps()))
	}
}

func TestClient_RetryAfterHonoured(t *testing.T) {
	clkBase := newFakeClock().Now()
	tests := []struct {
		name, header string
		want         time.Duration
	}{
		{"seconds", "2", 2 * time.Second},
		{"fraction", "1.5", 1500 * time.Millisecond},
		{"zero clamps to a minimum", "0", minRetryAfter},
		{"negative", "-3", minRetryAfter},
		{"huge capped", "3600", maxRetryAfter},
		{"http date", clkBase.Add(7 * time.Second).Format(http.TimeFormat), 7 * time.Second},
		{"date in the past", clkBase.Add(-time.Hour).Format(http.TimeFormat), minRetryAfter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &scripted{resps: []resp{{429, `"Ratelimited"`, map[string]string{"Retry-After": tt.header}}, {200, okDirectory, nil}}}
			c, clk := newTestClient(t, s, nil)
			if _, err := c.GetDirectory(context.Background(), "directory_1"); err != nil {
				t.Fatal(err)
			}
			if got := clk.Sleeps(); len(got) != 1 || got[0] != tt.want {
				t.Errorf("sleeps = %v, want [%v]", got, tt.want)
			}
		})
	}
}

func TestClient_RateLimitedAfterRetries(t *testing.T) {
	body := `{"message":"Rate limit exceeded. See the WorkOS docs for more information: https://workos.com/docs/reference/rate-limits"}`
	s := &scripted{resps: []resp{{429, body, map[string]string{"Retry-After": "1"}}}}
	c, clk := newTestClient(t, s, func(c *Config) { c.MaxAttempts = 3 })
	_, err := c.ListUsers(context.Background(), ListUsersOptions{Directory: "directory_1"})
	var apiErr *APIError
	if !errors.As(err, &apiErr) || !errors.Is(err, ErrRateLimited) {
		t.Fatalf("err = %v", err)
	}
	if apiErr.Attempts != 3 || s.count() != 3 || apiErr.RetryAfter != time.Second || len(clk.Sleeps()) != 2 {
		t.Errorf("attempts=%d requests=%d retryAfter=%v sleeps=%v", apiErr.Attempts, s.count(), apiErr.RetryAfter, clk.Sleeps())
	}
	if msg := err.Error(); !strings.Contains(msg, "rate limit") || !strings.Contains(msg, "req_test") {
		t.Errorf("message = %q", msg)
	}
}

func TestClient_BackoffBounded(t *testing.T) {
	s := &scripted{resps: []resp{{500, `{"message":"Internal Server Error"}`, nil}}}
	const attempts = 12
	c, clk := newTestClient(t, s, func(c *Config) { c.MaxAttempts = attempts })
	_, err := c.GetGroup(context.Background(), "directory_group_1")
	if !errors.Is(err, ErrServer) {
		t.Fatalf("err = %v", err)
	}
	if s.count() != attempts {
		t.Errorf("requests = %d, want %d", s.count(), attempts)
	}
	sleeps := clk.Sleeps()
	if len(sleeps) != attempts-1 {
		t.Fatalf("sleeps = %v", sleeps)
	}
	for i, d := range sleeps {
		nominal := min(backoffBase<<i, backoffMax)
		if d < nominal/2 || d > nominal {
			t.Errorf("sleep %d = %v, want in [%v, %v]", i, d, nominal/2, nominal)
		}
	}
	var apiErr *APIError
	errors.As(err, &apiErr)
	if apiErr.Message != "Internal Server Error" || !strings.Contains(err.Error(), "after 12 attempts") {
		t.Errorf("err = %v", err)
	}
}

func TestClient_ErrorBodies(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		sentinel error
		check    func(t *testing.T, e *APIError)
	}{
		{"401", 401, `{"message":"Unauthorized"}`, ErrUnauthorized, func(t *testing.T, e *APIError) {
			if e.Error() != "WorkOS rejected the API key; check WORKOS_API_KEY (401, request req_test)" {
				t.Errorf("Error() = %q", e.Error())
			}
		}},
		{"403", 403, `{"message":"Organization not found: 'org_01EHQMYV6MBK39QC5PZXHY59C3'."}`, ErrUnauthorized, func(t *testing.T, e *APIError) {
			if !strings.Contains(e.Error(), "org_01EHQMYV6MBK39QC5PZXHY59C3") {
				t.Errorf("Error() = %q", e.Error())
			}
		}},
		{"404 new style", 404, `{"message":"Directory not found: 'invalid'.","code":"entity_not_found","entity_id":"invalid"}`, ErrNotFound, func(t *testing.T, e *APIError) {
			if e.EntityID != "invalid" || e.Code != "entity_not_found" || !strings.Contains(e.Error(), `"invalid"`) {
				t.Errorf("%+v / %q", e, e.Error())
			}
		}},
		{"404 old style", 404, `{"message":"Not Found"}`, ErrNotFound, func(t *testing.T, e *APIError) {
			if e.EntityID != "" || e.Message != "Not Found" {
				t.Errorf("%+v", e)
			}
		}},
		{"422 field objects", 422, `{"message":"Validation failed","errors":[{"field":"directory","code":"Please provide either \"directory\" or \"group\" parameters."},{"field":"group","code":"Please provide either \"directory\" or \"group\" parameters."}]}`, ErrValidation, func(t *testing.T, e *APIError) {
			if len(e.FieldErrors) != 2 || e.FieldErrors[1].Field != "group" || !strings.Contains(e.Error(), "directory: Please provide") {
				t.Errorf("%+v / %q", e.FieldErrors, e.Error())
			}
		}},
		{"422 string list", 422, `{"code":"invalid","message":"Validation failed","errors":["name is required","domain is invalid"]}`, ErrValidation, func(t *testing.T, e *APIError) {
			if len(e.FieldErrors) != 2 || e.FieldErrors[0] != (FieldError{Code: "name is required"}) {
				t.Errorf("%+v", e.FieldErrors)
			}
		}},
		{"422 mixed list", 422, `{"errors":[{"field":"events","code":"required"},"oops",7]}`, ErrValidation, func(t *testing.T, e *APIError) {
			if len(e.FieldErrors) != 2 || e.FieldErrors[1].Code != "oops" {
				t.Errorf("%+v", e.FieldErrors)
			}
		}},
		{"400 events", 400, `{"message":"One or more event names (e.g. dsync.user.created) must be provided using the events parameter.","code":"invalid_events_request"}`, ErrValidation, func(t *testing.T, e *APIError) {
			if e.Code != "invalid_events_request" {
				t.Errorf("%+v", e)
			}
		}},
		{"oauth shape", 400, `{"error":"invalid_client","error_description":"Invalid client secret."}`, ErrValidation, func(t *testing.T, e *APIError) {
			if e.Code != "invalid_client" || e.Message != "Invalid client secret." {
				t.Errorf("%+v", e)
			}
		}},
		{"500 after retries", 500, `{"message":"Internal Server Error"}`, ErrServer, nil},
		{"502 html from proxy", 502, `<html><body><h1>502 Bad Gateway</h1></body></html>`, ErrServer, func(t *testing.T, e *APIError) {
			if e.Message != "" || strings.Contains(e.Error(), "<html>") {
				t.Errorf("message = %q, Error = %q", e.Message, e.Error())
			}
		}},
	}
	sentinels := []error{ErrUnauthorized, ErrNotFound, ErrValidation, ErrRateLimited, ErrServer, ErrMalformed}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &scripted{resps: []resp{{tt.status, tt.body, nil}}}
			c, _ := newTestClient(t, s, func(c *Config) { c.MaxAttempts = 2 })
			_, err := c.ListUsers(context.Background(), ListUsersOptions{})
			var e *APIError
			if !errors.As(err, &e) {
				t.Fatalf("err = %T %v", err, err)
			}
			for _, sen := range sentinels {
				if errors.Is(err, sen) != (sen == tt.sentinel) {
					t.Errorf("errors.Is(err, %v) = %v", sen, !(sen == tt.sentinel))
				}
			}
			wantReqs := 1
			if retryable(tt.status) {
				wantReqs = 2
			}
			if s.count() != wantReqs || e.Status != tt.status || e.RequestID != "req_test" || e.Method != "GET" || e.Path != "/directory_users" {
				t.Errorf("requests=%d err=%+v", s.count(), e)
			}
			if tt.check != nil {
				tt.check(t, e)
			}
		})
	}
}

func TestClient_MalformedBodies(t *testing.T) {
	tests := []struct{ name, ct, body, inMessage string }{
		{"html page", "text/html", "<!doctype html><title>Login</title>", "HTML page"},
		{"truncated json", "application/json", `{"object":"list","data":[{"id":"directory_1"`, "unexpected end"},
		{"empty", "application/json", "", "empty body"},
		{"plain text", "text/plain", "Accepted", "not JSON"},
		{"wrong types", "application/json", `{"data":"nope"}`, "cannot unmarshal"},
		{"bad timestamp", "application/json", `{"data":[{"id":"d","created_at":"someday"}]}`, "someday"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &scripted{resps: []resp{{200, tt.body, map[string]string{"Content-Type": tt.ct}}}}
			c, _ := newTestClient(t, s, nil)
			_, err := c.ListDirectories(context.Background(), ListDirectoriesOptions{})
			if !errors.Is(err, ErrMalformed) || errors.Is(err, ErrServer) {
				t.Fatalf("err = %v", err)
			}
			if !strings.Contains(err.Error(), tt.inMessage) || s.count() != 1 {
				t.Errorf("Error() = %q (want %q), requests = %d", err.Error(), tt.inMessage, s.count())
			}
		})
	}
}

func TestClient_BodyCutShort(t *testing.T) {
	// The server promises 500 bytes and hangs up after a few: a network failure.
	var calls atomic.Int32 // each attempt is served on its own goroutine
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"data\":[")
		_ = buf.Flush()
	})
	c, _ := newTestClient(t, h, func(c *Config) { c.MaxAttempts = 2 })
	_, err := c.ListDirectories(context.Background(), ListDirectoriesOptions{})
	var e *APIError
	if !errors.As(err, &e) || !errors.Is(err, ErrMalformed) || e.Attempts != 2 || calls.Load() != 2 {
		t.Fatalf("err = %v, calls = %d", err, calls.Load())
	}
	if !strings.Contains(err.Error(), "cut short") {
		t.Errorf("Error() = %q", err.Error())
	}
}

func TestClient_NetworkErrorRetried(t *testing.T) {
	c, clk := newTestClient(t, http.NotFoundHandler(), func(c *Config) {
		c.BaseURL = "http://127.0.0.1:1" // nothing listens on port 1
		c.MaxAttempts = 3
	})
	_, err := c.GetDirectory(context.Background(), "directory_1")
	var te *TransportError
	if !errors.As(err, &te) || te.Attempts != 3 || len(clk.Sleeps()) != 2 {
		t.Fatalf("err = %v, sleeps = %v", err, clk.Sleeps())
	}
	if !strings.Contains(err.Error(), "could not reach WorkOS") {
		t.Errorf("Error() = %q", err.Error())
	}
}

func TestClient_PerAttemptTimeout(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	var calls atomic.Int32 // each attempt is served on its own goroutine
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			select { // stall until the client gives up on this attempt
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		_, _ = w.Write([]byte(okDirectory))
	})
	c, _ := newTestClient(t, h, func(c *Config) { c.RequestTimeout = 50 * time.Millisecond })
	d, err := c.GetDirectory(context.Background(), "directory_1")
	if err != nil || d.ID != "directory_1" || calls.Load() != 2 {
		t.Fatalf("dir=%q err=%v calls=%d", d.ID, err, calls.Load())
	}
}

func TestClient_AllAttemptsTimeOut(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	c, _ := newTestClient(t, h, func(c *Config) { c.RequestTimeout = 20 * time.Millisecond; c.MaxAttempts = 2 })
	_, err := c.GetDirectory(context.Background(), "directory_1")
	var te *TransportError
	if !errors.As(err, &te) || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "did not answer") {
		t.Fatalf("err = %v", err)
	}
}

func TestClient_CancelDuringBackoff(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := &scripted{resps: []resp{{503, `{}`, map[string]string{"Retry-After": "60"}}}}
	sleeping := make(chan struct{})
	c, _ := newTestClient(t, s, func(c *Config) {
		// A sleep that only ends when the context does, as the real one would.
		c.Sleep = func(ctx context.Context, d time.Duration) error {
			close(sleeping)
			<-ctx.Done()
			return ctx.Err()
		}
	})
	done := make(chan error, 1)
	go func() { _, err := c.GetDirectory(ctx, "directory_1"); done <- err }()
	<-sleeping
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if s.count() != 1 {
		t.Errorf("requests = %d, want 1", s.count())
	}
}

func TestClient_CancelDuringRealBackoff(t *testing.T) {
	// The default sleep must return as soon as the context ends.
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan struct{}, 1)
	s := &scripted{resps: []resp{{503, `{}`, map[string]string{"Retry-After": "60"}}}}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.ServeHTTP(w, r)
		select {
		case first <- struct{}{}:
		default:
		}
	})
	c, _ := newTestClient(t, h, func(c *Config) { c.Sleep = nil; c.Now = nil })
	done := make(chan error, 1)
	go func() { _, err := c.GetDirectory(ctx, "directory_1"); done <- err }()
	<-first
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
	case <-time.After(20 * time.Second): // hang guard only; the call should end at once
		t.Fatal("GetDirectory kept sleeping after cancel")
	}
}

func TestClient_DeleteDirectoryAccepted(t *testing.T) {
	s := &scripted{resps: []resp{{202, "Accepted", map[string]string{"Content-Type": "text/plain; charset=utf-8"}}}}
	c, _ := newTestClient(t, s, nil)
	if err := c.DeleteDirectory(context.Background(), "directory_1"); err != nil {
		t.Fatal(err)
	}
	if r := s.reqs[0]; r.Method != http.MethodDelete || r.URL.Path != "/directories/directory_1" {
		t.Errorf("request = %s %s", r.Method, r.URL)
	}
}

func TestClient_EmptyAndOddIDs(t *testing.T) {
	s := &scripted{resps: []resp{{200, okDirectory, nil}}}
	c, _ := newTestClient(t, s, nil)
	if _, err := c.GetUser(context.Background(), " "); err == nil {
		t.Error("empty id accepted")
	}
	if _, err := c.GetDirectory(context.Background(), "a/b?c"); err != nil {
		t.Fatal(err)
	}
	if got := s.reqs[0].URL.EscapedPath(); got != "/directories/a%2Fb%3Fc" {
		t.Errorf("path = %s", got)
	}
}

func TestNew_Defaults(t *testing.T) {
	c := New(Config{})
	if c.baseURL != DefaultBaseURL || c.userAgent != "roster/0.1.0" || c.maxAttempts != 4 || c.timeout != 30*time.Second || c.hc == nil {
		t.Errorf("client = %+v", c)
	}
	if c.pace.key == nil || c.pace.perDir != 4*paceMargin {
		t.Errorf("pacing = %+v", c.pace)
	}
	c = New(Config{BaseURL: "http://x/", UsersRatePerDirectory: -1, KeyRequestsPerMinute: -1, MaxAttempts: -5})
	if c.baseURL != "http://x" || c.pace.key != nil || c.pace.perDir != 0 || c.maxAttempts != 1 {
		t.Errorf("client = %+v pace = %+v", c, c.pace)
	}
}
