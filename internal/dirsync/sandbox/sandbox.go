// Package sandbox is a WorkOS-compatible Directory Sync emulator: the REST
// API, signed webhooks, a seeded demo company, a change simulator, the
// Organizations API, a simulated Admin Portal and fault injection.
//
// It is an implementation of its own: it shares no types or encoding code
// with the roster/internal/dirsync client, so the client's tests against it
// are judged by the official SDK and spec, not by a mirror.
//
// WorkOS API (Bearer auth): GET /directories, GET|DELETE /directories/{id},
// GET /directory_users, GET /directory_users/{id}, GET /directory_groups,
// GET /directory_groups/{id}, GET /events, GET|POST /organizations,
// GET|PUT /organizations/{id}, GET /organizations/external_id/{id},
// POST /portal/generate_link.
//
// Control API (JSON, no auth; loopback use only) under /_sandbox/:
// GET state; POST directories/{id}/users (hire); PATCH users/{id};
// POST users/{id}/deactivate and /reactivate; DELETE users/{id};
// POST groups/{id}/members; DELETE groups/{id}/members/{user_id};
// POST directories/{id}/groups; PATCH|DELETE groups/{id};
// DELETE directories/{id}; POST scenarios/{new-hires|reorg|leavers};
// PUT churn, faults, webhooks; GET faults. GET /_sandbox/ is an HTML page
// with forms for the same actions; /_sandbox/portal/… is the Admin Portal.
//
// Lists are sorted by id. Ids are ULIDs from one monotonic source, so id
// order is creation order and `after` cursors on /events never skip.
package sandbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/brianvoe/gofakeit/v7"
)

// Options configures a Sandbox. The zero value is a usable demo.
type Options struct {
	APIKey    string // default "sk_test_sandbox"
	Preset    string // "demo" (default), "large", "small", "empty"
	Seed      int64  // default 1; the same seed gives identical data and ids
	StatePath string // optional JSON file that keeps state across restarts

	WebhookURL, WebhookSecret string

	RateLimit      bool          // 4 req/s per directory on /directory_users
	Latency        time.Duration // added to every API response
	ErrorRate      float64       // share of API requests answered with a 5xx
	DropRate       float64       // share of API requests whose connection is dropped
	LegacyGroups   bool          // fill the deprecated groups field on users
	ChurnPerMinute int           // steady random changes per minute (0 = off)

	PublicURL string           // base URL for portal links (default: the listen address)
	Now       func() time.Time // clock (default time.Now)
	Logger    *slog.Logger     // default: discard
}

// DefaultAPIKey is the API key accepted when Options.APIKey is empty.
const DefaultAPIKey = "sk_test_sandbox"

// Sandbox is a running emulator. Its methods are safe for concurrent use.
type Sandbox struct {
	opts Options
	log  *slog.Logger

	mu      sync.RWMutex // guards st, ids and the settings below
	st      *store
	ids     *idGen
	fake    *gofakeit.Faker // randomness of live changes (scenarios, churn)
	onEvent func(*event)
	faults  faults
	legacy  bool
	portal  map[string]*portalSession // by link token, and by "s:"+session id
	// pushTick is the pause between admin-portal push batches.
	pushTick time.Duration
	// publicURL is set by ListenAndServe when Options.PublicURL is empty.
	publicURL string

	limiter *rateLimiter
	hooks   *webhooks
	churn   *churner
	saver   *saver

	closeOnce sync.Once
	stop      context.CancelFunc
	ctx       context.Context
	wg        sync.WaitGroup
}

// New builds a sandbox: it loads Options.StatePath when that file exists,
// and otherwise generates the preset from the seed.
func New(opts Options) (*Sandbox, error) {
	if opts.APIKey == "" {
		opts.APIKey = DefaultAPIKey
	}
	if opts.Preset == "" {
		opts.Preset = PresetDemo
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Sandbox{
		opts:     opts,
		log:      opts.Logger,
		st:       newStore(),
		ids:      newIDGen(opts.Seed),
		fake:     gofakeit.New(uint64(opts.Seed) + 0x9e3779b9),
		legacy:   opts.LegacyGroups,
		portal:   map[string]*portalSession{},
		pushTick: 300 * time.Millisecond,
		faults:   faults{rateLimit: opts.RateLimit, latency: opts.Latency, errorRate: opts.ErrorRate, dropRate: opts.DropRate},
	}
	s.ctx, s.stop = context.WithCancel(context.Background())
	s.limiter = newRateLimiter()

	loaded := false
	if opts.StatePath != "" {
		ok, err := s.load(opts.StatePath)
		if err != nil {
			return nil, err
		}
		loaded = ok
	}
	if !loaded {
		if err := s.seed(opts.Preset, opts.Seed, opts.Now()); err != nil {
			return nil, err
		}
	}

	s.hooks = newWebhooks(s, opts.WebhookURL, opts.WebhookSecret)
	s.saver = newSaver(s, opts.StatePath)
	s.onEvent = func(e *event) {
		s.hooks.enqueue(e)
		s.saver.touch()
	}
	s.churn = newChurner(s)
	s.start(func() { s.hooks.run(s.ctx) })
	s.start(func() { s.saver.run(s.ctx) })
	s.start(func() { s.churn.run(s.ctx) })
	if opts.ChurnPerMinute > 0 {
		s.churn.set(opts.ChurnPerMinute)
	}
	if opts.StatePath != "" && !loaded {
		s.saver.touch()
	}
	return s, nil
}

func (s *Sandbox) start(f func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

// Handler returns the whole emulator: the WorkOS API, /_sandbox/ control
// endpoints and pages, and the admin portal.
func (s *Sandbox) Handler() http.Handler {
	mux := http.NewServeMux()
	s.routeAPI(mux)
	s.routeControl(mux)
	s.routeUI(mux)
	return s.withRequestID(mux)
}

// ListenAndServe serves on addr until ctx is done, then shuts the server
// down and closes the sandbox (which saves its state).
func (s *Sandbox) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("sandbox: listen: %w", err)
	}
	s.mu.Lock()
	if s.opts.PublicURL == "" {
		s.publicURL = "http://" + ln.Addr().String()
	}
	s.mu.Unlock()
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info("sandbox listening", "addr", ln.Addr().String(), "preset", s.opts.Preset)
	select {
	case err := <-errc:
		_ = s.Close()
		return fmt.Errorf("sandbox: serve: %w", err)
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(shutCtx)
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// Close stops the churn, webhook and save workers and saves the state.
// It is safe to call more than once.
func (s *Sandbox) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.stop()
		s.wg.Wait()
		err = s.saver.saveNow()
	})
	return err
}

// now returns the sandbox clock in unix milliseconds.
func (s *Sandbox) now() int64 { return s.opts.Now().UnixMilli() }

// live is the clock for a change made now.
func (s *Sandbox) live() clk {
	ms := s.now()
	return clk{at: ms, idAt: ms}
}
