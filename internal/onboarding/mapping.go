package onboarding

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"roster/internal/db"
)

// AccountField is an account attribute filled from the directory.
type AccountField struct {
	Key   string
	Label string
}

// AccountFields are the mappable account fields, in display order.
var AccountFields = []AccountField{
	{"email", "Email"},
	{"first_name", "First name"},
	{"last_name", "Last name"},
	{"display_name", "Display name"},
	{"job_title", "Job title"},
	{"department", "Department"},
	{"manager", "Manager"},
	{"location", "Location"},
	{"phone", "Phone"},
}

func fieldKeys() []string {
	out := make([]string, len(AccountFields))
	for i, f := range AccountFields {
		out[i] = f.Key
	}
	return out
}

// DefaultSources is where each account field comes from unless an
// organisation says otherwise. WorkOS emptied the top-level job_title and
// raw attributes on 2026-04-15, so the custom attributes come first and the
// top-level fields are only a fallback for older data.
var DefaultSources = map[string]string{
	"email":        "email",
	"first_name":   "first_name",
	"last_name":    "last_name",
	"display_name": "name | first_name",
	"job_title":    "custom_attributes.job_title | custom_attributes.title | job_title",
	"department":   "custom_attributes.department | custom_attributes.department_name | department",
	"manager":      "custom_attributes.manager_email | manager_email",
	"location":     "custom_attributes.location | custom_attributes.office",
	"phone":        "custom_attributes.phone_number | custom_attributes.phone",
}

var customSegment = regexp.MustCompile(`^[A-Za-z0-9_\- ]{1,64}$`)

// ValidSourcePath checks a source path: top-level fields or
// custom_attributes.<dot.path>, several separated by "|". An empty path is
// valid (the field stays empty).
func ValidSourcePath(path string) error {
	if len(path) > 400 {
		return fmt.Errorf("%w: the source is too long", ErrInvalid)
	}
	for _, p := range strings.Split(path, "|") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if _, ok := db.SourceFields[p]; ok {
			continue
		}
		rest, ok := strings.CutPrefix(p, db.CustomPrefix)
		if !ok {
			return fmt.Errorf("%w: %q is not a directory field; use one of %s, or custom_attributes.<name>", ErrInvalid, p, strings.Join(SourceFieldNames(), ", "))
		}
		for _, seg := range strings.Split(rest, ".") {
			if !customSegment.MatchString(seg) {
				return fmt.Errorf("%w: %q is not a valid custom attribute path (letters, digits, _ and - separated by dots)", ErrInvalid, p)
			}
		}
	}
	return nil
}

// SourceFieldNames lists the top-level directory fields, sorted.
func SourceFieldNames() []string {
	out := make([]string, 0, len(db.SourceFields))
	for k := range db.SourceFields {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// sources returns the effective mapping of an organisation: the defaults
// overlaid with what it stored.
func (s *Service) sources(ctx context.Context, orgID string) (map[string]string, error) {
	stored, err := s.DB.AttributeMappings(ctx, orgID)
	if err != nil {
		return nil, err
	}
	return overlay(stored), nil
}

func overlay(stored map[string]string) map[string]string {
	out := make(map[string]string, len(DefaultSources))
	for k, v := range DefaultSources {
		out[k] = v
	}
	for k, v := range stored {
		if _, ok := out[k]; ok && ValidSourcePath(v) == nil {
			out[k] = v
		}
	}
	return out
}

// Settings is the settings page of one organisation.
type Settings struct {
	OrganizationID string
	OrgName        string
	Organizations  []db.Organization // the chooser, for platform admins
	Sources        map[string]string
	Roles          []db.Role
	RoleMappings   []db.RoleMapping
	Groups         []db.OrgGroup
	DefaultRole    string
	InviteTTLDays  int
	CustomKeys     []string // custom attribute keys seen in this organisation
	Preview        MappingPreview
}

// MappingPreview shows mapped values for a few real people and how often
// each field would be empty.
type MappingPreview struct {
	Samples []db.MappedSample
	Empty   map[string]int
	Total   int
}

// EmptyWarning returns a warning when more than half of the people would
// get an empty value for a field, else "".
func (p MappingPreview) EmptyWarning(field string) string {
	n := p.Empty[field]
	if p.Total == 0 || n*2 <= p.Total {
		return ""
	}
	return fmt.Sprintf("%d%% of %s people have no value from this source", n*100/p.Total, thousands(p.Total))
}

// thousands formats 1200 as "1,200".
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// settingsOrg decides which organisation the actor edits: their own, or
// for a platform admin the one asked for (else the first known).
func (s *Service) settingsOrg(ctx context.Context, act Actor, want string) (string, []db.Organization, error) {
	if !act.Platform() {
		if want != "" && want != act.OrganizationID {
			return "", nil, ErrNotFound
		}
		return act.OrganizationID, nil, nil
	}
	orgs, err := s.DB.ListOrganizations(ctx)
	if err != nil {
		return "", nil, err
	}
	if want == "" {
		if len(orgs) > 0 {
			return orgs[0].ID, orgs, nil
		}
		return "", orgs, nil
	}
	for _, o := range orgs {
		if o.ID == want {
			return want, orgs, nil
		}
	}
	return "", nil, ErrNotFound
}

// Settings returns an organisation's onboarding settings with a live
// preview of the mapping. overrides (may be nil) replace stored sources for
// the preview only, so the page can show an edit before it is saved.
func (s *Service) Settings(ctx context.Context, act Actor, orgID string, overrides map[string]string) (Settings, error) {
	org, orgs, err := s.settingsOrg(ctx, act, orgID)
	if err != nil {
		return Settings{}, err
	}
	st := Settings{OrganizationID: org, Organizations: orgs}
	if org == "" {
		st.Sources = overlay(nil)
		return st, nil
	}
	if st.OrgName, err = s.OrganizationName(ctx, org); err != nil {
		return Settings{}, err
	}
	if st.Sources, err = s.sources(ctx, org); err != nil {
		return Settings{}, err
	}
	for k, v := range overrides {
		if _, ok := st.Sources[k]; ok {
			st.Sources[k] = v
		}
	}
	if st.Roles, err = s.DB.Roles(ctx, org); err != nil {
		return Settings{}, err
	}
	if st.RoleMappings, err = s.DB.RoleMappings(ctx, org); err != nil {
		return Settings{}, err
	}
	if st.Groups, err = s.DB.OrgGroups(ctx, org, 1000); err != nil {
		return Settings{}, err
	}
	os, err := s.DB.OrgSettingsFor(ctx, org)
	if err != nil {
		return Settings{}, err
	}
	st.DefaultRole, st.InviteTTLDays = os.DefaultRole, os.InviteTTLDays
	if st.InviteTTLDays == 0 {
		st.InviteTTLDays = int(s.inviteTTL().Hours() / 24)
	}
	if st.CustomKeys, err = s.DB.CustomAttributeKeys(ctx, org); err != nil {
		return Settings{}, err
	}
	// Preview only what is valid; an invalid edit is reported on save.
	pv := map[string]string{}
	for k, v := range st.Sources {
		if ValidSourcePath(v) == nil {
			pv[k] = v
		}
	}
	samples, empty, total, err := s.DB.MappingPreview(ctx, org, fieldKeys(), pv, 5)
	if err != nil {
		return Settings{}, err
	}
	st.Preview = MappingPreview{Samples: samples, Empty: empty, Total: total}
	return st, nil
}

// SettingsInput is an edit of the settings page.
type SettingsInput struct {
	Sources       map[string]string // account field → source path
	DefaultRole   string
	InviteTTLDays int
	RoleMappings  []db.RoleMapping // group → role; RoleSlug "" removes
}

// SaveSettings validates and stores an organisation's settings, audited.
func (s *Service) SaveSettings(ctx context.Context, act Actor, orgID string, in SettingsInput) error {
	org, _, err := s.settingsOrg(ctx, act, orgID)
	if err != nil {
		return err
	}
	if org == "" {
		return fmt.Errorf("%w: choose an organisation first", ErrInvalid)
	}
	attrs := map[string]string{}
	for _, f := range AccountFields {
		p, ok := in.Sources[f.Key]
		if !ok {
			continue
		}
		p = strings.TrimSpace(p)
		if err := ValidSourcePath(p); err != nil {
			return fmt.Errorf("%w (%s)", err, f.Label)
		}
		if f.Key == "email" && p == "" {
			return fmt.Errorf("%w: the email field needs a source", ErrInvalid)
		}
		if p != DefaultSources[f.Key] {
			attrs[f.Key] = p
		}
	}
	roles, err := s.DB.Roles(ctx, org)
	if err != nil {
		return err
	}
	known := map[string]bool{}
	for _, r := range roles {
		known[r.Slug] = true
	}
	if !known[in.DefaultRole] {
		return fmt.Errorf("%w: the default role %q does not exist", ErrInvalid, in.DefaultRole)
	}
	if in.InviteTTLDays < 1 || in.InviteTTLDays > 30 {
		return fmt.Errorf("%w: invitations must live between 1 and 30 days", ErrInvalid)
	}
	var maps []db.RoleMapping
	seen := map[string]bool{}
	for _, m := range in.RoleMappings {
		if m.GroupID == "" || m.RoleSlug == "" || seen[m.GroupID] {
			continue
		}
		if !known[m.RoleSlug] {
			return fmt.Errorf("%w: the role %q does not exist", ErrInvalid, m.RoleSlug)
		}
		gorg, err := s.DB.GroupOrganization(ctx, m.GroupID)
		if errors.Is(err, db.ErrNotFound) || (err == nil && gorg != org) {
			return fmt.Errorf("%w: the group %q is not a group of this organisation", ErrInvalid, m.GroupID)
		}
		if err != nil {
			return err
		}
		seen[m.GroupID] = true
		maps = append(maps, m)
	}
	detail := fmt.Sprintf("default role %s, invitations live %d days, %d custom field sources, %d group role mappings",
		in.DefaultRole, in.InviteTTLDays, len(attrs), len(maps))
	return s.DB.SaveSettings(ctx, db.OrgSettings{OrganizationID: org, DefaultRole: in.DefaultRole, InviteTTLDays: in.InviteTTLDays},
		attrs, maps, db.AuditEntry{At: s.now(), Actor: act.Email, OrganizationID: org, Action: "settings.updated", Target: org, Detail: detail})
}
