package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Admin is a person who signs in to Roster.
type Admin struct {
	ID             int64
	Email          string
	PasswordHash   string
	OrganizationID string // "" for a platform admin
	SessionVersion int64
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

const adminCols = `id, email, password_hash, COALESCE(organization_id, ''), session_version, created_at, updated_at`

func scanAdmin(row interface{ Scan(...any) error }) (Admin, error) {
	var a Admin
	var created, updated string
	err := row.Scan(&a.ID, &a.Email, &a.PasswordHash, &a.OrganizationID, &a.SessionVersion, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return Admin{}, ErrNotFound
	}
	if err != nil {
		return Admin{}, fmt.Errorf("db: scan admin: %w", err)
	}
	a.CreatedAt, a.UpdatedAt = parseTS(created), parseTS(updated)
	return a, nil
}

// AdminByEmail finds an admin by email, case-insensitively.
func (d *DB) AdminByEmail(ctx context.Context, email string) (Admin, error) {
	return scanAdmin(d.r.QueryRowContext(ctx, `SELECT `+adminCols+` FROM admins WHERE email = ?`, email))
}

// AdminByID finds an admin by id.
func (d *DB) AdminByID(ctx context.Context, id int64) (Admin, error) {
	return scanAdmin(d.r.QueryRowContext(ctx, `SELECT `+adminCols+` FROM admins WHERE id = ?`, id))
}

// CountAdmins returns how many admins exist.
func (d *DB) CountAdmins(ctx context.Context) (int, error) {
	var n int
	if err := d.r.QueryRowContext(ctx, `SELECT count(*) FROM admins`).Scan(&n); err != nil {
		return 0, fmt.Errorf("db: count admins: %w", err)
	}
	return n, nil
}

// ListAdmins returns admins, of one organisation or (allOrgs) every one.
func (d *DB) ListAdmins(ctx context.Context, organizationID string, allOrgs bool) ([]Admin, error) {
	q := `SELECT ` + adminCols + ` FROM admins`
	var args []any
	if !allOrgs {
		q += ` WHERE organization_id = ?`
		args = append(args, organizationID)
	}
	return queryAll(ctx, d.r, "admins", q+` ORDER BY email`, args, scanAdmin)
}

// UpsertAdmin creates the admin with this email, or resets its password
// (which also ends its sessions). The audit entry is written in the same
// transaction. It returns the admin and whether it was created.
func (d *DB) UpsertAdmin(ctx context.Context, email, passwordHash, organizationID string, audit AuditEntry) (Admin, bool, error) {
	now := ts(d.now())
	var created bool
	err := d.Tx(ctx, func(tx Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE admins SET password_hash = ?, session_version = session_version + 1, updated_at = ?
			WHERE email = ?`, passwordHash, now, email)
		if err != nil {
			return fmt.Errorf("db: reset admin: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			created = true
			if _, err := tx.ExecContext(ctx, `INSERT INTO admins(email, password_hash, organization_id, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?)`, email, passwordHash, nullString(organizationID), now, now); err != nil {
				return fmt.Errorf("db: create admin: %w", err)
			}
		}
		if audit.Action != "" {
			audit.At = d.now()
			return InsertAudit(ctx, tx, audit)
		}
		return nil
	})
	if err != nil {
		return Admin{}, false, err
	}
	a, err := d.AdminByEmail(ctx, email)
	return a, created, err
}

// SetAdminPassword stores a new hash and bumps the session version so every
// existing session of that admin ends.
func (d *DB) SetAdminPassword(ctx context.Context, id int64, passwordHash string, audit AuditEntry) error {
	return d.Tx(ctx, func(tx Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE admins SET password_hash = ?, session_version = session_version + 1, updated_at = ? WHERE id = ?`,
			passwordHash, ts(d.now()), id)
		if err != nil {
			return fmt.Errorf("db: set admin password: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		audit.At = d.now()
		return InsertAudit(ctx, tx, audit)
	})
}

// BumpSessionVersion ends every existing session of the admin.
func (d *DB) BumpSessionVersion(ctx context.Context, id int64) error {
	_, err := d.w.ExecContext(ctx, `UPDATE admins SET session_version = session_version + 1, updated_at = ? WHERE id = ?`, ts(d.now()), id)
	if err != nil {
		return fmt.Errorf("db: bump session version: %w", err)
	}
	return nil
}

// SetupLink is a one-time link that creates an admin.
type SetupLink struct {
	TokenHash      string
	Email          string // "" lets the person choose
	OrganizationID string // "" for a platform admin
	CreatedAt      time.Time
	ExpiresAt      time.Time
	UsedAt         time.Time
}

// CreateSetupLink stores a link by the hash of its token.
func (d *DB) CreateSetupLink(ctx context.Context, l SetupLink, audit AuditEntry) error {
	return d.Tx(ctx, func(tx Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO admin_setup_links(token_hash, email, organization_id, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?)`, l.TokenHash, l.Email, nullString(l.OrganizationID), ts(d.now()), ts(l.ExpiresAt))
		if err != nil {
			return fmt.Errorf("db: create setup link: %w", err)
		}
		if audit.Action != "" {
			audit.At = d.now()
			return InsertAudit(ctx, tx, audit)
		}
		return nil
	})
}

// SetupLinkByHash finds a link by the hash of its token.
func (d *DB) SetupLinkByHash(ctx context.Context, hash string) (SetupLink, error) {
	var l SetupLink
	var created, expires string
	var used sql.NullString
	err := d.r.QueryRowContext(ctx, `SELECT token_hash, email, COALESCE(organization_id, ''), created_at, expires_at, used_at
		FROM admin_setup_links WHERE token_hash = ?`, hash).Scan(&l.TokenHash, &l.Email, &l.OrganizationID, &created, &expires, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return SetupLink{}, ErrNotFound
	}
	if err != nil {
		return SetupLink{}, fmt.Errorf("db: read setup link: %w", err)
	}
	l.CreatedAt, l.ExpiresAt, l.UsedAt = parseTS(created), parseTS(expires), parseTS(used.String)
	return l, nil
}

// ErrLinkUsed is returned when a one-time link was already used.
var ErrLinkUsed = errors.New("db: link already used")

// UseSetupLink marks the link used and creates the admin, atomically: a
// second use (a double submit) creates nothing and returns ErrLinkUsed.
func (d *DB) UseSetupLink(ctx context.Context, hash, email, passwordHash string, audit AuditEntry) (Admin, error) {
	var l SetupLink
	err := d.Tx(ctx, func(tx Tx) error {
		now := ts(d.now())
		res, err := tx.ExecContext(ctx, `UPDATE admin_setup_links SET used_at = ? WHERE token_hash = ? AND used_at IS NULL`, now, hash)
		if err != nil {
			return fmt.Errorf("db: use setup link: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrLinkUsed
		}
		var org sql.NullString
		if err := tx.QueryRowContext(ctx, `SELECT organization_id FROM admin_setup_links WHERE token_hash = ?`, hash).Scan(&org); err != nil {
			return fmt.Errorf("db: read setup link: %w", err)
		}
		l.OrganizationID = org.String
		if _, err := tx.ExecContext(ctx, `INSERT INTO admins(email, password_hash, organization_id, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?)`, email, passwordHash, org, now, now); err != nil {
			return fmt.Errorf("db: create admin: %w", err)
		}
		audit.At = d.now()
		audit.OrganizationID = l.OrganizationID
		return InsertAudit(ctx, tx, audit)
	})
	if err != nil {
		return Admin{}, err
	}
	return d.AdminByEmail(ctx, email)
}
