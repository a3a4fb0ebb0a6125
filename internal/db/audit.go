package db

import (
	"context"
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
func InsertAudit(ctx context.Context, tx Tx, e AuditEntry) error {
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
	return d.Tx(ctx, func(tx Tx) error { return InsertAudit(ctx, tx, e) })
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
