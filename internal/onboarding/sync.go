package onboarding

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"roster/internal/db"
	"roster/internal/dirsync"
)

// SyncAPI is the part of the WorkOS client the sync uses (*dirsync.Client).
type SyncAPI interface {
	ListDirectories(ctx context.Context, o dirsync.ListDirectoriesOptions) (dirsync.Page[dirsync.Directory], error)
	ListUsers(ctx context.Context, o dirsync.ListUsersOptions) (dirsync.Page[dirsync.User], error)
	ListGroups(ctx context.Context, o dirsync.ListGroupsOptions) (dirsync.Page[dirsync.Group], error)
	ListEvents(ctx context.Context, o dirsync.ListEventsOptions) (dirsync.EventPage, error)
}

// Sync defaults.
const (
	DefaultSyncInterval      = 10 * time.Second
	DefaultDiscoverInterval  = time.Minute
	DefaultReconcileInterval = 24 * time.Hour
	DefaultRetention         = 30 * 24 * time.Hour
	// eventsSkew is taken off "now" when a load notes its event position, so
	// that a clock a little ahead of WorkOS's cannot skip an event. Replaying
	// a few events too many is harmless: they are guarded or duplicates.
	eventsSkew = time.Minute
	pageSize   = 100
)

// Syncer keeps the replica of every WorkOS directory: it discovers
// directories, loads each one (backfill, or reconcile with a diff), then
// applies its events in order. One worker goroutine per directory; all of a
// directory's work is serialised by its lock, and every transaction of work
// also records the progress, so a crash at any point resumes where the last
// commit left off.
//
// Set the exported fields before Run; NewSyncer fills the defaults.
type Syncer struct {
	DB  *db.DB
	API SyncAPI
	Log *slog.Logger
	Now func() time.Time

	Interval          time.Duration // event poll period (SYNC_INTERVAL); default 10 s
	DiscoverInterval  time.Duration // how often /directories is listed; default 1 min
	ReconcileInterval time.Duration // scheduled reconcile; default 24 h; negative disables
	Retention         time.Duration // WorkOS events retention; default 30 days

	// OnEvent, when set, is called for each event read, inside the
	// transaction that applies it and saves the cursor, with the decoded data
	// (nil if it could not be decoded) and the outcome (db.Outcome*). An error
	// rolls the page back; it is retried on the next poll.
	OnEvent func(ctx context.Context, tx db.Tx, ev dirsync.Event, decoded any, outcome string) error
	// OnChanges, when set, is called with the differences a load fixed in
	// the replica (a reconcile, or a backfill's final sweep), inside the
	// transaction that fixes them. An error rolls the page back.
	OnChanges func(ctx context.Context, tx db.Tx, directoryID string, changes []db.Change) error

	initOnce sync.Once
	mu       sync.Mutex
	locks    map[string]*sync.Mutex // per directory
	workers  map[string]*worker
	discover chan struct{}
	runCtx   context.Context
	wg       sync.WaitGroup
	m        *syncMetrics
	hooks    webhookSeen
}

type worker struct {
	wake      chan struct{}
	reconcile bool // requested by StartReconcile, read under Syncer.mu
}

// NewSyncer returns a Syncer with the default settings.
func NewSyncer(store *db.DB, api SyncAPI, log *slog.Logger) *Syncer {
	s := &Syncer{DB: store, API: api, Log: log}
	s.init()
	return s
}

func (s *Syncer) init() {
	s.initOnce.Do(func() {
		if s.Interval <= 0 {
			s.Interval = DefaultSyncInterval
		}
		if s.DiscoverInterval <= 0 {
			s.DiscoverInterval = DefaultDiscoverInterval
		}
		if s.ReconcileInterval == 0 {
			s.ReconcileInterval = DefaultReconcileInterval
		}
		if s.Retention <= 0 {
			s.Retention = DefaultRetention
		}
		if s.Log == nil {
			s.Log = slog.Default()
		}
		s.locks = map[string]*sync.Mutex{}
		s.workers = map[string]*worker{}
		s.discover = make(chan struct{}, 1)
		s.m = newSyncMetrics(s)
	})
}

func (s *Syncer) now() time.Time {
	if s.Now == nil {
		return time.Now().UTC()
	}
	return s.Now().UTC()
}

func (s *Syncer) lock(dirID string) *sync.Mutex {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.locks[dirID]
	if l == nil {
		l = &sync.Mutex{}
		s.locks[dirID] = l
	}
	return l
}

// Run is the background sync: it discovers directories now and every
// DiscoverInterval, and runs one worker per directory that loads it and
// polls its events every Interval (sooner after Poke or SyncNow). It returns
// nil once ctx is cancelled and every worker has stopped.
func (s *Syncer) Run(ctx context.Context) error {
	s.init()
	s.mu.Lock()
	s.runCtx = ctx
	s.mu.Unlock()
	defer s.wg.Wait()

	// Resume known directories at once, even if WorkOS is unreachable.
	if states, err := s.DB.SyncStates(ctx); err == nil {
		for _, st := range states {
			if st.Phase != db.PhaseDeleted {
				s.ensureWorker(st.DirectoryID)
			}
		}
	} else {
		s.Log.Error("sync: read sync states", "err", err)
	}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-s.discover:
		}
		if err := s.Discover(ctx); err != nil && ctx.Err() == nil {
			s.Log.Warn("sync: discover directories", "err", err)
			s.m.errors.WithLabelValues(errorKind(err)).Inc()
		}
		if _, err := s.DB.PruneAppliedEvents(ctx, s.now().Add(-s.Retention-7*24*time.Hour)); err != nil && ctx.Err() == nil {
			s.Log.Warn("sync: prune applied events", "err", err)
		}
		t.Reset(s.DiscoverInterval)
	}
}

// ensureWorker starts the worker of a directory if Run is running and it has
// none yet.
func (s *Syncer) ensureWorker(dirID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.runCtx == nil || s.workers[dirID] != nil {
		return
	}
	w := &worker{wake: make(chan struct{}, 1)}
	s.workers[dirID] = w
	ctx := s.runCtx
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.work(ctx, dirID, w)
	}()
}

func (s *Syncer) work(ctx context.Context, dirID string, w *worker) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-w.wake:
		}
		s.mu.Lock()
		reconcile := w.reconcile
		w.reconcile = false
		s.mu.Unlock()
		wait := s.Interval
		var err error
		if reconcile {
			_, err = s.Reconcile(ctx, dirID)
		} else {
			err = s.SyncDirectory(ctx, dirID)
		}
		if ctx.Err() != nil {
			return
		}
		var re *retryError
		switch {
		case errors.Is(err, errDirectoryGone):
			s.mu.Lock()
			delete(s.workers, dirID)
			s.mu.Unlock()
			return
		case errors.As(err, &re):
			wait = max(wait, re.at.Sub(s.now()))
		}
		if !t.Stop() {
			select {
			case <-t.C:
			default:
			}
		}
		t.Reset(wait)
	}
}

// Poke asks for an immediate poll of every directory and a discovery (a
// webhook arrived). It never blocks.
func (s *Syncer) Poke() {
	s.init()
	select {
	case s.discover <- struct{}{}:
	default:
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range s.workers {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// SyncNow asks the directory's worker to sync at once. It never blocks.
func (s *Syncer) SyncNow(dirID string) {
	s.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	if w := s.workers[dirID]; w != nil {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// StartReconcile asks the directory's worker to reconcile it soon; the
// sync page shows the progress. Without a running worker (Run not started)
// it reconciles synchronously.
func (s *Syncer) StartReconcile(ctx context.Context, dirID string) error {
	s.init()
	s.mu.Lock()
	w := s.workers[dirID]
	if w != nil {
		w.reconcile = true
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	s.mu.Unlock()
	if w != nil {
		return nil
	}
	_, err := s.Reconcile(ctx, dirID)
	return err
}

var errDirectoryGone = errors.New("sync: directory deleted")

// SyncOnce discovers directories and brings each one up to date: it
// finishes any load and applies every pending event. Tests and the CLI use
// it; Run does the same continuously.
func (s *Syncer) SyncOnce(ctx context.Context) error {
	s.init()
	if err := s.Discover(ctx); err != nil {
		return err
	}
	states, err := s.DB.SyncStates(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, st := range states {
		if st.Phase == db.PhaseDeleted {
			continue
		}
		if err := s.SyncDirectory(ctx, st.DirectoryID); err != nil && !errors.Is(err, errDirectoryGone) {
			errs = append(errs, fmt.Errorf("%s: %w", st.DirectoryID, err))
		}
	}
	return errors.Join(errs...)
}

// Discover lists /directories: a new directory gets a sync state (its event
// position noted first) and a worker; a known one is refreshed; one that
// WorkOS no longer lists is marked deleted.
func (s *Syncer) Discover(ctx context.Context) error {
	s.init()
	var all []dirsync.Directory
	after := ""
	for {
		p, err := s.API.ListDirectories(ctx, dirsync.ListDirectoriesOptions{ListOptions: dirsync.ListOptions{Limit: pageSize, After: after}})
		if err != nil {
			return fmt.Errorf("sync: list directories: %w", err)
		}
		all = append(all, p.Data...)
		if p.After == "" || len(p.Data) == 0 || p.After == after {
			break
		}
		after = p.After
	}
	listed := map[string]bool{}
	for _, d := range all {
		listed[d.ID] = true
		if err := s.noteDirectory(ctx, d); err != nil {
			return err
		}
		s.ensureWorker(d.ID)
	}
	known, err := s.DB.ReplicaDirectories(ctx)
	if err != nil {
		return err
	}
	for _, d := range known {
		if d.DeletedAt.IsZero() && !listed[d.ID] {
			if err := s.markDeleted(ctx, d.ID, "no longer listed by WorkOS"); err != nil {
				return err
			}
		}
	}
	return nil
}

// noteDirectory stores a listed directory and, unless its worker is busy
// with it (a long load holds the lock; discovery must not wait for it),
// creates or refreshes its sync state.
func (s *Syncer) noteDirectory(ctx context.Context, d dirsync.Directory) error {
	l := s.lock(d.ID)
	locked := l.TryLock()
	if locked {
		defer l.Unlock()
	}
	now := s.now()
	return s.DB.Tx(ctx, func(tx db.Tx) error {
		w := s.DB.Replica(ctx, tx)
		if err := w.UpsertDirectory(directoryRow(d)); err != nil {
			return err
		}
		if !locked {
			return nil
		}
		st, err := w.SyncState(d.ID)
		switch {
		case errors.Is(err, db.ErrNotFound):
			// A new directory: note the event position before listing anything.
			st = db.SyncState{DirectoryID: d.ID, Phase: db.PhaseGroups, Mode: db.ModeBackfill, Generation: 1,
				EventsSince: now.Add(-eventsSkew), LoadStartedAt: now}
			if err := db.InsertAudit(ctx, tx, db.AuditEntry{At: now, Actor: "sync", OrganizationID: d.OrganizationID,
				Action: "directory.connected", Target: d.ID, Detail: d.Name + " (" + d.Type + ")"}); err != nil {
				return err
			}
		case err != nil:
			return err
		case st.Phase == db.PhaseDeleted:
			// Listed again: load it afresh.
			startLoad(&st, db.ModeReconcile, now, true)
		}
		st.OrganizationID = d.OrganizationID
		if d.Metadata != nil {
			st.UsersTotal = int64(d.Metadata.Users.Active + d.Metadata.Users.Inactive)
			st.GroupsTotal = int64(d.Metadata.Groups)
		}
		return w.PutSyncState(st)
	})
}

// startLoad turns st into the first page of a new load. freshCursor notes a
// new event position (now) instead of keeping the current cursor.
func startLoad(st *db.SyncState, mode string, now time.Time, freshCursor bool) {
	st.Phase, st.Mode = db.PhaseGroups, mode
	st.Generation++
	st.PageCursor, st.GroupCursor = "", ""
	st.LoadStartedAt, st.LoadFinishedAt = now, time.Time{}
	st.UsersDone, st.GroupsDone, st.MembershipsDone, st.Changes = 0, 0, 0, 0
	if freshCursor {
		st.EventsCursor, st.EventsSince = "", now.Add(-eventsSkew)
	}
}

func (s *Syncer) markDeleted(ctx context.Context, dirID, why string) error {
	l := s.lock(dirID)
	if !l.TryLock() {
		return nil // its worker is busy with it; the next discovery retries
	}
	defer l.Unlock()
	return s.DB.Tx(ctx, func(tx db.Tx) error {
		w := s.DB.Replica(ctx, tx)
		st, err := w.SyncState(dirID)
		if err != nil && !errors.Is(err, db.ErrNotFound) {
			return err
		}
		return s.deleteDirectory(ctx, w, &st, dirID, why)
	})
}

func (s *Syncer) deleteDirectory(ctx context.Context, w *db.ReplicaWriter, st *db.SyncState, dirID, why string) error {
	changed, err := w.MarkDirectoryDeleted(dirID)
	if err != nil {
		return err
	}
	st.DirectoryID = dirID
	st.Phase = db.PhaseDeleted
	if err := w.PutSyncState(*st); err != nil {
		return err
	}
	if !changed {
		return nil
	}
	return db.InsertAudit(ctx, w.Tx(), db.AuditEntry{At: s.now(), Actor: "sync", OrganizationID: st.OrganizationID,
		Action: "sync.directory_deleted", Target: dirID, Detail: why})
}

// SyncDirectory brings one directory up to date: it continues a load if one
// is under way (or due: retention, schedule), then applies every pending
// event. It returns errDirectoryGone once the directory is deleted.
func (s *Syncer) SyncDirectory(ctx context.Context, dirID string) error {
	s.init()
	l := s.lock(dirID)
	l.Lock()
	defer l.Unlock()
	st, err := s.DB.SyncState(ctx, dirID)
	if err != nil {
		return err
	}
	if st.Phase == db.PhaseDeleted {
		return errDirectoryGone
	}
	if st.Phase == db.PhaseLive {
		if mode, fresh, due := s.loadDue(st); due {
			if err := s.begin(ctx, &st, mode, fresh); err != nil {
				return err
			}
		}
	}
	return s.catchUp(ctx, &st)
}

// Reconcile re-lists a directory and fixes every difference with the
// replica, recording each one in the audit log (actor "sync"), then applies
// the events since. It returns how many differences it fixed.
func (s *Syncer) Reconcile(ctx context.Context, dirID string) (int64, error) {
	s.init()
	l := s.lock(dirID)
	l.Lock()
	defer l.Unlock()
	st, err := s.DB.SyncState(ctx, dirID)
	if err != nil {
		return 0, err
	}
	if st.Phase == db.PhaseDeleted {
		return 0, errDirectoryGone
	}
	if !st.Loading() { // a load under way lists everything anyway
		_, fresh, _ := s.loadDue(st)
		if err := s.begin(ctx, &st, db.ModeReconcile, fresh); err != nil {
			return 0, err
		}
	}
	if err := s.catchUp(ctx, &st); err != nil {
		return st.Changes, err
	}
	return st.Changes, nil
}

// loadDue says whether a live directory needs a reconcile: its cursor is
// older than the events retention (events were lost: note a fresh position)
// or the scheduled reconcile is due.
func (s *Syncer) loadDue(st db.SyncState) (mode string, freshCursor, due bool) {
	now := s.now()
	// A day of margin: WorkOS must still hold the event after our cursor.
	if !st.LastSuccessAt.IsZero() && now.Sub(st.LastSuccessAt) > s.Retention-24*time.Hour {
		return db.ModeReconcile, true, true
	}
	if st.EventsCursor == "" && !st.EventsSince.IsZero() && now.Sub(st.EventsSince) > s.Retention-24*time.Hour {
		return db.ModeReconcile, true, true
	}
	if s.ReconcileInterval > 0 {
		last := st.LastReconcileAt
		if st.LoadFinishedAt.After(last) {
			last = st.LoadFinishedAt
		}
		if !last.IsZero() && now.Sub(last) >= s.ReconcileInterval {
			return db.ModeReconcile, false, true
		}
	}
	return "", false, false
}

func (s *Syncer) begin(ctx context.Context, st *db.SyncState, mode string, fresh bool) error {
	startLoad(st, mode, s.now(), fresh)
	return s.DB.Tx(ctx, func(tx db.Tx) error {
		w := s.DB.Replica(ctx, tx)
		if err := w.PutSyncState(*st); err != nil {
			return err
		}
		if mode != db.ModeReconcile {
			return nil
		}
		return db.InsertAudit(ctx, tx, db.AuditEntry{At: s.now(), Actor: "sync", OrganizationID: st.OrganizationID,
			Action: "sync.reconcile_started", Target: st.DirectoryID})
	})
}

// catchUp runs the load to its end if one is under way, then polls events
// until WorkOS has no more. Called with the directory's lock held.
func (s *Syncer) catchUp(ctx context.Context, st *db.SyncState) error {
	loaded := false
	for st.Loading() {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := s.loadStep(ctx, st); err != nil {
			return s.fail(ctx, st, err)
		}
		loaded = true
	}
	if loaded {
		// The load's WAL is copied now rather than while admins browse.
		if err := s.DB.Checkpoint(ctx); err != nil {
			s.Log.Warn("sync: checkpoint after the load", "directory", st.DirectoryID, "err", err)
		}
	}
	if st.Phase == db.PhaseLive {
		if err := s.pollEvents(ctx, st); err != nil {
			return s.fail(ctx, st, err)
		}
	}
	if st.Phase == db.PhaseDeleted {
		return errDirectoryGone
	}
	return nil
}
