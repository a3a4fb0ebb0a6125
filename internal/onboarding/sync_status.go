package onboarding

import (
	"context"
	"errors"
	"time"

	"roster/internal/db"
)

// DirectorySync is what the sync page shows about one directory.
type DirectorySync struct {
	DirectoryID    string
	Name           string
	OrganizationID string
	DirectoryType  string // WorkOS's provider type, e.g. "okta scim v2.0"
	DirectoryState string // WorkOS's: linked, unlinked, …
	Deleted        bool

	Phase   string // groups | users | memberships | finish | live | deleted
	Mode    string // backfill | reconcile
	Loading bool

	LastPollAt    time.Time
	LastSuccessAt time.Time
	Lag           time.Duration // how far behind WorkOS's events the replica is
	Cursor        string        // id of the last event read

	Applied, Duplicate, Stale, Failed int64

	LastError    string // plain words
	LastErrorAt  time.Time
	ErrorCurrent bool // the last error is newer than the last success

	Users, Groups, Memberships int64 // live rows in the replica

	UsersDone, UsersTotal, GroupsDone, GroupsTotal, MembershipsDone int64
	Progress                                                        float64       // 0..1 (1 when live)
	ETA                                                             time.Duration // 0 when unknown
	LoadStartedAt, LoadFinishedAt, LastReconcileAt                  time.Time
	Changes                                                         int64 // differences fixed by the last reconcile
}

// Statuses returns the sync status of every directory the actor may see.
func (s *Syncer) Statuses(ctx context.Context, a Actor) ([]DirectorySync, error) {
	s.init()
	dirs, err := s.DB.ReplicaDirectories(ctx)
	if err != nil {
		return nil, err
	}
	states, err := s.DB.SyncStates(ctx)
	if err != nil {
		return nil, err
	}
	counts, err := s.DB.ReplicaCounts(ctx)
	if err != nil {
		return nil, err
	}
	byID := map[string]db.SyncState{}
	for _, st := range states {
		byID[st.DirectoryID] = st
	}
	now := s.now()
	var out []DirectorySync
	for _, d := range dirs {
		if !a.CanSee(d.OrganizationID) {
			continue
		}
		st := byID[d.ID]
		out = append(out, status(d, st, counts[d.ID], s.memberGroupsDone(ctx, st), now))
	}
	return out, nil
}

// Status returns one directory's sync status; ErrNotFound when it does not
// exist or the actor may not see it.
func (s *Syncer) Status(ctx context.Context, a Actor, dirID string) (DirectorySync, error) {
	s.init()
	d, err := s.DB.DirectoryByID(ctx, dirID)
	if errors.Is(err, db.ErrNotFound) || (err == nil && !a.CanSee(d.OrganizationID)) {
		return DirectorySync{}, ErrNotFound
	}
	if err != nil {
		return DirectorySync{}, err
	}
	st, err := s.DB.SyncState(ctx, dirID)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return DirectorySync{}, err
	}
	counts, err := s.DB.ReplicaCounts(ctx)
	if err != nil {
		return DirectorySync{}, err
	}
	return status(d, st, counts[dirID], s.memberGroupsDone(ctx, st), s.now()), nil
}

// Authorize checks that the actor may act on a directory (ErrNotFound if not).
func (s *Syncer) Authorize(ctx context.Context, a Actor, dirID string) error {
	d, err := s.DB.DirectoryByID(ctx, dirID)
	if errors.Is(err, db.ErrNotFound) || (err == nil && !a.CanSee(d.OrganizationID)) {
		return ErrNotFound
	}
	return err
}

// memberGroupsDone is how many groups the memberships phase has finished
// (0 outside that phase, or when it cannot be counted).
func (s *Syncer) memberGroupsDone(ctx context.Context, st db.SyncState) int64 {
	if st.Phase != db.PhaseMemberships || st.GroupCursor == "" {
		return 0
	}
	n, err := s.DB.GroupsBefore(ctx, st.DirectoryID, st.GroupCursor)
	if err != nil {
		return 0
	}
	return n
}

func status(d db.Directory, st db.SyncState, c db.ReplicaCount, memberGroups int64, now time.Time) DirectorySync {
	out := DirectorySync{
		DirectoryID: d.ID, Name: d.Name, OrganizationID: d.OrganizationID, DirectoryType: d.Type, DirectoryState: d.State,
		Deleted: !d.DeletedAt.IsZero() || st.Phase == db.PhaseDeleted,
		Phase:   st.Phase, Mode: st.Mode, Loading: st.Loading(),
		LastPollAt: st.LastPollAt, LastSuccessAt: st.LastSuccessAt, Lag: lag(st, now), Cursor: st.EventsCursor,
		Applied: st.EventsApplied, Duplicate: st.EventsDuplicate, Stale: st.EventsStale, Failed: st.EventsFailed,
		LastError: st.LastError, LastErrorAt: st.LastErrorAt,
		ErrorCurrent: st.LastError != "" && !st.LastErrorAt.Before(st.LastSuccessAt),
		Users:        c.Users, Groups: c.Groups, Memberships: c.Memberships,
		UsersDone: st.UsersDone, UsersTotal: st.UsersTotal, GroupsDone: st.GroupsDone, GroupsTotal: st.GroupsTotal,
		MembershipsDone: st.MembershipsDone, Progress: progress(st, memberGroups),
		LoadStartedAt: st.LoadStartedAt, LoadFinishedAt: st.LoadFinishedAt, LastReconcileAt: st.LastReconcileAt,
		Changes: st.Changes,
	}
	if out.Loading && out.Progress > 0.01 && !st.LoadStartedAt.IsZero() {
		elapsed := now.Sub(st.LoadStartedAt)
		out.ETA = time.Duration(float64(elapsed) * (1 - out.Progress) / out.Progress).Round(time.Second)
	}
	return out
}

// lag is how far behind WorkOS the replica is: zero-ish right after a poll
// that reached the end of the stream, else the age of the last event read.
func lag(st db.SyncState, now time.Time) time.Duration {
	var since time.Time
	switch {
	case !st.CaughtUpAt.IsZero() && !st.CaughtUpAt.Before(st.LastPollAt):
		since = st.CaughtUpAt
	case !st.LastEventAt.IsZero():
		since = st.LastEventAt
	case !st.EventsSince.IsZero():
		since = st.EventsSince
	default:
		return 0
	}
	return max(now.Sub(since), 0)
}

// progress estimates how much of the current load is done: groups count for
// a tenth, users for six tenths, memberships (one listing per group, of
// which memberGroups are finished) for the rest.
func progress(st db.SyncState, memberGroups int64) float64 {
	switch st.Phase {
	case db.PhaseLive, db.PhaseDeleted, "":
		return 1
	case db.PhaseFinish:
		return 0.99
	}
	frac := func(done, total int64) float64 {
		if total <= 0 {
			return 0
		}
		return min(float64(done)/float64(total), 1)
	}
	p := 0.0
	switch st.Phase {
	case db.PhaseGroups:
		p = 0.1 * frac(st.GroupsDone, st.GroupsTotal)
	case db.PhaseUsers:
		p = 0.1 + 0.6*frac(st.UsersDone, st.UsersTotal)
	case db.PhaseMemberships:
		p = 0.7 + 0.29*frac(memberGroups, max(st.GroupsTotal, st.GroupsDone))
	}
	return p
}
