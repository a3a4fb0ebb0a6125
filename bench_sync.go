package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"time"

	"roster/internal/db"
	"roster/internal/dirsync"
	"roster/internal/onboarding"
)

// phaseClock wraps the sync's API client and notes when each load phase
// began (its first call), so the backfill can be broken down on stderr.
type phaseClock struct {
	onboarding.SyncAPI
	mu    sync.Mutex
	first map[string]time.Time
	cpu   map[string]time.Duration // process CPU time when the phase began
	calls map[string]int
}

func (p *phaseClock) note(phase string) {
	// Label the goroutine that lists pages, so that a -cpuprofile shows
	// each phase's listing and decoding (go tool pprof -tagfocus phase=users).
	pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(), pprof.Labels("phase", phase)))
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.first == nil {
		p.first, p.calls, p.cpu = map[string]time.Time{}, map[string]int{}, map[string]time.Duration{}
	}
	if _, ok := p.first[phase]; !ok {
		p.first[phase] = time.Now()
		p.cpu[phase] = cpuTime()
	}
	p.calls[phase]++
}

func (p *phaseClock) ListGroups(ctx context.Context, o dirsync.ListGroupsOptions) (dirsync.Page[dirsync.Group], error) {
	p.note("groups")
	return p.SyncAPI.ListGroups(ctx, o)
}

func (p *phaseClock) ListUsers(ctx context.Context, o dirsync.ListUsersOptions) (dirsync.Page[dirsync.User], error) {
	if o.Group != "" {
		p.note("memberships")
	} else {
		p.note("users")
	}
	return p.SyncAPI.ListUsers(ctx, o)
}

func (p *phaseClock) ListEvents(ctx context.Context, o dirsync.ListEventsOptions) (dirsync.EventPage, error) {
	p.note("events")
	return p.SyncAPI.ListEvents(ctx, o)
}

func (b *bench) syncLog() *slog.Logger {
	if b.opts.verbose {
		return b.log
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// service is the app's onboarding service on the bench's database, set up
// as main sets it up (invitation emails get their HTML part).
func (b *bench) service(baseURL string) *onboarding.Service {
	return &onboarding.Service{DB: b.store, Log: b.syncLog(), BaseURL: baseURL, InvitationHTML: invitationHTML}
}

// backfill loads the sandbox's directory into a fresh database through the
// real client (pacing off, as the rate limit is off) and the real Syncer,
// until the directory is live.
//
// backfill_users_per_s is the users listed divided by the wall time from
// the start of the load to the end of its users phase (the group pages,
// then the user pages: each fetched and decoded, then upserted with its
// progress, several pages per transaction). That is the work the target
// was calibrated on. The rest
// of the load (every group's members: on the large preset 566,000
// memberships, each a full user object in the API, then the sweep and
// the search index) is timed too and logged as "whole load".
// backfill_peak_rss_mb covers the whole load.
func (b *bench) backfill(ctx context.Context) error {
	var err error
	runtime.GC()
	if err := resetPeakRSS(); err != nil {
		b.log.Warn("bench: cannot reset the peak RSS", "err", err)
	}
	b.store, err = db.Open(ctx, b.dbPath)
	if err != nil {
		return fmt.Errorf("bench: open database: %w", err)
	}
	client := dirsync.New(dirsync.Config{BaseURL: b.sb.url, APIKey: benchSandboxKey,
		UsersRatePerDirectory: -1, KeyRequestsPerMinute: -1})
	pc := &phaseClock{SyncAPI: client}
	syncer := onboarding.NewSyncer(b.store, pc, b.syncLog())
	b.log.Info("bench: backfill starting")
	cpu0 := cpuTime()
	start := time.Now()
	if err := syncer.SyncOnce(ctx); err != nil {
		return fmt.Errorf("bench: backfill: %w", err)
	}
	wall := time.Since(start)
	cpuAll := cpuTime() - cpu0
	hwm, rssErr := peakRSS()

	states, err := b.store.SyncStates(ctx)
	if err != nil {
		return err
	}
	if len(states) == 0 {
		return errors.New("bench: the backfill found no directory")
	}
	// The directory with most users is the one measured (large has one).
	st := states[0]
	for _, s := range states[1:] {
		if s.UsersDone > st.UsersDone {
			st = s
		}
	}
	b.dirID, b.orgID = st.DirectoryID, st.OrganizationID
	users, groups, err := b.store.DirectoryCounts(ctx, b.dirID)
	if err != nil {
		return err
	}
	var total int64
	for _, s := range states {
		total += s.UsersDone
	}
	phases := []string{"groups", "users", "memberships", "events"}
	end := func(i int) (time.Time, time.Duration) {
		for _, next := range phases[i+1:] {
			if t1, ok := pc.first[next]; ok {
				return t1, pc.cpu[next]
			}
		}
		return start.Add(wall), cpu0 + cpuAll
	}
	var split []any
	for i, ph := range phases {
		t0, ok := pc.first[ph]
		if !ok {
			continue
		}
		t1, c1 := end(i)
		split = append(split, ph+"_s", round3(t1.Sub(t0).Seconds()), ph+"_cpu_s", round3((c1 - pc.cpu[ph]).Seconds()), ph+"_calls", pc.calls[ph])
	}
	b.log.Info("bench: backfill done (whole load)", append([]any{"directory", b.dirID, "users", users, "groups", groups,
		"memberships", st.MembershipsDone, "wall_s", round3(wall.Seconds()), "cpu_s", round3(cpuAll.Seconds()),
		"users_per_s_whole_load", round3(float64(total) / wall.Seconds())}, split...)...)
	usersEnd, cpuEnd := start.Add(wall), cpu0+cpuAll
	if _, ok := pc.first["users"]; ok {
		usersEnd, cpuEnd = end(1)
	}
	b.log.Info("bench: backfill to the end of the users phase", "users", total,
		"wall_s", round3(usersEnd.Sub(start).Seconds()), "cpu_s", round3((cpuEnd - cpu0).Seconds()),
		"users_per_cpu_s", round3(float64(total)/(cpuEnd-cpu0).Seconds()))
	b.emit("backfill_users_per_s", float64(total)/usersEnd.Sub(start).Seconds())
	if rssErr != nil {
		b.skip("backfill_peak_rss_mb", rssErr.Error())
	} else {
		b.emit("backfill_peak_rss_mb", float64(hwm)/(1<<20))
	}
	return nil
}

// events makes the sandbox emit a backlog of events, then times one sync
// applying all of it: reading the pages, the guarded replica writes, the
// applied-events log and the cursor, a transaction per page.
func (b *bench) events(ctx context.Context) error {
	if b.opts.events == 0 {
		return nil
	}
	b.log.Info("bench: generating events in the sandbox", "want", b.opts.events)
	genStart := time.Now()
	users, _, err := b.store.DirectoryCounts(ctx, b.dirID)
	if err != nil {
		return err
	}
	n, err := b.sb.generateEvents(ctx, b.dirID, b.opts.events, users)
	if err != nil {
		return err
	}
	b.log.Info("bench: events generated", "events", n, "took_s", time.Since(genStart).Seconds())

	before, err := b.store.SyncState(ctx, b.dirID)
	if err != nil {
		return err
	}
	client := dirsync.New(dirsync.Config{BaseURL: b.sb.url, APIKey: benchSandboxKey,
		UsersRatePerDirectory: -1, KeyRequestsPerMinute: -1})
	syncer := onboarding.NewSyncer(b.store, client, b.syncLog())
	// As in main: each event also reaches the accounts it concerns (the
	// invite scenario before this one created 10,000 of them).
	app := b.service("http://127.0.0.1")
	syncer.OnEvent = app.AccountEffects()
	syncer.OnChanges = app.ReconcileEffects()
	cpu0, io0 := cpuTime(), ioCount()
	start := time.Now()
	if err := syncer.SyncDirectory(ctx, b.dirID); err != nil {
		return fmt.Errorf("bench: apply events: %w", err)
	}
	wall := time.Since(start)
	cpu, io1 := cpuTime()-cpu0, ioCount()
	after, err := b.store.SyncState(ctx, b.dirID)
	if err != nil {
		return err
	}
	applied := after.EventsApplied - before.EventsApplied
	stale := after.EventsStale - before.EventsStale
	dup := after.EventsDuplicate - before.EventsDuplicate
	failed := after.EventsFailed - before.EventsFailed
	read := applied + stale + dup + failed
	b.log.Info("bench: events applied", "read", read, "applied", applied, "stale", stale, "duplicate", dup,
		"failed", failed, "wall_s", round3(wall.Seconds()), "cpu_s", round3(cpu.Seconds()),
		"reads_per_event", perEvent(io1.reads-io0.reads, read), "writes_per_event", perEvent(io1.writes-io0.writes, read),
		"kib_written_per_event", perEvent((io1.writeBytes-io0.writeBytes)/1024, read))
	if read < int64(n) {
		b.log.Warn("bench: fewer events read than generated", "generated", n, "read", read)
	}
	b.emit("events_applied_per_s", float64(read)/wall.Seconds())
	return nil
}

// perEvent is n per event read, to two decimals (0 when none was read).
func perEvent(n, events int64) float64 {
	if events == 0 {
		return 0
	}
	return math.Round(float64(n)/float64(events)*100) / 100
}

// invite selects people for a platform admin, then times the preview
// (Review) and the invite (accounts, invitations and outbox rows in one
// transaction) as the review page and its form do.
func (b *bench) invite(ctx context.Context) error {
	if b.opts.invite == 0 {
		return nil
	}
	const email = "bench@roster.example"
	auth := onboarding.NewAuth(b.store)
	auth.BcryptCost = 4
	if _, err := auth.EnsureAdmin(ctx, email, "bench-password-1"); err != nil {
		return err
	}
	adm, err := b.store.AdminByEmail(ctx, email)
	if err != nil {
		return err
	}
	act := onboarding.Actor{AdminID: adm.ID, Email: email}

	// Active people with an email: those the invite will create accounts for.
	var ids []string
	p := db.PageRequest{Limit: 1000}
	for {
		page, err := b.store.BrowseUsers(ctx, db.UserFilter{DirectoryID: b.dirID, State: "active"}, p)
		if err != nil {
			return err
		}
		for _, r := range page.Rows {
			if r.Email != "" && r.AccountID == "" {
				ids = append(ids, r.ID)
			}
		}
		if !page.HasNext || len(page.Rows) == 0 {
			break
		}
		c := page.Rows[len(page.Rows)-1].Cursor()
		p.After = &c
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	rnd.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	ids = ids[:min(len(ids), b.opts.invite)]
	if _, err := b.store.SelectUsers(ctx, act.AdminID, "", ids); err != nil {
		return err
	}
	app := b.service("http://127.0.0.1")
	cpu0 := cpuTime()
	t0 := time.Now()
	rv, err := app.Review(ctx, act)
	if err != nil {
		return fmt.Errorf("bench: preview: %w", err)
	}
	t1 := time.Now()
	res, err := app.Invite(ctx, act, onboarding.InviteInput{Key: onboarding.RandomToken(18)})
	if err != nil {
		return fmt.Errorf("bench: invite: %w", err)
	}
	t2 := time.Now()
	b.log.Info("bench: invite done", "selected", len(ids), "preview_people", rv.Total, "created", res.Created,
		"refused", fmt.Sprint(res.Refused), "skipped", fmt.Sprint(res.Skipped),
		"preview_ms", ms(t1.Sub(t0)), "invite_ms", ms(t2.Sub(t1)), "cpu_ms", ms(cpuTime()-cpu0))
	if res.Created < len(ids)*9/10 {
		b.log.Warn("bench: the invite created fewer accounts than selected", "selected", len(ids), "created", res.Created)
	}
	b.emit("invite_10k_ms", ms(t2.Sub(t0)))
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// countingTransport counts the /directory_users requests the client sent,
// when, and the 429s it got back.
type countingTransport struct {
	next http.RoundTripper
	mu   sync.Mutex
	sent []time.Time // accepted (non-429) /directory_users requests
	r429 int
}

func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	at := time.Now()
	resp, err := t.next.RoundTrip(req)
	if err != nil || !strings.HasPrefix(req.URL.Path, "/directory_users") {
		return resp, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if resp.StatusCode == http.StatusTooManyRequests {
		t.r429++
	} else {
		t.sent = append(t.sent, at)
	}
	return resp, err
}

// quota turns the sandbox's rate limit on (4 requests/s per directory on
// /directory_users) and backfills into a second, throwaway database with
// the client's default pacing. backfill_quota_use is the number of
// /directory_users requests sent in a window of -quota-window starting at
// the first one, divided by the window × 4/s; backfill_429s counts the
// 429 answers the client saw during the whole run.
func (b *bench) quota(ctx context.Context) error {
	if err := b.sb.setRateLimit(ctx, true); err != nil {
		return err
	}
	defer func() {
		if err := b.sb.setRateLimit(context.WithoutCancel(ctx), false); err != nil {
			b.log.Warn("bench: turn the rate limit off", "err", err)
		}
	}()
	path := filepath.Join(b.tmpDir, "quota.db")
	store, err := db.Open(ctx, path)
	if err != nil {
		return err
	}
	defer func() {
		store.Close()
		for _, suffix := range []string{"", "-wal", "-shm"} {
			os.Remove(path + suffix)
		}
	}()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 16
	ct := &countingTransport{next: tr}
	client := dirsync.New(dirsync.Config{BaseURL: b.sb.url, APIKey: benchSandboxKey, HTTPClient: &http.Client{Transport: ct}})
	syncer := onboarding.NewSyncer(store, client, slog.New(slog.NewTextHandler(io.Discard, nil)))
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	b.log.Info("bench: rate-limited backfill", "window", b.opts.quotaWindow)
	go func() { done <- syncer.SyncOnce(runCtx) }()

	window := b.opts.quotaWindow
	var first time.Time
	deadline := time.Now().Add(window + 2*time.Minute)
	finished := false
	for !finished {
		select {
		case err := <-done:
			finished = true
			if err != nil && runCtx.Err() == nil {
				return fmt.Errorf("bench: rate-limited backfill: %w", err)
			}
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		ct.mu.Lock()
		if first.IsZero() && len(ct.sent) > 0 {
			first = ct.sent[0]
		}
		ct.mu.Unlock()
		if !first.IsZero() && time.Since(first) > window+time.Second {
			break
		}
		if time.Now().After(deadline) {
			return errors.New("bench: the rate-limited backfill never listed users")
		}
	}
	cancel()
	if !finished {
		<-done
	}
	ct.mu.Lock()
	defer ct.mu.Unlock()
	if first.IsZero() {
		return errors.New("bench: the rate-limited backfill sent no /directory_users request")
	}
	n := 0
	for _, at := range ct.sent {
		if at.Sub(first) < window {
			n++
		}
	}
	span := window
	if last := ct.sent[len(ct.sent)-1]; finished && last.Sub(first) < window {
		// The directory was listed in full before the window ended: judge
		// the rate over the time it took (the interval between requests).
		span = last.Sub(first) + 250*time.Millisecond
		b.log.Warn("bench: the directory is too small to fill the quota window", "listed_in", last.Sub(first))
	}
	rate := float64(n) / span.Seconds()
	b.log.Info("bench: rate-limited backfill", "requests_in_window", n, "window_s", span.Seconds(),
		"req_per_s", rate, "429s", ct.r429)
	b.emit("backfill_quota_use", rate/4)
	b.emit("backfill_429s", float64(ct.r429))
	return nil
}
