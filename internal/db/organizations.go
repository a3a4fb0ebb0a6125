package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Organization is a WorkOS organisation known to Roster.
type Organization struct {
	ID             string
	Name           string
	AllowedDomains []string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// OrganizationByID finds an organisation.
func (d *DB) OrganizationByID(ctx context.Context, id string) (Organization, error) {
	var o Organization
	var domains, created, updated string
	err := d.r.QueryRowContext(ctx, `SELECT id, name, allowed_domains, created_at, updated_at FROM organizations WHERE id = ?`, id).
		Scan(&o.ID, &o.Name, &domains, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return Organization{}, ErrNotFound
	}
	if err != nil {
		return Organization{}, fmt.Errorf("db: read organization: %w", err)
	}
	_ = json.Unmarshal([]byte(domains), &o.AllowedDomains)
	o.CreatedAt, o.UpdatedAt = parseTS(created), parseTS(updated)
	return o, nil
}

// UpsertOrganization stores an organisation's name and allowed domains.
func UpsertOrganization(ctx context.Context, tx Tx, o Organization, now time.Time) error {
	domains, _ := json.Marshal(nonNil(o.AllowedDomains))
	_, err := tx.ExecContext(ctx, `INSERT INTO organizations(id, name, allowed_domains, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT(id) DO UPDATE SET name = excluded.name, allowed_domains = excluded.allowed_domains, updated_at = excluded.updated_at`,
		o.ID, o.Name, string(domains), ts(now), ts(now))
	if err != nil {
		return fmt.Errorf("db: upsert organization: %w", err)
	}
	return nil
}

// ListOrganizations returns every organisation by name.
func (d *DB) ListOrganizations(ctx context.Context) ([]Organization, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT id, name, allowed_domains, created_at, updated_at FROM organizations ORDER BY name, id`)
	if err != nil {
		return nil, fmt.Errorf("db: list organizations: %w", err)
	}
	defer rows.Close()
	var out []Organization
	for rows.Next() {
		var o Organization
		var domains, created, updated string
		if err := rows.Scan(&o.ID, &o.Name, &domains, &created, &updated); err != nil {
			return nil, fmt.Errorf("db: scan organization: %w", err)
		}
		_ = json.Unmarshal([]byte(domains), &o.AllowedDomains)
		o.CreatedAt, o.UpdatedAt = parseTS(created), parseTS(updated)
		out = append(out, o)
	}
	return out, rows.Err()
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
