package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Load phases of sync_state.phase, in order. A load (the first backfill or a
// reconcile) walks groups → users → memberships → finish; then the directory
// is live and its events are applied as they come.
const (
	PhaseGroups      = "groups"
	PhaseUsers       = "users"
	PhaseMemberships = "memberships"
	PhaseFinish      = "finish"
	PhaseLive        = "live"
	PhaseDeleted     = "deleted"
)

// Load modes of sync_state.mode.
const (
	ModeBackfill  = "backfill"
	ModeReconcile = "reconcile"
)

// SyncState is where one directory's sync stands.
type SyncState struct {
	DirectoryID     string
	OrganizationID  string
	Phase           string
	Mode            string
	Generation      int64
	PageCursor      string // `after` of the next page of the current phase
	GroupCursor     string // memberships phase: the group being listed
	LoadStartedAt   time.Time
	LoadFinishedAt  time.Time
	UsersDone       int64
	UsersTotal      int64 // 0: unknown
	GroupsDone      int64
	GroupsTotal     int64
	MembershipsDone int64
	Changes         int64 // differences fixed by the current or last reconcile
	SearchIndexed   bool  // read-only here: set by BuildSearchIndex
	EventsCursor    string
	EventsSince     time.Time // range_start while EventsCursor is ""
	LastEventAt     time.Time
	LastPollAt      time.Time
	LastSuccessAt   time.Time
	CaughtUpAt      time.Time // last poll that reached the end of the event stream
	LastError       string
	LastErrorKind   string
	LastErrorAt     time.Time
	EventsApplied   int64
	EventsDuplicate int64
	EventsStale     int64
	EventsFailed    int64
	LastReconcileAt time.Time
	UpdatedAt       time.Time
}

// Loading reports whether a load (backfill or reconcile) is under way.
func (s SyncState) Loading() bool {
	switch s.Phase {
	case PhaseGroups, PhaseUsers, PhaseMemberships, PhaseFinish:
		return true
	}
	return false
}

const syncCols = `directory_id, organization_id, phase, mode, generation, page_cursor, group_cursor,
	COALESCE(load_started_at, ''), COALESCE(load_finished_at, ''), users_done, users_total, groups_done, groups_total,
	memberships_done, changes, search_indexed, events_cursor, events_since, COALESCE(last_event_at, ''),
	COALESCE(last_poll_at, ''), COALESCE(last_success_at, ''), COALESCE(caught_up_at, ''), last_error, last_error_kind, COALESCE(last_error_at, ''),
	events_applied, events_duplicate, events_stale, events_failed, COALESCE(last_reconcile_at, ''), updated_at`

func scanSyncState(row interface{ Scan(...any) error }) (SyncState, error) {
	var s SyncState
	var started, finished, since, lastEvent, poll, success, caught, errAt, reconciled, updated string
	err := row.Scan(&s.DirectoryID, &s.OrganizationID, &s.Phase, &s.Mode, &s.Generation, &s.PageCursor, &s.GroupCursor,
		&started, &finished, &s.UsersDone, &s.UsersTotal, &s.GroupsDone, &s.GroupsTotal,
		&s.MembershipsDone, &s.Changes, &s.SearchIndexed, &s.EventsCursor, &since, &lastEvent,
		&poll, &success, &caught, &s.LastError, &s.LastErrorKind, &errAt,
		&s.EventsApplied, &s.EventsDuplicate, &s.EventsStale, &s.EventsFailed, &reconciled, &updated)
	if err != nil {
		return SyncState{}, err
	}
	s.LoadStartedAt, s.LoadFinishedAt, s.EventsSince = parseTS(started), parseTS(finished), parseTS(since)
	s.LastEventAt, s.LastPollAt, s.LastSuccessAt = parseTS(lastEvent), parseTS(poll), parseTS(success)
	s.LastErrorAt, s.LastReconcileAt, s.UpdatedAt = parseTS(errAt), parseTS(reconciled), parseTS(updated)
	s.CaughtUpAt = parseTS(caught)
	return s, nil
}

// SyncState reads one directory's sync state from the readers.
func (d *DB) SyncState(ctx context.Context, directoryID string) (SyncState, error) {
	s, err := scanSyncState(d.r.QueryRowContext(ctx, `SELECT `+syncCols+` FROM sync_state WHERE directory_id = ?`, directoryID))
	if errors.Is(err, sql.ErrNoRows) {
		return SyncState{}, ErrNotFound
	}
	if err != nil {
		return SyncState{}, fmt.Errorf("db: read sync state %s: %w", directoryID, err)
	}
	return s, nil
}

// SyncStates reads every directory's sync state.
func (d *DB) SyncStates(ctx context.Context) ([]SyncState, error) {
	return queryAll(ctx, d.r, "sync states", `SELECT `+syncCols+` FROM sync_state ORDER BY directory_id`, nil, scanSyncState)
}

// SyncState reads one directory's sync state inside the writer's
// transaction (ErrNotFound if there is none yet).
func (w *ReplicaWriter) SyncState(directoryID string) (SyncState, error) {
	st, err := scanSyncState(w.tx.QueryRowContext(w.ctx, `SELECT `+syncCols+` FROM sync_state WHERE directory_id = ?`, directoryID))
	if errors.Is(err, sql.ErrNoRows) {
		return SyncState{}, ErrNotFound
	}
	if err != nil {
		return SyncState{}, fmt.Errorf("db: read sync state %s: %w", directoryID, err)
	}
	return st, nil
}

// PutSyncState writes a directory's whole sync state (all but
// search_indexed, which only BuildSearchIndex sets).
func (w *ReplicaWriter) PutSyncState(s SyncState) error {
	_, err := w.exec(`INSERT INTO sync_state (directory_id, organization_id, phase, mode, generation, page_cursor,
			group_cursor, load_started_at, load_finished_at, users_done, users_total, groups_done, groups_total,
			memberships_done, changes, events_cursor, events_since, last_event_at, last_poll_at, last_success_at,
			caught_up_at, last_error, last_error_kind, last_error_at, events_applied, events_duplicate, events_stale, events_failed,
			last_reconcile_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(directory_id) DO UPDATE SET organization_id = excluded.organization_id, phase = excluded.phase,
			mode = excluded.mode, generation = excluded.generation, page_cursor = excluded.page_cursor,
			group_cursor = excluded.group_cursor, load_started_at = excluded.load_started_at,
			load_finished_at = excluded.load_finished_at, users_done = excluded.users_done,
			users_total = excluded.users_total, groups_done = excluded.groups_done, groups_total = excluded.groups_total,
			memberships_done = excluded.memberships_done, changes = excluded.changes,
			events_cursor = excluded.events_cursor, events_since = excluded.events_since,
			last_event_at = excluded.last_event_at, last_poll_at = excluded.last_poll_at,
			last_success_at = excluded.last_success_at, caught_up_at = excluded.caught_up_at, last_error = excluded.last_error,
			last_error_kind = excluded.last_error_kind, last_error_at = excluded.last_error_at,
			events_applied = excluded.events_applied, events_duplicate = excluded.events_duplicate,
			events_stale = excluded.events_stale, events_failed = excluded.events_failed,
			last_reconcile_at = excluded.last_reconcile_at, updated_at = excluded.updated_at`,
		s.DirectoryID, s.OrganizationID, s.Phase, s.Mode, s.Generation, s.PageCursor, s.GroupCursor,
		tsOrNull(s.LoadStartedAt), tsOrNull(s.LoadFinishedAt), s.UsersDone, s.UsersTotal, s.GroupsDone, s.GroupsTotal,
		s.MembershipsDone, s.Changes, s.EventsCursor, tsOrEmpty(s.EventsSince), tsOrNull(s.LastEventAt),
		tsOrNull(s.LastPollAt), tsOrNull(s.LastSuccessAt), tsOrNull(s.CaughtUpAt), s.LastError, s.LastErrorKind, tsOrNull(s.LastErrorAt),
		s.EventsApplied, s.EventsDuplicate, s.EventsStale, s.EventsFailed, tsOrNull(s.LastReconcileAt), w.now)
	if err != nil {
		return fmt.Errorf("db: write sync state %s: %w", s.DirectoryID, err)
	}
	return nil
}

// NextMembershipGroup returns the first live group of a directory, listed in
// load generation gen, whose id sorts after `after` ("" when none is left):
// the memberships phase walks groups in id order so that it can resume.
func (w *ReplicaWriter) NextMembershipGroup(directoryID, after string, gen int64) (string, error) {
	var id string
	err := w.tx.QueryRowContext(w.ctx, `SELECT id FROM directory_groups WHERE directory_id = ? AND id > ? AND deleted_at IS NULL
		AND seen_gen >= ? ORDER BY id LIMIT 1`, directoryID, after, gen).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("db: next group: %w", err)
	}
	return id, nil
}

// CountGroups returns the number of live groups of a directory.
func (w *ReplicaWriter) CountGroups(directoryID string) (int64, error) {
	var n int64
	err := w.tx.QueryRowContext(w.ctx, `SELECT count(*) FROM directory_groups WHERE directory_id = ? AND deleted_at IS NULL`, directoryID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("db: count groups: %w", err)
	}
	return n, nil
}

// GroupsBefore counts a directory's live groups whose id sorts before id:
// during the memberships phase, the groups whose members are all listed.
func (d *DB) GroupsBefore(ctx context.Context, directoryID, id string) (int64, error) {
	var n int64
	err := d.r.QueryRowContext(ctx, `SELECT count(*) FROM directory_groups
		WHERE directory_id = ? AND id < ? AND deleted_at IS NULL`, directoryID, id).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("db: count groups: %w", err)
	}
	return n, nil
}
