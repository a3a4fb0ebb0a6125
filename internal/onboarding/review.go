package onboarding

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"roster/internal/db"
)

// ReviewQueue is one page of the review queue.
type ReviewQueue struct {
	Items      []db.ReviewItem
	Status     string
	Total      int   // items with this status
	Open       int   // open items (the heading's count)
	NextBefore int64 // keyset for the next (older) page, 0 when none
}

// Review item values the web layer needs (it does not import internal/db).
const (
	ReviewOpen          = db.ReviewOpen
	ReviewConflict      = db.ReviewConflict
	ReviewActionDelete  = db.ReviewActionDelete
	ReviewActionSetRole = db.ReviewActionSetRole
)

// ReviewStatuses are the queue's filters.
var ReviewStatuses = []string{db.ReviewOpen, db.ReviewApproved, db.ReviewDismissed}

// ReviewItems lists the review items the actor may see: one page with a status
// (open by default), newest first.
func (s *Service) ReviewItems(ctx context.Context, act Actor, status string, before int64) (ReviewQueue, error) {
	if status == "" {
		status = db.ReviewOpen
	}
	ok := false
	for _, st := range ReviewStatuses {
		ok = ok || st == status
	}
	if !ok {
		return ReviewQueue{}, fmt.Errorf("%w: unknown status %q (open, approved or dismissed)", ErrInvalid, status)
	}
	const limit = 50
	f := db.ReviewFilter{OrganizationID: act.OrganizationID, AllOrgs: act.Platform(), Status: status, BeforeID: before, Limit: limit + 1}
	items, err := s.DB.ListReviewItems(ctx, f)
	if err != nil {
		return ReviewQueue{}, err
	}
	q := ReviewQueue{Status: status}
	if len(items) > limit {
		items = items[:limit]
		q.NextBefore = items[len(items)-1].ID
	}
	q.Items = items
	if q.Total, err = s.DB.CountReviewItems(ctx, f); err != nil {
		return q, err
	}
	f.Status = db.ReviewOpen
	if q.Open, err = s.DB.CountReviewItems(ctx, f); err != nil {
		return q, err
	}
	return q, nil
}

// ReviewDecision is the result of approving or dismissing an item.
type ReviewDecision struct {
	Item db.ReviewItem
	// Already is true when the item had been decided before (a double
	// submit or another admin): nothing was done now.
	Already bool
	Effects []Effect
}

// DecideReview approves (doing the item's action) or dismisses an open
// review item, with its audit entry, in one transaction. An item decided
// before changes nothing and reports Already.
func (s *Service) DecideReview(ctx context.Context, act Actor, id int64, approve bool) (ReviewDecision, error) {
	var out ReviewDecision
	err := s.DB.Tx(ctx, func(tx db.Tx) error {
		it, err := db.ReviewItemByIDTx(ctx, tx, id)
		if errors.Is(err, db.ErrNotFound) || (err == nil && !act.CanSee(it.OrganizationID)) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		out.Item = it
		if it.Status != db.ReviewOpen {
			out.Already = true
			return nil
		}
		status, verb := db.ReviewDismissed, "dismissed"
		if approve {
			status, verb = db.ReviewApproved, "approved"
		}
		e := s.newEffector(ctx, tx, it.EventID, act.Email, SourceReview)
		if approve {
			if err := e.approve(it); err != nil {
				return err
			}
		}
		if _, err := db.DecideReviewItemTx(ctx, tx, id, status, act.Email, "", e.now); err != nil {
			return err
		}
		ref := "review item #" + strconv.FormatInt(id, 10)
		if it.AccountID > 0 {
			a, err := db.AccountByIDTx(ctx, tx, it.AccountID)
			if err != nil {
				return err
			}
			if err := e.note(a, "review_"+verb, "review", ref, verb, ""); err != nil {
				return err
			}
		}
		target := it.AccountEmail
		if target == "" {
			target = ref
		}
		if err := db.InsertAudit(ctx, tx, db.AuditEntry{At: e.now, Actor: act.Email, OrganizationID: it.OrganizationID,
			Action: "review." + verb, Target: target, Detail: ref + " (" + it.Kind + ", action " + it.Action + "): " + it.Reason}); err != nil {
			return err
		}
		out.Effects = e.out
		out.Item.Status, out.Item.DecidedBy, out.Item.DecidedAt = status, act.Email, e.now
		return nil
	})
	return out, err
}

// approve does what an item proposes, re-checking it against current data.
func (e *effector) approve(it db.ReviewItem) error {
	if it.AccountID == 0 || it.Action == db.ReviewActionNone {
		return nil
	}
	a, err := db.AccountByIDTx(e.ctx, e.tx, it.AccountID)
	if err != nil {
		return err
	}
	why := "approved in the review queue by " + e.actor
	switch it.Action {
	case db.ReviewActionSuspend:
		if a.State == "suspended" || a.State == "deprovisioned" {
			return nil
		}
		return e.suspend(a, why)
	case db.ReviewActionDelete:
		if a.State == "deprovisioned" {
			return nil
		}
		return e.remove(a, why)
	case db.ReviewActionRestore:
		if a.State != "suspended" && a.State != "deprovisioned" {
			return nil
		}
		return e.restore(a, why)
	case db.ReviewActionSetRole:
		// The mapping may have moved since the item was queued: use today's.
		r, err := e.rulesFor(a.OrganizationID)
		if err != nil {
			return err
		}
		role, err := db.MappedRoleTx(e.ctx, e.tx, a.DirectoryUserID, a.OrganizationID)
		if err != nil {
			return err
		}
		if role == "" {
			role = r.defaultRole
		}
		if err := db.SetAccountRoleTx(e.ctx, e.tx, a.ID, role, false, e.now); err != nil {
			return err
		}
		if err := e.note(a, "role", "role", a.Role, role, "role from the group mapping; admin override dropped"); err != nil {
			return err
		}
		return e.audit(a.OrganizationID, "account.role_changed", a.Email, a.Role+" → "+role+" ("+why+")")
	case db.ReviewActionSetEmail:
		if it.Proposed == "" || it.Proposed == a.Email {
			return nil
		}
		other, err := db.AccountByEmailTx(e.ctx, e.tx, a.OrganizationID, it.Proposed)
		if err == nil && other.ID != a.ID {
			return fmt.Errorf("%w: %s is still used by account #%d; change or remove that account first, then approve again",
				ErrInvalid, it.Proposed, other.ID)
		}
		if err != nil && !errors.Is(err, db.ErrNotFound) {
			return err
		}
		if err := db.UpdateAccountFieldsTx(e.ctx, e.tx, a.ID, map[string]string{"email": it.Proposed}, e.now); err != nil {
			return err
		}
		if err := e.note(a, "update", "email", a.Email, it.Proposed, ""); err != nil {
			return err
		}
		return e.audit(a.OrganizationID, "account.updated", it.Proposed, "email "+a.Email+" → "+it.Proposed+" ("+why+")")
	}
	return fmt.Errorf("%w: unknown review action %q", ErrInvalid, it.Action)
}
