package onboarding

import (
	"encoding/json"
	"fmt"

	"roster/internal/db"
	"roster/internal/dirsync"
)

// directoryRow maps a WorkOS directory to its replica row.
func directoryRow(d dirsync.Directory) db.Directory {
	return db.Directory{ID: d.ID, OrganizationID: d.OrganizationID, ExternalKey: d.ExternalKey, Type: d.Type,
		Name: d.Name, Domain: d.Domain, State: d.State, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
}

// userRow maps a WorkOS directory user to its replica row. Job title,
// department and manager come from custom_attributes, where WorkOS keeps
// them since the top-level fields were deprecated.
func userRow(u dirsync.User) db.DirectoryUser {
	row := db.DirectoryUser{ID: u.ID, DirectoryID: u.DirectoryID, OrganizationID: u.OrganizationID, IdpID: u.IdpID,
		Email: u.PrimaryEmail(), FirstName: u.FirstName, LastName: u.LastName, Name: u.Name, Username: u.Username,
		State: u.State, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
	row.JobTitle = firstNonEmpty(u.JobTitle, attrString(u.CustomAttributes, "job_title"), attrString(u.CustomAttributes, "title"))
	row.Department = firstNonEmpty(attrString(u.CustomAttributes, "department"), attrString(u.CustomAttributes, "department_name"))
	row.ManagerEmail = firstNonEmpty(attrString(u.CustomAttributes, "manager_email"), attrString(u.CustomAttributes, "manager"))
	if u.Role != nil {
		row.Role = u.Role.Slug
	}
	for _, r := range u.Roles {
		row.Roles = append(row.Roles, r.Slug)
	}
	if row.Role == "" && len(row.Roles) > 0 {
		row.Role = row.Roles[0]
	}
	if len(u.CustomAttributes) > 0 {
		row.CustomAttributes, _ = json.Marshal(u.CustomAttributes) // map keys sorted: a stable encoding
	}
	if len(u.Emails) > 0 {
		row.Emails, _ = json.Marshal(u.Emails)
	}
	return row
}

// groupRow maps a WorkOS group to its replica row.
func groupRow(g dirsync.Group) db.DirectoryGroup {
	return db.DirectoryGroup{ID: g.ID, DirectoryID: g.DirectoryID, OrganizationID: g.OrganizationID, IdpID: g.IdpID,
		Name: g.Name, CreatedAt: g.CreatedAt, UpdatedAt: g.UpdatedAt}
}

func attrString(m map[string]any, key string) string {
	v, ok := m[key]
	if !ok || v == nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	if o, ok := v.(map[string]any); ok { // e.g. manager: {"email": …}
		if e, ok := o["email"].(string); ok {
			return e
		}
		if e, ok := o["value"].(string); ok {
			return e
		}
		return ""
	}
	return fmt.Sprint(v)
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
