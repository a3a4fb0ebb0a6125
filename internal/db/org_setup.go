package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// OrgSetupLink is the latest Admin Portal link made for an organisation.
type OrgSetupLink struct {
	OrganizationID string
	Link           string
	CreatedBy      string
	CreatedAt      time.Time
	ExpiresAt      time.Time
}

// SaveOrgSetupLink stores the organisation's link, replacing an older one,
// with its audit entry.
func (d *DB) SaveOrgSetupLink(ctx context.Context, l OrgSetupLink, audit AuditEntry) error {
	return d.Tx(ctx, func(tx Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO org_setup_links(organization_id, link, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT(organization_id) DO UPDATE SET link = excluded.link, created_by = excluded.created_by,
			created_at = excluded.created_at, expires_at = excluded.expires_at`,
			l.OrganizationID, l.Link, l.CreatedBy, ts(l.CreatedAt), ts(l.ExpiresAt))
		if err != nil {
			return fmt.Errorf("db: save setup link: %w", err)
		}
		audit.At = l.CreatedAt
		return InsertAudit(ctx, tx, audit)
	})
}

// OrgSetupLinkFor returns the organisation's latest link, or ErrNotFound.
func (d *DB) OrgSetupLinkFor(ctx context.Context, orgID string) (OrgSetupLink, error) {
	var l OrgSetupLink
	var created, expires string
	err := d.r.QueryRowContext(ctx, `SELECT organization_id, link, created_by, created_at, expires_at FROM org_setup_links WHERE organization_id = ?`, orgID).
		Scan(&l.OrganizationID, &l.Link, &l.CreatedBy, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return OrgSetupLink{}, ErrNotFound
	}
	if err != nil {
		return OrgSetupLink{}, fmt.Errorf("db: read setup link: %w", err)
	}
	l.CreatedAt, l.ExpiresAt = parseTS(created), parseTS(expires)
	return l, nil
}

// OrgDirectory is a directory of an organisation as the organisations pages
// show it, with its load progress.
type OrgDirectory struct {
	ID, Name, Type, State string
	Deleted               bool
	Phase                 string // sync_state.phase, "" before discovery finished
	UsersDone, UsersTotal int
	GroupsDone            int
	GroupsTotal           int
	Users                 int // live users in the replica
}

// OrgSummary is an organisation with what the list page shows.
type OrgSummary struct {
	Organization
	Directories int // live directories
	Admins      int
	Linked      int // directories in state linked
}

// ListOrgSummaries returns every organisation with its counts.
func (d *DB) ListOrgSummaries(ctx context.Context) ([]OrgSummary, error) {
	orgs, err := d.ListOrganizations(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := d.r.QueryContext(ctx, `SELECT organization_id, count(*), sum(CASE WHEN state = 'linked' THEN 1 ELSE 0 END)
		FROM directories WHERE deleted_at IS NULL GROUP BY organization_id`)
	if err != nil {
		return nil, fmt.Errorf("db: count directories: %w", err)
	}
	dirs := map[string][2]int{}
	for rows.Next() {
		var id string
		var n, linked int
		if err := rows.Scan(&id, &n, &linked); err != nil {
			rows.Close()
			return nil, fmt.Errorf("db: scan directory counts: %w", err)
		}
		dirs[id] = [2]int{n, linked}
	}
	rows.Close()
	admins, err := d.countsBy(ctx, "admin counts", `SELECT organization_id, count(*) FROM admins
		WHERE organization_id IS NOT NULL GROUP BY organization_id`, nil)
	if err != nil {
		return nil, err
	}
	out := make([]OrgSummary, 0, len(orgs))
	for _, o := range orgs {
		out = append(out, OrgSummary{Organization: o, Directories: dirs[o.ID][0], Linked: dirs[o.ID][1], Admins: admins[o.ID]})
	}
	return out, nil
}

// OrgDirectories returns the organisation's directories with progress.
func (d *DB) OrgDirectories(ctx context.Context, orgID string) ([]OrgDirectory, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT d.id, d.name, d.type, d.state, d.deleted_at IS NOT NULL,
			COALESCE(s.phase, ''), COALESCE(s.users_done, 0), COALESCE(s.users_total, 0), COALESCE(s.groups_done, 0), COALESCE(s.groups_total, 0),
			(SELECT count(*) FROM directory_users u WHERE u.directory_id = d.id AND u.deleted_at IS NULL)
		FROM directories d LEFT JOIN sync_state s ON s.directory_id = d.id
		WHERE d.organization_id = ? ORDER BY d.deleted_at IS NOT NULL, d.name, d.id`, orgID)
	if err != nil {
		return nil, fmt.Errorf("db: org directories: %w", err)
	}
	defer rows.Close()
	var out []OrgDirectory
	for rows.Next() {
		var x OrgDirectory
		if err := rows.Scan(&x.ID, &x.Name, &x.Type, &x.State, &x.Deleted, &x.Phase, &x.UsersDone, &x.UsersTotal, &x.GroupsDone, &x.GroupsTotal, &x.Users); err != nil {
			return nil, fmt.Errorf("db: scan org directory: %w", err)
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// SaveOrganization stores an organisation with its audit entry.
func (d *DB) SaveOrganization(ctx context.Context, o Organization, audit AuditEntry) error {
	return d.Tx(ctx, func(tx Tx) error {
		if err := UpsertOrganization(ctx, tx, o, d.now()); err != nil {
			return err
		}
		if audit.Action == "" {
			return nil
		}
		audit.At = d.now()
		return InsertAudit(ctx, tx, audit)
	})
}
