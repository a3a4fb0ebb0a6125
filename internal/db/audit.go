package db

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	ID             int64
	At             time.Time
	Actor          string // admin email, "sync" or "system"
	OrganizationID string // "" for platform-wide entries
	Action         string
	Target         string
	Detail         string
}

// InsertAudit writes an audit entry inside the caller's transaction, so the
// entry exists exactly when the change it describes does.
func InsertAudit(ctx context.Context, tx *sql.Tx, e AuditEntry) error {
	at := e.At
	if at.IsZero() {
		at = time.Now()
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO audit_log(at, actor, organization_id, action, target, detail)
		VALUES (?, ?, ?, ?, ?, ?)`, ts(at), e.Actor, nullString(e.OrganizationID), e.Action, e.Target, e.Detail)
	if err != nil {
		return fmt.Errorf("db: insert audit: %w", err)
	}
	return nil
}

// Audit writes one audit entry in its own transaction.
func (d *DB) Audit(ctx context.Context, e AuditEntry) error {
	if e.At.IsZero() {
		e.At = d.now()
	}
	return d.Tx(ctx, func(tx *sql.Tx) error { return InsertAudit(ctx, tx, e) })
}

// AuditFilter selects audit entries. Empty fields do not filter.
type AuditFilter struct {
	OrganizationID string // restrict to one organisation (and its entries only)
	AllOrgs        bool   // platform view: every entry
	Action         string // prefix match, e.g. "invite."
	Actor          string
	Query          string // substring of target or detail
	BeforeID       int64  // keyset: entries older than this id
	Limit          int
}

// ListAudit returns entries newest first.
func (d *DB) ListAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	var where []string
	var args []any
	if !f.AllOrgs {
		where = append(where, "organization_id = ?")
		args = append(args, f.OrganizationID)
	}
	if f.Action != "" {
		where = append(where, "action LIKE ? ESCAPE '\\'")
		args = append(args, likePrefix(f.Action))
	}
	if f.Actor != "" {
		where = append(where, "actor = ?")
		args = append(args, f.Actor)
	}
	if f.Query != "" {
		where = append(where, "(target LIKE ? ESCAPE '\\' OR detail LIKE ? ESCAPE '\\')")
		q := "%" + escapeLike(f.Query) + "%"
		args = append(args, q, q)
	}
	if f.BeforeID > 0 {
		where = append(where, "id < ?")
		args = append(args, f.BeforeID)
	}
	q := `SELECT id, at, actor, COALESCE(organization_id, ''), action, target, detail FROM audit_log`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC"
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	rows, err := d.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("db: list audit: %w", err)
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
	return out, rows.Err()
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func escapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

func likePrefix(s string) string { return escapeLike(s) + "%" }
