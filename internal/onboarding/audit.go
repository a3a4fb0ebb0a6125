package onboarding

import (
	"context"
	"fmt"
	"slices"
	"time"

	"roster/internal/db"
)

// AuditActionPrefixes are the families of audit actions an admin can filter
// by, in the order the filter offers them.
var AuditActionPrefixes = []string{"admin.", "invite.", "invitation.", "account.", "settings.", "sync.", "organization."}

// AuditQuery filters the audit log. Empty fields do not filter.
type AuditQuery struct {
	Action string    // one of AuditActionPrefixes
	Actor  string    // exact (case-insensitive) actor: an admin email, "sync" or "system"
	Query  string    // text in actor, target or detail
	Org    string    // platform admins only: one organisation's entries
	From   time.Time // first day included (UTC midnight)
	To     time.Time // last day included (UTC midnight)
	Before int64     // keyset cursor: older than this id
	After  int64     // keyset cursor: newer than this id
	Limit  int       // page size, 1–100 (default 25)
}

// AuditRecord is one audit entry as pages and exports show it.
type AuditRecord struct {
	ID             int64
	At             time.Time
	Actor          string
	OrganizationID string
	Action         string
	Target         string
	Detail         string
}

// AuditPage is one page of the audit log, newest first.
type AuditPage struct {
	Records []AuditRecord
	// OlderBefore / NewerAfter, when not 0, are the cursors of the next
	// (older) and previous (newer) pages.
	OlderBefore int64
	NewerAfter  int64
	// Reset is set when the cursor pointed past the end of the log (or was
	// stale for these filters) and the newest page is shown instead.
	Reset bool
}

// search turns a query into the storage filter, scoped to what the actor
// may see: an organisation admin only ever sees their organisation's
// entries, whatever Org says; a platform admin sees all, or one org.
func (q AuditQuery) search(act Actor) (db.AuditSearch, error) {
	f := db.AuditSearch{Actor: q.Actor, Query: q.Query, From: q.From}
	if act.Platform() {
		f.AllOrgs = q.Org == ""
		f.OrganizationID = q.Org
	} else {
		f.OrganizationID = act.OrganizationID
	}
	if q.Action != "" {
		if !slices.Contains(AuditActionPrefixes, q.Action) {
			return f, fmt.Errorf("%w: %q is not a kind of action the audit log can filter by", ErrInvalid, q.Action)
		}
		f.Action = q.Action
	}
	if !q.To.IsZero() {
		f.To = q.To.AddDate(0, 0, 1) // the "to" day is included
	}
	if !q.From.IsZero() && !q.To.IsZero() && q.To.Before(q.From) {
		return f, fmt.Errorf("%w: the end date %s is before the start date %s", ErrInvalid,
			q.To.Format(time.DateOnly), q.From.Format(time.DateOnly))
	}
	return f, nil
}

func auditLimit(n int) int {
	if n <= 0 {
		return 25
	}
	return min(n, 100)
}

// AuditLog returns one page of the audit entries the actor may see.
func (s *Service) AuditLog(ctx context.Context, act Actor, q AuditQuery) (AuditPage, error) {
	f, err := q.search(act)
	if err != nil {
		return AuditPage{}, err
	}
	limit := auditLimit(q.Limit)
	page := func(before, after int64) ([]db.AuditEntry, error) {
		g := f
		g.BeforeID, g.AfterID, g.Limit = before, after, limit
		return s.DB.SearchAudit(ctx, g)
	}
	var p AuditPage
	var rows []db.AuditEntry
	switch {
	case q.Before > 0:
		rows, err = page(q.Before, 0)
	case q.After > 0:
		rows, err = page(0, q.After)
	default:
		rows, err = page(0, 0)
	}
	if err != nil {
		return AuditPage{}, err
	}
	if len(rows) == 0 && (q.Before > 0 || q.After > 0) {
		p.Reset = true
		if rows, err = page(0, 0); err != nil {
			return AuditPage{}, err
		}
	}
	if len(rows) > 0 {
		// Exact Previous/Next: is there anything beyond either end?
		newest, oldest := rows[0].ID, rows[len(rows)-1].ID
		if more, err := s.auditExists(ctx, f, oldest, 0); err != nil {
			return AuditPage{}, err
		} else if more {
			p.OlderBefore = oldest
		}
		if more, err := s.auditExists(ctx, f, 0, newest); err != nil {
			return AuditPage{}, err
		} else if more {
			p.NewerAfter = newest
		}
	}
	for _, r := range rows {
		p.Records = append(p.Records, auditRecord(r))
	}
	return p, nil
}

func (s *Service) auditExists(ctx context.Context, f db.AuditSearch, before, after int64) (bool, error) {
	f.BeforeID, f.AfterID, f.Limit = before, after, 1
	rows, err := s.DB.SearchAudit(ctx, f)
	return len(rows) > 0, err
}

// ExportAudit calls fn for every entry matching q that the actor may see,
// newest first, ignoring q's cursors and limit. It reads in chunks, so a
// slow client never holds a database read open for the whole export.
func (s *Service) ExportAudit(ctx context.Context, act Actor, q AuditQuery, fn func(AuditRecord) error) error {
	f, err := q.search(act)
	if err != nil {
		return err
	}
	f.Limit = 1000
	for {
		rows, err := s.DB.SearchAudit(ctx, f)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if err := fn(auditRecord(r)); err != nil {
				return err
			}
		}
		if len(rows) < f.Limit {
			return nil
		}
		f.BeforeID = rows[len(rows)-1].ID
	}
}

// AuditActors lists who appears in the actor's audit log, most recently
// active first, to suggest values for the actor filter.
func (s *Service) AuditActors(ctx context.Context, act Actor) ([]string, error) {
	return s.DB.AuditActors(ctx, act.OrganizationID, act.Platform(), 100)
}

// AuditOrg is an organisation a platform admin can filter the log by.
type AuditOrg struct{ ID, Name string }

// AuditOrgs lists the organisations for a platform admin's filter; none for
// an organisation admin, whose view is always their own organisation.
func (s *Service) AuditOrgs(ctx context.Context, act Actor) ([]AuditOrg, error) {
	if !act.Platform() {
		return nil, nil
	}
	orgs, err := s.DB.ListOrganizations(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]AuditOrg, 0, len(orgs))
	for _, o := range orgs {
		out = append(out, AuditOrg{ID: o.ID, Name: o.Name})
	}
	return out, nil
}

func auditRecord(e db.AuditEntry) AuditRecord {
	return AuditRecord{ID: e.ID, At: e.At, Actor: e.Actor, OrganizationID: e.OrganizationID, Action: e.Action, Target: e.Target, Detail: e.Detail}
}

// CheckAuditQuery reports whether q is acceptable (ErrInvalid with a reason
// otherwise) without reading the log; exports call it before they start.
func (s *Service) CheckAuditQuery(act Actor, q AuditQuery) error {
	_, err := q.search(act)
	return err
}
