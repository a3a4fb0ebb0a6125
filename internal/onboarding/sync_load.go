package onboarding

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"roster/internal/db"
	"roster/internal/dirsync"
)

// loadStep lists one page of the current load phase and stores it, with the
// new position, in one transaction. Called with the directory's lock held.
func (s *Syncer) loadStep(ctx context.Context, st *db.SyncState) error {
	list := dirsync.ListOptions{Limit: pageSize, After: st.PageCursor}
	switch st.Phase {
	case db.PhaseGroups:
		p, err := s.API.ListGroups(ctx, dirsync.ListGroupsOptions{ListOptions: list, Directory: st.DirectoryID})
		if err != nil {
			return err
		}
		return s.commitLoad(ctx, st, func(w *db.ReplicaWriter, next *db.SyncState) ([]db.Change, error) {
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
		p, err := s.API.ListUsers(ctx, dirsync.ListUsersOptions{ListOptions: list, Directory: st.DirectoryID})
		if err != nil {
			return err
		}
		return s.commitLoad(ctx, st, func(w *db.ReplicaWriter, next *db.SyncState) ([]db.Change, error) {
			var changes []db.Change
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
				} else if err := w.ListUser(row, next.Generation); err != nil {
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
			changes, err := w.Sweep(next.DirectoryID, next.Generation)
			if err != nil {
				return nil, err
			}
			if !next.SearchIndexed {
				if err := w.BuildSearchIndex(next.DirectoryID); err != nil {
					return nil, err
				}
				next.SearchIndexed = true
			}
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

// commitLoad runs fn on a copy of st in one transaction with the state and,
// when reconciling, one audit entry per difference; st takes the new value
// only once committed.
func (s *Syncer) commitLoad(ctx context.Context, st *db.SyncState, fn func(w *db.ReplicaWriter, next *db.SyncState) ([]db.Change, error)) error {
	next := *st
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
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
		next.LastSuccessAt = s.now()
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
