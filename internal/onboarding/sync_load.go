package onboarding

import (
	"context"
	"errors"
	"fmt"

	"roster/internal/db"
	"roster/internal/dirsync"
)

// loadStep advances the current load phase: the groups and users phases run
// to their end (loadPaged), the memberships phase lists and stores one page,
// the finish phase ends the load. Every transaction stores its pages with
// the new position. Called with the directory's lock held.
func (s *Syncer) loadStep(ctx context.Context, st *db.SyncState) error {
	dirID := st.DirectoryID // the listing goroutine must not read st, which commits rewrite
	switch st.Phase {
	case db.PhaseGroups:
		list := func(ctx context.Context, after string) (dirsync.Page[dirsync.Group], error) {
			return s.API.ListGroups(ctx, dirsync.ListGroupsOptions{ListOptions: dirsync.ListOptions{Limit: pageSize, After: after}, Directory: dirID})
		}
		return loadPaged(ctx, s, st, list, func(w *db.ReplicaWriter, next *db.SyncState, p dirsync.Page[dirsync.Group]) ([]db.Change, error) {
			var changes []db.Change
			for _, g := range p.Data {
				row := groupRow(g)
				if next.Mode == db.ModeReconcile {
					c, err := w.ListGroupDiff(row, next.Generation)
					if err != nil {
						return nil, err
					}
					if c != nil {
						changes = append(changes, *c)
					}
				} else if err := w.ListGroup(row, next.Generation); err != nil {
					return nil, err
				}
			}
			next.GroupsDone += int64(len(p.Data))
			next.PageCursor = p.After
			if p.After == "" || len(p.Data) == 0 {
				next.Phase, next.PageCursor = db.PhaseUsers, ""
				if next.GroupsTotal < next.GroupsDone {
					next.GroupsTotal = next.GroupsDone
				}
			}
			return changes, nil
		})

	case db.PhaseUsers:
		list := func(ctx context.Context, after string) (dirsync.Page[dirsync.User], error) {
			return s.API.ListUsers(ctx, dirsync.ListUsersOptions{ListOptions: dirsync.ListOptions{Limit: pageSize, After: after}, Directory: dirID})
		}
		return loadPaged(ctx, s, st, list, func(w *db.ReplicaWriter, next *db.SyncState, p dirsync.Page[dirsync.User]) ([]db.Change, error) {
			var changes []db.Change
			if next.Mode != db.ModeReconcile && next.UsersDone == 0 {
				// The first load into an empty replica builds the people
				// list's index after its users instead of with each one.
				if _, err := w.DeferIndexes(db.PeopleIndexes); err != nil {
					return nil, err
				}
			}
			for _, u := range p.Data {
				row := userRow(u)
				if next.Mode == db.ModeReconcile {
					c, err := w.ListUserDiff(row, next.Generation)
					if err != nil {
						return nil, err
					}
					if c != nil {
						changes = append(changes, *c)
					}
				} else if err := w.ListNewUser(row, next.Generation); err != nil {
					return nil, err
				}
			}
			next.UsersDone += int64(len(p.Data))
			next.PageCursor = p.After
			if p.After == "" || len(p.Data) == 0 {
				next.Phase, next.PageCursor = db.PhaseMemberships, ""
				if next.UsersTotal < next.UsersDone {
					next.UsersTotal = next.UsersDone
				}
				if err := w.EnsureIndexes(db.PeopleIndexes); err != nil {
					return nil, err
				}
				g, err := w.NextMembershipGroup(next.DirectoryID, "", next.Generation)
				if err != nil {
					return nil, err
				}
				next.GroupCursor = g
				if g == "" {
					next.Phase = db.PhaseFinish
				}
			}
			return changes, nil
		})

	case db.PhaseMemberships:
		list := dirsync.ListOptions{Limit: pageSize, After: st.PageCursor}
		p, err := s.API.ListUsers(ctx, dirsync.ListUsersOptions{ListOptions: list, Group: st.GroupCursor})
		if errors.Is(err, dirsync.ErrNotFound) {
			// The group was deleted meanwhile; its events will say so.
			p, err = dirsync.Page[dirsync.User]{}, nil
		}
		if err != nil {
			return err
		}
		return s.commitLoad(ctx, st, func(w *db.ReplicaWriter, next *db.SyncState) ([]db.Change, error) {
			var changes []db.Change
			if next.Mode != db.ModeReconcile && next.MembershipsDone == 0 {
				// Likewise the membership indexes, built in the finish phase.
				if _, err := w.DeferIndexes(db.MembershipIndexes); err != nil {
					return nil, err
				}
			}
			for _, u := range p.Data {
				m := db.Membership{DirectoryID: next.DirectoryID, GroupID: next.GroupCursor, UserID: u.ID,
					UserSortKey: db.UserSortKey(u.FirstName, u.LastName, u.Name, u.PrimaryEmail())}
				if next.Mode != db.ModeReconcile {
					if err := w.StoreMembership(m, next.Generation); err != nil {
						return nil, err
					}
					continue
				}
				added, err := w.ListMembership(m, next.Generation)
				if err != nil {
					return nil, err
				}
				if added {
					changes = append(changes, db.Change{Kind: "membership", Op: "added", ID: m.GroupID + "/" + m.UserID})
				}
			}
			next.MembershipsDone += int64(len(p.Data))
			next.PageCursor = p.After
			if p.After == "" || len(p.Data) == 0 {
				g, err := w.NextMembershipGroup(next.DirectoryID, next.GroupCursor, next.Generation)
				if err != nil {
					return nil, err
				}
				next.GroupCursor, next.PageCursor = g, ""
				if g == "" {
					next.Phase = db.PhaseFinish
				}
			}
			return changes, nil
		})

	case db.PhaseFinish:
		return s.commitLoad(ctx, st, func(w *db.ReplicaWriter, next *db.SyncState) ([]db.Change, error) {
			if err := w.EnsureIndexes(db.MembershipIndexes); err != nil {
				return nil, err
			}
			changes, err := w.Sweep(next.DirectoryID, next.Generation)
			if err != nil {
				return nil, err
			}
			if err := w.BuildSearchIndex(next.DirectoryID); err != nil {
				return nil, err
			}
			next.SearchIndexed = true
			now := s.now()
			next.Phase, next.LoadFinishedAt = db.PhaseLive, now
			if next.Mode == db.ModeReconcile {
				next.LastReconcileAt = now
				if err := db.InsertAudit(ctx, w.Tx(), db.AuditEntry{At: now, Actor: "sync",
					OrganizationID: next.OrganizationID, Action: "sync.reconcile_finished", Target: next.DirectoryID,
					Detail: fmt.Sprintf("%d differences fixed", next.Changes+int64(len(changes)))}); err != nil {
					return nil, err
				}
			}
			return changes, nil
		})
	}
	return fmt.Errorf("sync: directory %s: unknown phase %q", st.DirectoryID, st.Phase)
}

// loadBatch is the most pages loadPaged stores in one transaction.
const loadBatch = 10

// loadPaged runs a listing phase (groups or users) from st's cursor to its
// end. A goroutine lists and decodes the next page while the writer stores
// those already read: every page that has arrived (up to loadBatch) goes
// into one transaction with the new position, so a crash still resumes
// after the last page committed, and the commits, which cost more than the
// rows in them, are shared. apply stores one page and moves next on; the
// phase is over once it changes next.Phase. A listing error is returned
// after the pages read before it are stored.
func loadPaged[T any](ctx context.Context, s *Syncer, st *db.SyncState,
	list func(ctx context.Context, after string) (dirsync.Page[T], error),
	apply func(w *db.ReplicaWriter, next *db.SyncState, p dirsync.Page[T]) ([]db.Change, error)) error {
	type result struct {
		page dirsync.Page[T]
		err  error
	}
	listCtx, cancel := context.WithCancel(ctx)
	pages := make(chan result, loadBatch)
	done := make(chan struct{})
	defer func() {
		cancel()
		<-done
	}()
	after := st.PageCursor
	go func() {
		defer close(done)
		defer close(pages)
		for {
			p, err := list(listCtx, after)
			select {
			case pages <- result{p, err}:
			case <-listCtx.Done():
				return
			}
			if err != nil || p.After == "" || len(p.Data) == 0 {
				return
			}
			after = p.After
		}
	}()
	phase := st.Phase
	for st.Phase == phase {
		r, ok := <-pages
		if !ok {
			if err := ctx.Err(); err != nil {
				return err
			}
			return fmt.Errorf("sync: directory %s: the %s listing ended early", st.DirectoryID, phase)
		}
		batch := []dirsync.Page[T]{}
		var listErr error
	gather:
		for {
			if r.err != nil {
				listErr = r.err
				break
			}
			batch = append(batch, r.page)
			if len(batch) == loadBatch {
				break
			}
			select {
			case r, ok = <-pages:
				if !ok {
					break gather
				}
			default:
				break gather
			}
		}
		if len(batch) > 0 {
			err := s.commitLoad(ctx, st, func(w *db.ReplicaWriter, next *db.SyncState) ([]db.Change, error) {
				var changes []db.Change
				for _, p := range batch {
					c, err := apply(w, next, p)
					if err != nil {
						return nil, err
					}
					changes = append(changes, c...)
					if next.Phase != phase {
						break
					}
				}
				return changes, nil
			})
			if err != nil {
				return err
			}
		}
		if listErr != nil {
			return listErr
		}
	}
	return nil
}

// commitLoad runs fn on a copy of st in one transaction with the state and,
// when reconciling, one audit entry per difference; st takes the new value
// only once committed.
func (s *Syncer) commitLoad(ctx context.Context, st *db.SyncState, fn func(w *db.ReplicaWriter, next *db.SyncState) ([]db.Change, error)) error {
	next := *st
	err := s.DB.Tx(ctx, func(tx db.Tx) error {
		w := s.DB.Replica(ctx, tx)
		changes, err := fn(w, &next)
		if err != nil {
			return err
		}
		if next.Mode == db.ModeReconcile {
			at := s.now()
			for _, c := range changes {
				if err := db.InsertAudit(ctx, tx, db.AuditEntry{At: at, Actor: "sync", OrganizationID: next.OrganizationID,
					Action: "sync.reconcile." + c.Kind + "_" + c.Op, Target: c.ID, Detail: c.Detail}); err != nil {
					return err
				}
			}
			next.Changes += int64(len(changes))
		}
		if s.OnChanges != nil && len(changes) > 0 {
			if err := s.OnChanges(ctx, tx, next.DirectoryID, changes); err != nil {
				return err
			}
		}
		next.LastSuccessAt = laterThan(next.LastErrorAt, s.now())
		return w.PutSyncState(next)
	})
	if err != nil {
		return dbError{err}
	}
	*st = next
	return nil
}

// dbError marks a failure of Roster's own database (as opposed to WorkOS's).
type dbError struct{ err error }

func (e dbError) Error() string { return e.err.Error() }
func (e dbError) Unwrap() error { return e.err }
