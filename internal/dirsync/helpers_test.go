package dirsync

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// fakeClock is an injectable clock whose Sleep advances time instantly.
type fakeClock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = f.t.Add(d)
	f.sleeps = append(f.sleeps, d)
	return nil
}

func (f *fakeClock) Sleeps() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.sleeps...)
}

// newTestClient starts h and returns a client aimed at it with a fake clock.
// Pacing is off unless mod turns it on, so retry tests see only backoff sleeps.
func newTestClient(t *testing.T, h http.Handler, mod func(*Config)) (*Client, *fakeClock) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	clk := newFakeClock()
	cfg := Config{
		BaseURL: srv.URL, APIKey: "sk_test_123",
		Now: clk.Now, Sleep: clk.Sleep,
		UsersRatePerDirectory: -1, KeyRequestsPerMinute: -1,
	}
	if mod != nil {
		mod(&cfg)
	}
	return New(cfg), clk
}

// scripted serves the given responses in order, repeating the last one.
type scripted struct {
	mu    sync.Mutex
	resps []resp
	reqs  []*http.Request
}

type resp struct {
	status  int
	body    string
	headers map[string]string
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	i := min(len(s.reqs), len(s.resps)-1)
	s.reqs = append(s.reqs, r.Clone(context.Background()))
	rs := s.resps[i]
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Request-Id", "req_test")
	for k, v := range rs.headers {
		w.Header().Set(k, v)
	}
	w.WriteHeader(rs.status)
	_, _ = w.Write([]byte(rs.body))
}

func (s *scripted) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reqs)
}

const okDirectory = `{"object":"directory","id":"directory_1","organization_id":"org_1","external_key":"k","type":"s3","state":"linked","name":"Foo","created_at":"2021-10-28T13:29:54.451Z","updated_at":"2021-10-28T13:29:54.451Z"}`
