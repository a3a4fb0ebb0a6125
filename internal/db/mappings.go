package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// queryer is what both the reader pool and a write transaction offer.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// queryAll runs a query and reads every row with scan; what names the
// rows in errors.
func queryAll[T any](ctx context.Context, q queryer, what, query string, args []any,
	scan func(interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("db: %s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("db: scan %s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: %s: %w", what, err)
	}
	return out, nil
}

// SourceFields are the top-level directory user fields a mapping may read,
// with the replica column each one lives in.
var SourceFields = map[string]string{
	"id":            "u.id",
	"idp_id":        "u.idp_id",
	"email":         "u.email",
	"first_name":    "u.first_name",
	"last_name":     "u.last_name",
	"name":          "u.name",
	"username":      "u.username",
	"job_title":     "u.job_title",
	"department":    "u.department",
	"manager_email": "u.manager_email",
	"state":         "u.state",
	"role":          "u.role",
}

// CustomPrefix starts a source path that reads the custom_attributes JSON.
const CustomPrefix = "custom_attributes."

// SourceExpr turns a source path into an SQL text expression over the
// replica row aliased u, with its arguments. A path may list fallbacks
// separated by "|": the first non-empty value wins. Values never come back
// NULL. Paths must be validated first (ValidSourcePath); an invalid one is
// an error, never SQL.
func SourceExpr(path string) (string, []any, error) {
	var parts []string
	var args []any
	for _, p := range strings.Split(path, "|") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if col, ok := SourceFields[p]; ok {
			parts = append(parts, "NULLIF("+col+", '')")
			continue
		}
		jp, err := jsonPath(p)
		if err != nil {
			return "", nil, err
		}
		// CAST: a number or boolean attribute reads as its text.
		parts = append(parts, "NULLIF(CAST(json_extract(u.custom_attributes, ?) AS TEXT), '')")
		args = append(args, jp)
	}
	if len(parts) == 0 {
		return "''", nil, nil
	}
	return "COALESCE(" + strings.Join(parts, ", ") + ", '')", args, nil
}

// jsonPath converts custom_attributes.a.b into the JSON path $."a"."b".
func jsonPath(p string) (string, error) {
	rest, ok := strings.CutPrefix(p, CustomPrefix)
	if !ok || rest == "" {
		return "", fmt.Errorf("db: unknown source %q", p)
	}
	var b strings.Builder
	b.WriteString("$")
	for _, seg := range strings.Split(rest, ".") {
		if seg == "" || strings.ContainsAny(seg, "\"\\[]$") {
			return "", fmt.Errorf("db: bad source path %q", p)
		}
		b.WriteString(`."` + seg + `"`)
	}
	return b.String(), nil
}

// AttributeMappings returns an organisation's stored mappings (account
// field → source path); fields without a row use the defaults.
func (d *DB) AttributeMappings(ctx context.Context, orgID string) (map[string]string, error) {
	return attributeMappings(ctx, d.r, orgID)
}

func attributeMappings(ctx context.Context, q queryer, orgID string) (map[string]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT account_field, source_path FROM attribute_mappings WHERE organization_id = ?`, orgID)
	if err != nil {
		return nil, fmt.Errorf("db: attribute mappings: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var f, p string
		if err := rows.Scan(&f, &p); err != nil {
			return nil, fmt.Errorf("db: scan attribute mapping: %w", err)
		}
		out[f] = p
	}
	return out, rows.Err()
}

// AttributeMappingsTx is AttributeMappings inside a write transaction.
func AttributeMappingsTx(ctx context.Context, tx Tx, orgID string) (map[string]string, error) {
	return attributeMappings(ctx, tx, orgID)
}

// Role is a role an account can have; a higher rank wins.
type Role struct {
	OrganizationID string // "" for a default role
	Slug, Name     string
	Rank           int
}

// RoleMapping gives the members of a group a role.
type RoleMapping struct {
	GroupID   string
	GroupName string // from the replica; "" when the group is gone
	RoleSlug  string
}

// OrgSettings are an organisation's onboarding defaults.
type OrgSettings struct {
	OrganizationID string
	DefaultRole    string
	InviteTTLDays  int // 0: the service default
}

// Roles returns the roles an organisation can use (the defaults and its
// own), highest rank first.
func (d *DB) Roles(ctx context.Context, orgID string) ([]Role, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT organization_id, slug, name, rank FROM roles
		WHERE organization_id IN ('', ?) ORDER BY rank DESC, slug`, orgID)
	if err != nil {
		return nil, fmt.Errorf("db: roles: %w", err)
	}
	defer rows.Close()
	var out []Role
	seen := map[string]bool{}
	for rows.Next() {
		var r Role
		if err := rows.Scan(&r.OrganizationID, &r.Slug, &r.Name, &r.Rank); err != nil {
			return nil, fmt.Errorf("db: scan role: %w", err)
		}
		if !seen[r.Slug] {
			seen[r.Slug] = true
			out = append(out, r)
		}
	}
	return out, rows.Err()
}

// RoleMappings returns an organisation's group → role table.
func (d *DB) RoleMappings(ctx context.Context, orgID string) ([]RoleMapping, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT rm.group_id, COALESCE(g.name, ''), rm.role_slug FROM role_mappings rm
		LEFT JOIN directory_groups g ON g.id = rm.group_id AND g.deleted_at IS NULL
		WHERE rm.organization_id = ? ORDER BY lower(COALESCE(g.name, '')), rm.group_id`, orgID)
	if err != nil {
		return nil, fmt.Errorf("db: role mappings: %w", err)
	}
	defer rows.Close()
	var out []RoleMapping
	for rows.Next() {
		var m RoleMapping
		if err := rows.Scan(&m.GroupID, &m.GroupName, &m.RoleSlug); err != nil {
			return nil, fmt.Errorf("db: scan role mapping: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// OrgGroup is a group an organisation's role mapping may name.
type OrgGroup struct{ ID, Name string }

// OrgGroups lists the live groups of an organisation's directories by name.
func (d *DB) OrgGroups(ctx context.Context, orgID string, limit int) ([]OrgGroup, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT id, name FROM directory_groups
		WHERE organization_id = ? AND deleted_at IS NULL ORDER BY sort_key, id LIMIT ?`, orgID, limit)
	if err != nil {
		return nil, fmt.Errorf("db: org groups: %w", err)
	}
	defer rows.Close()
	var out []OrgGroup
	for rows.Next() {
		var g OrgGroup
		if err := rows.Scan(&g.ID, &g.Name); err != nil {
			return nil, fmt.Errorf("db: scan group: %w", err)
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// GroupOrganization returns the organisation of a live group.
func (d *DB) GroupOrganization(ctx context.Context, groupID string) (string, error) {
	var org string
	err := d.r.QueryRowContext(ctx, `SELECT organization_id FROM directory_groups WHERE id = ? AND deleted_at IS NULL`, groupID).Scan(&org)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("db: group organization: %w", err)
	}
	return org, nil
}

// OrgSettingsFor returns an organisation's settings (defaults when unset).
func (d *DB) OrgSettingsFor(ctx context.Context, orgID string) (OrgSettings, error) {
	return orgSettings(ctx, d.r, orgID)
}

// OrgSettingsTx is OrgSettingsFor inside a write transaction.
func OrgSettingsTx(ctx context.Context, tx Tx, orgID string) (OrgSettings, error) {
	return orgSettings(ctx, tx, orgID)
}

func orgSettings(ctx context.Context, q queryer, orgID string) (OrgSettings, error) {
	s := OrgSettings{OrganizationID: orgID, DefaultRole: "member"}
	err := q.QueryRowContext(ctx, `SELECT default_role, invite_ttl_days FROM org_settings WHERE organization_id = ?`, orgID).
		Scan(&s.DefaultRole, &s.InviteTTLDays)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return s, fmt.Errorf("db: org settings: %w", err)
	}
	return s, nil
}

// SaveSettings replaces an organisation's attribute mappings, role mappings
// and defaults in one transaction, with its audit entry.
func (d *DB) SaveSettings(ctx context.Context, s OrgSettings, attrs map[string]string, roles []RoleMapping, audit AuditEntry) error {
	now := ts(d.now())
	return d.Tx(ctx, func(tx Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO org_settings (organization_id, default_role, invite_ttl_days, updated_at)
			VALUES (?, ?, ?, ?) ON CONFLICT(organization_id) DO UPDATE SET default_role = excluded.default_role,
			invite_ttl_days = excluded.invite_ttl_days, updated_at = excluded.updated_at`,
			s.OrganizationID, s.DefaultRole, s.InviteTTLDays, now); err != nil {
			return fmt.Errorf("db: save org settings: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM attribute_mappings WHERE organization_id = ?`, s.OrganizationID); err != nil {
			return fmt.Errorf("db: clear attribute mappings: %w", err)
		}
		for f, p := range attrs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO attribute_mappings (organization_id, account_field, source_path) VALUES (?, ?, ?)`,
				s.OrganizationID, f, p); err != nil {
				return fmt.Errorf("db: save attribute mapping: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM role_mappings WHERE organization_id = ?`, s.OrganizationID); err != nil {
			return fmt.Errorf("db: clear role mappings: %w", err)
		}
		for _, m := range roles {
			if _, err := tx.ExecContext(ctx, `INSERT INTO role_mappings (organization_id, group_id, role_slug) VALUES (?, ?, ?)
				ON CONFLICT(organization_id, group_id) DO UPDATE SET role_slug = excluded.role_slug`,
				s.OrganizationID, m.GroupID, m.RoleSlug); err != nil {
				return fmt.Errorf("db: save role mapping: %w", err)
			}
		}
		if audit.At.IsZero() {
			audit.At = d.now()
		}
		return InsertAudit(ctx, tx, audit)
	})
}

// MappedSample is one directory user with the mapped value of each field.
type MappedSample struct {
	UserID string
	Label  string // the person's name or email, for the preview table
	Values map[string]string
}

// MappingPreview evaluates candidate mappings on an organisation's live
// users: the first `sample` users by name, and for every field how many of
// all users get an empty value.
func (d *DB) MappingPreview(ctx context.Context, orgID string, fields []string, sources map[string]string, sample int) (samples []MappedSample, empty map[string]int, total int, err error) {
	var cols []string
	var args []any
	for _, f := range fields {
		e, a, err := SourceExpr(sources[f])
		if err != nil {
			return nil, nil, 0, err
		}
		cols = append(cols, e)
		args = append(args, a...)
	}
	// Samples: the first people by name.
	q := `SELECT u.id, COALESCE(NULLIF(trim(u.first_name || ' ' || u.last_name), ''), NULLIF(u.name, ''), u.email), ` +
		strings.Join(cols, ", ") + ` FROM directory_users u
		WHERE u.organization_id = ? AND u.deleted_at IS NULL ORDER BY u.sort_key, u.id LIMIT ?`
	rows, err := d.r.QueryContext(ctx, q, append(append([]any{}, args...), orgID, sample)...)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("db: mapping preview: %w", err)
	}
	for rows.Next() {
		s := MappedSample{Values: map[string]string{}}
		vals := make([]string, len(fields))
		dst := []any{&s.UserID, &s.Label}
		for i := range vals {
			dst = append(dst, &vals[i])
		}
		if err := rows.Scan(dst...); err != nil {
			rows.Close()
			return nil, nil, 0, fmt.Errorf("db: scan mapping preview: %w", err)
		}
		for i, f := range fields {
			s.Values[f] = vals[i]
		}
		samples = append(samples, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, 0, err
	}
	// Empty counts over everyone, in one scan.
	var sums []string
	for _, c := range cols {
		sums = append(sums, "COALESCE(SUM(CASE WHEN "+c+" = '' THEN 1 ELSE 0 END), 0)")
	}
	q = `SELECT count(*), ` + strings.Join(sums, ", ") + ` FROM directory_users u WHERE u.organization_id = ? AND u.deleted_at IS NULL`
	counts := make([]int, len(fields))
	dst := []any{&total}
	for i := range counts {
		dst = append(dst, &counts[i])
	}
	if err := d.r.QueryRowContext(ctx, q, append(append([]any{}, args...), orgID)...).Scan(dst...); err != nil {
		return nil, nil, 0, fmt.Errorf("db: mapping empties: %w", err)
	}
	empty = map[string]int{}
	for i, f := range fields {
		empty[f] = counts[i]
	}
	return samples, empty, total, nil
}

// CustomAttributeKeys lists the distinct top-level custom attribute keys
// seen on an organisation's users (from a sample), for the source picker.
func (d *DB) CustomAttributeKeys(ctx context.Context, orgID string) ([]string, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT DISTINCT j.key FROM
		(SELECT custom_attributes FROM directory_users WHERE organization_id = ? AND deleted_at IS NULL LIMIT 500) u,
		json_each(u.custom_attributes) j ORDER BY j.key LIMIT 200`, orgID)
	if err != nil {
		return nil, fmt.Errorf("db: custom attribute keys: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("db: scan key: %w", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}
