package sandbox

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock for Options.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type harness struct {
	t     *testing.T
	sb    *Sandbox
	srv   *httptest.Server
	clock *fakeClock
}

// newHarness starts a sandbox (small preset unless set) on a test server.
func newHarness(t *testing.T, opts Options) *harness {
	t.Helper()
	clock := newClock()
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	if opts.Preset == "" {
		opts.Preset = PresetSmall
	}
	sb, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(func() {
		srv.Close()
		if err := sb.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return &harness{t: t, sb: sb, srv: srv, clock: clock}
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (h *harness) do(method, path, body string, auth bool) resp {
	h.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.srv.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if auth {
		req.Header.Set("Authorization", "Bearer "+h.sb.opts.APIKey)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp{res.StatusCode, res.Header, b}
}

// get is an authenticated GET that expects want as status.
func (h *harness) get(path string, want int) []byte {
	h.t.Helper()
	r := h.do("GET", path, "", true)
	if r.status != want {
		h.t.Fatalf("GET %s: status %d, want %d; body %s", path, r.status, want, r.body)
	}
	return r.body
}

// control calls a /_sandbox/ endpoint and expects want.
func (h *harness) control(method, path, body string, want int) []byte {
	h.t.Helper()
	r := h.do(method, path, body, false)
	if r.status != want {
		h.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, r.status, want, r.body)
	}
	return r.body
}

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

type listMeta struct {
	Before *string `json:"before"`
	After  *string `json:"after"`
}

type idList struct {
	Object string `json:"object"`
	Data   []struct {
		ID string `json:"id"`
	} `json:"data"`
	ListMetadata listMeta `json:"list_metadata"`
}

func (l idList) ids() []string {
	out := make([]string, len(l.Data))
	for i, d := range l.Data {
		out[i] = d.ID
	}
	return out
}

type eventJSON struct {
	Object    string          `json:"object"`
	ID        string          `json:"id"`
	Event     string          `json:"event"`
	Data      json.RawMessage `json:"data"`
	CreatedAt string          `json:"created_at"`
}

type eventList struct {
	Data         []eventJSON `json:"data"`
	ListMetadata struct {
		After *string `json:"after"`
	} `json:"list_metadata"`
}

// eventsSince returns the names of the events after the given id.
func (h *harness) eventsSince(after string) []eventJSON {
	h.t.Helper()
	var out []eventJSON
	for {
		path := "/events?limit=100&events=" + allDsync
		if after != "" {
			path += "&after=" + after
		}
		page := decode[eventList](h.t, h.get(path, 200))
		out = append(out, page.Data...)
		if page.ListMetadata.After == nil {
			return out
		}
		after = *page.ListMetadata.After
	}
}

const allDsync = "dsync.activated,dsync.deleted,dsync.user.created,dsync.user.updated,dsync.user.deleted," +
	"dsync.group.created,dsync.group.updated,dsync.group.deleted,dsync.group.user_added,dsync.group.user_removed"

// lastEventID returns the newest event id.
func (h *harness) lastEventID() string {
	h.sb.mu.RLock()
	defer h.sb.mu.RUnlock()
	evs := h.sb.st.events
	if len(evs) == 0 {
		return ""
	}
	return evs[len(evs)-1].id
}

func names(evs []eventJSON) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Event
	}
	return out
}

func newRequest(method, url string) (*http.Request, error) { return http.NewRequest(method, url, nil) }
