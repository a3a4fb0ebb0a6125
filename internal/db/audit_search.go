package db

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// AuditSearch selects audit entries for the Audit page and its CSV export.
// Empty fields do not filter. It extends AuditFilter with a time range and
// paging towards newer entries.
type AuditSearch struct {
	OrganizationID string // restrict to one organisation (and its entries only)
	AllOrgs        bool   // platform view: every entry, platform-wide ones included
	Action         string // prefix match, e.g. "invite."
	Actor          string // exact, case-insensitive
	Query          string // substring of actor, target or detail
	From           time.Time
	To             time.Time // exclusive
	BeforeID       int64     // keyset: entries older than this id
	AfterID        int64     // keyset: entries newer than this id (the page just above it)
	Limit          int
}

// SearchAudit returns matching entries newest first. With AfterID it returns
// the Limit entries just newer than AfterID (still newest first), which is
// the "previous page" of keyset paging.
func (d *DB) SearchAudit(ctx context.Context, f AuditSearch) ([]AuditEntry, error) {
	where, args := f.where()
	q := `SELECT id, at, actor, COALESCE(organization_id, ''), action, target, detail FROM audit_log`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	asc := f.AfterID > 0 && f.BeforeID <= 0
	if asc {
		q += " ORDER BY id ASC"
	} else {
		q += " ORDER BY id DESC"
	}
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	rows, err := d.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("db: search audit: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at string
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.OrganizationID, &e.Action, &e.Target, &e.Detail); err != nil {
			return nil, fmt.Errorf("db: scan audit: %w", err)
		}
		e.At = parseTS(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: search audit: %w", err)
	}
	if asc {
		slices.Reverse(out)
	}
	return out, nil
}

func (f AuditSearch) where() ([]string, []any) {
	var where []string
	var args []any
	if !f.AllOrgs {
		where = append(where, "organization_id = ?")
		args = append(args, f.OrganizationID)
	}
	if f.Action != "" {
		where = append(where, `action LIKE ? ESCAPE '\'`)
		args = append(args, likePrefix(f.Action))
	}
	if f.Actor != "" {
		where = append(where, "actor = ? COLLATE NOCASE")
		args = append(args, f.Actor)
	}
	if f.Query != "" {
		where = append(where, `(target LIKE ? ESCAPE '\' OR detail LIKE ? ESCAPE '\' OR actor LIKE ? ESCAPE '\')`)
		q := "%" + escapeLike(f.Query) + "%"
		args = append(args, q, q, q)
	}
	if !f.From.IsZero() {
		where = append(where, "at >= ?")
		args = append(args, ts(f.From))
	}
	if !f.To.IsZero() {
		where = append(where, "at < ?")
		args = append(args, ts(f.To))
	}
	if f.BeforeID > 0 {
		where = append(where, "id < ?")
		args = append(args, f.BeforeID)
	}
	if f.AfterID > 0 {
		where = append(where, "id > ?")
		args = append(args, f.AfterID)
	}
	return where, args
}

// AuditActors returns the distinct actors among an organisation's (or all)
// most recent 1,000 entries, most recently active first, at most limit of
// them. The window keeps it cheap on a long log: it suggests who is active,
// it is not a census.
func (d *DB) AuditActors(ctx context.Context, organizationID string, allOrgs bool, limit int) ([]string, error) {
	inner := `SELECT actor, id FROM audit_log`
	var args []any
	if !allOrgs {
		inner += ` WHERE organization_id = ?`
		args = append(args, organizationID)
	}
	inner += ` ORDER BY id DESC LIMIT 1000`
	q := `SELECT actor FROM (` + inner + `) GROUP BY actor ORDER BY max(id) DESC`
	if limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", limit)
	}
	rows, err := d.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("db: audit actors: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, fmt.Errorf("db: scan audit actor: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
