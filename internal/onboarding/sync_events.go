package onboarding

import (
	"context"
	"errors"

	"roster/internal/db"
	"roster/internal/dirsync"
)

// pageTally counts the outcomes of one page of events for the metrics.
type pageTally struct{ applied, duplicate, stale, failed int }

// eventPage is one page of a directory's events, each decoded (or with the
// reason it could not be).
type eventPage struct {
	events  []dirsync.Event
	decoded []any
	derrs   []error
}

// fetchEvents lists and decodes the page of events o asks for.
func (s *Syncer) fetchEvents(ctx context.Context, o dirsync.ListEventsOptions) (eventPage, error) {
	p, err := s.API.ListEvents(ctx, o)
	if err != nil {
		return eventPage{}, err
	}
	page := eventPage{events: p.Data, decoded: make([]any, len(p.Data)), derrs: make([]error, len(p.Data))}
	for i, ev := range p.Data {
		page.decoded[i], page.derrs[i] = ev.Decode()
	}
	return page, nil
}

// pollEvents applies the directory's events after its cursor, a page per
// transaction, until it reaches the end of the stream. While a page is
// written, the next one is listed and decoded (from the last event of the
// page being written, the cursor it saves): the writer never waits for the
// API when more events are waiting. A page that fails leaves the cursor
// before it; the page fetched ahead of it is dropped.
func (s *Syncer) pollEvents(ctx context.Context, st *db.SyncState) error {
	type fetched struct {
		page eventPage
		err  error
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	fetch := func(after string) <-chan fetched {
		o := dirsync.ListEventsOptions{Events: dirsync.DsyncEventTypes, Limit: pageSize, OrganizationID: st.OrganizationID}
		if after != "" {
			o.After = after
		} else {
			o.RangeStart = st.EventsSince
		}
		ch := make(chan fetched, 1)
		go func() {
			p, err := s.fetchEvents(ctx, o)
			ch <- fetched{p, err}
		}()
		return ch
	}
	next := fetch(st.EventsCursor)
	for {
		f := <-next
		if f.err != nil {
			return f.err
		}
		more := len(f.page.events) >= pageSize
		if more {
			next = fetch(f.page.events[len(f.page.events)-1].ID)
		}
		more, err := s.applyPage(ctx, st, f.page, more)
		if err != nil || !more {
			return err
		}
	}
}

// applyPage applies one page of events, saving the cursor and counters in
// the same transaction. It reports whether more events may be waiting.
func (s *Syncer) applyPage(ctx context.Context, st *db.SyncState, p eventPage, more bool) (bool, error) {
	next := *st
	var tally pageTally
	err := s.DB.Tx(ctx, func(tx db.Tx) error {
		next, tally = *st, pageTally{}
		w := s.DB.Replica(ctx, tx)
		// The statements of the page (the replica's and the account hook's)
		// run without ctx's cancellation, which go-sqlite3 watches with extra
		// work per statement; cancelling ctx still rolls the page back.
		ctx := context.WithoutCancel(ctx)
		for i, ev := range p.events {
			if err := s.applyEvent(ctx, w, &next, ev, p.decoded[i], p.derrs[i], &tally); err != nil {
				return err
			}
			next.EventsCursor = ev.ID
			if next.Phase == db.PhaseDeleted {
				more = false
				break // nothing after the directory's deletion concerns it
			}
		}
		now := s.now()
		next.LastPollAt, next.LastSuccessAt = now, laterThan(next.LastErrorAt, now)
		if !more {
			next.CaughtUpAt = now
		}
		return w.PutSyncState(next)
	})
	if err != nil {
		return false, dbError{err}
	}
	*st = next
	s.m.applied.Add(float64(tally.applied))
	s.m.skipped.WithLabelValues(db.OutcomeDuplicate).Add(float64(tally.duplicate))
	s.m.skipped.WithLabelValues(db.OutcomeStale).Add(float64(tally.stale))
	s.m.skipped.WithLabelValues(db.OutcomeFailed).Add(float64(tally.failed))
	return more, nil
}

// ApplyEvents applies events to a live directory's replica in one
// transaction, as a poll does, without moving the cursor. Tests and
// benchmarks use it to feed duplicated, reordered or stale events.
func (s *Syncer) ApplyEvents(ctx context.Context, dirID string, events []dirsync.Event) error {
	s.init()
	l := s.lock(dirID)
	l.Lock()
	defer l.Unlock()
	st, err := s.DB.SyncState(ctx, dirID)
	if err != nil {
		return err
	}
	return s.DB.Tx(ctx, func(tx db.Tx) error {
		w := s.DB.Replica(ctx, tx)
		var tally pageTally
		for _, ev := range events {
			decoded, derr := ev.Decode()
			if err := s.applyEvent(ctx, w, &st, ev, decoded, derr, &tally); err != nil {
				return err
			}
		}
		return w.PutSyncState(st)
	})
}

// eventDirectory is the directory an event concerns ("" if unknown).
func eventDirectory(decoded any) string {
	switch v := decoded.(type) {
	case *dirsync.DirectoryEvent:
		return v.ID
	case *dirsync.UserEvent:
		return v.DirectoryID
	case *dirsync.GroupEvent:
		return v.DirectoryID
	case *dirsync.MembershipEvent:
		return v.DirectoryID
	case *dirsync.TokenEvent:
		return v.DirectoryID
	}
	return ""
}

// applyEvent applies one event to the replica unless it was already read
// (duplicate) or describes older data than the replica holds (stale), and
// records it. Events of other directories of the same organisation are
// left to their own directory.
func (s *Syncer) applyEvent(ctx context.Context, w *db.ReplicaWriter, st *db.SyncState, ev dirsync.Event, decoded any, derr error, tally *pageTally) error {
	if derr == nil {
		if d := eventDirectory(decoded); d != "" && d != st.DirectoryID {
			if ev.Event == "dsync.activated" {
				s.requestDiscover()
			}
			return nil
		}
	}
	fresh, err := w.ClaimEvent(ev.ID, st.DirectoryID, ev.Event)
	if err != nil {
		return err
	}
	var outcome string
	switch {
	case !fresh:
		outcome = db.OutcomeDuplicate
	case derr != nil:
		s.Log.Warn("sync: event not understood", "directory", st.DirectoryID, "event", ev.ID, "type", ev.Event, "err", derr)
		outcome = db.OutcomeFailed
	default:
		if outcome, err = s.applyDecoded(ctx, w, st, ev, decoded); err != nil {
			return err
		}
	}
	switch outcome {
	case db.OutcomeDuplicate:
		st.EventsDuplicate++
		tally.duplicate++
	case db.OutcomeStale:
		st.EventsStale++
		tally.stale++
	case db.OutcomeFailed:
		st.EventsFailed++
		tally.failed++
	default:
		st.EventsApplied++
		tally.applied++
	}
	if outcome != db.OutcomeDuplicate {
		if outcome != db.OutcomeApplied {
			if err := w.SetEventOutcome(ev.ID, outcome); err != nil {
				return err
			}
		}
		if ev.CreatedAt.After(st.LastEventAt) {
			st.LastEventAt = ev.CreatedAt
		}
	}
	if s.OnEvent != nil {
		if errors.Is(derr, dirsync.ErrUnknownEvent) {
			decoded = nil
		}
		if err := s.OnEvent(ctx, w.Tx(), ev, decoded, outcome); err != nil {
			return err
		}
	}
	return nil
}

func (s *Syncer) applyDecoded(ctx context.Context, w *db.ReplicaWriter, st *db.SyncState, ev dirsync.Event, decoded any) (string, error) {
	gen := st.Generation
	switch v := decoded.(type) {
	case *dirsync.UserEvent:
		u := userRow(v.User)
		u.LastEventID = ev.ID
		if ev.Event == "dsync.user.deleted" {
			return w.DeleteUser(u, gen)
		}
		return w.ApplyUserEvent(u, gen)
	case *dirsync.GroupEvent:
		g := groupRow(v.Group)
		g.LastEventID = ev.ID
		if ev.Event == "dsync.group.deleted" {
			return w.DeleteGroup(g, gen)
		}
		return w.ApplyGroupEvent(g, gen)
	case *dirsync.MembershipEvent:
		u, g := userRow(v.User), groupRow(v.Group)
		u.LastEventID, g.LastEventID = ev.ID, ev.ID
		m := db.Membership{DirectoryID: st.DirectoryID, GroupID: g.ID, UserID: u.ID,
			UserSortKey: db.UserSortKey(u.FirstName, u.LastName, u.Name, u.Email)}
		if ev.Event == "dsync.group.user_removed" {
			return w.RemoveMembership(m)
		}
		// The event carries both objects: bring them up to date first
		// (only a newer copy changes anything).
		if err := w.RefreshUser(u, gen); err != nil {
			return "", err
		}
		if err := w.RefreshGroup(g, gen); err != nil {
			return "", err
		}
		return w.AddMembership(m, gen)
	case *dirsync.DirectoryEvent:
		if ev.Event == "dsync.deleted" {
			if err := s.deleteDirectory(ctx, w, st, st.DirectoryID, "dsync.deleted event "+ev.ID); err != nil {
				return "", err
			}
			return db.OutcomeApplied, nil
		}
		// dsync.activated: the listing has the full directory.
		s.requestDiscover()
		return db.OutcomeApplied, nil
	case *dirsync.TokenEvent:
		return db.OutcomeApplied, nil // nothing in the replica
	}
	return db.OutcomeFailed, nil
}

func (s *Syncer) requestDiscover() {
	select {
	case s.discover <- struct{}{}:
	default:
	}
}
