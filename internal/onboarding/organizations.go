package onboarding

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"roster/internal/db"
	"roster/internal/dirsync"
)

// PortalLinkTTL is how long a WorkOS Admin Portal link works.
const PortalLinkTTL = 5 * time.Minute

// OrgDetail is an organisation with its directories, setup link and admins.
type OrgDetail struct {
	Org         db.Organization
	Directories []db.OrgDirectory
	SetupLink   *db.OrgSetupLink // nil when none was made
	Admins      []db.Admin
}

// Connected reports whether the organisation has a live directory.
func (o OrgDetail) Connected() bool {
	for _, d := range o.Directories {
		if !d.Deleted {
			return true
		}
	}
	return false
}

var domainRE = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)

// ParseDomains reads a list of email domains separated by commas, spaces
// or new lines; it refuses anything that is not a domain.
func ParseDomains(s string) ([]string, error) {
	var out []string
	for _, f := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' || r == ';' }) {
		f = strings.TrimPrefix(strings.TrimSpace(f), "@")
		if f == "" {
			continue
		}
		if !domainRE.MatchString(f) {
			return nil, fmt.Errorf("%w: %q is not a domain such as example.com", ErrInvalid, f)
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out, nil
}

// workosProblem turns a WorkOS error into words an admin can act on.
func workosProblem(err error) error {
	var ae *dirsync.APIError
	switch {
	case errors.Is(err, dirsync.ErrValidation):
		msg := "WorkOS refused the request"
		if errors.As(err, &ae) && ae.Message != "" {
			msg += ": " + ae.Message
			for _, f := range ae.FieldErrors {
				msg += fmt.Sprintf(" (%s: %s)", f.Field, f.Code)
			}
		}
		return fmt.Errorf("%w: %s", ErrInvalid, msg)
	case errors.Is(err, dirsync.ErrNotFound):
		return ErrNotFound
	case errors.Is(err, dirsync.ErrUnauthorized):
		return fmt.Errorf("%w: WorkOS rejected the API key; check WORKOS_API_KEY", ErrUnavailable)
	case errors.Is(err, dirsync.ErrRateLimited):
		return fmt.Errorf("%w: WorkOS is rate limiting Roster; try again in a minute", ErrUnavailable)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	default:
		return fmt.Errorf("%w: WorkOS is unavailable right now (%v); try again in a moment", ErrUnavailable, err)
	}
}

func verifiedDomains(o dirsync.Organization) []string {
	var out []string
	for _, d := range o.Domains {
		if d.State == "" || d.State == "verified" || d.State == "legacy_verified" {
			out = append(out, strings.ToLower(d.Domain))
		}
	}
	return out
}

// SyncOrganizations copies every WorkOS organisation (name, verified
// domains) into Roster, so that pages and the invite preview never wait on
// WorkOS.
func (s *Service) SyncOrganizations(ctx context.Context) error {
	if s.WorkOS == nil {
		return nil
	}
	for o, err := range s.WorkOS.AllOrganizations(ctx, dirsync.ListOrganizationsOptions{}) {
		if err != nil {
			return workosProblem(err)
		}
		if err := s.DB.SaveOrganization(ctx, db.Organization{ID: o.ID, Name: o.Name, AllowedDomains: verifiedDomains(o)}, db.AuditEntry{}); err != nil {
			return err
		}
	}
	return nil
}

// RunOrganizations keeps the organisations current: at start, then every
// interval, until ctx ends.
func (s *Service) RunOrganizations(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := s.SyncOrganizations(ctx); err != nil && ctx.Err() == nil {
			s.log().Warn("sync organisations", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Organizations lists every organisation with its counts (platform admins
// only; others get ErrNotFound).
func (s *Service) Organizations(ctx context.Context, act Actor) ([]db.OrgSummary, error) {
	if !act.Platform() {
		return nil, ErrNotFound
	}
	return s.DB.ListOrgSummaries(ctx)
}

// CreateOrganization creates the organisation in WorkOS (its domains
// declared verified: they are the email domains Roster may invite) and in
// Roster. Platform admins only.
func (s *Service) CreateOrganization(ctx context.Context, act Actor, name, domains string) (string, error) {
	if !act.Platform() {
		return "", ErrNotFound
	}
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 200 {
		return "", fmt.Errorf("%w: give the organisation a name (up to 200 characters)", ErrInvalid)
	}
	ds, err := ParseDomains(domains)
	if err != nil {
		return "", err
	}
	if s.WorkOS == nil {
		return "", fmt.Errorf("%w: no WorkOS connection is configured", ErrUnavailable)
	}
	in := dirsync.CreateOrganization{Name: name}
	for _, d := range ds {
		in.DomainData = append(in.DomainData, dirsync.DomainData{Domain: d, State: "verified"})
	}
	o, err := s.WorkOS.CreateOrganization(ctx, in)
	if err != nil {
		return "", workosProblem(err)
	}
	err = s.DB.SaveOrganization(ctx, db.Organization{ID: o.ID, Name: o.Name, AllowedDomains: ds},
		db.AuditEntry{Actor: act.Email, OrganizationID: o.ID, Action: "organization.created", Target: o.ID, Detail: o.Name + " " + strings.Join(ds, ", ")})
	return o.ID, err
}

// Organization returns one organisation's page data; ErrNotFound when it
// does not exist or the actor may not see it.
func (s *Service) Organization(ctx context.Context, act Actor, id string) (OrgDetail, error) {
	if !act.CanSee(id) {
		return OrgDetail{}, ErrNotFound
	}
	o, err := s.DB.OrganizationByID(ctx, id)
	if errors.Is(err, db.ErrNotFound) {
		return OrgDetail{}, ErrNotFound
	}
	if err != nil {
		return OrgDetail{}, err
	}
	det := OrgDetail{Org: o}
	if det.Directories, err = s.DB.OrgDirectories(ctx, id); err != nil {
		return OrgDetail{}, err
	}
	if l, err := s.DB.OrgSetupLinkFor(ctx, id); err == nil {
		det.SetupLink = &l
	} else if !errors.Is(err, db.ErrNotFound) {
		return OrgDetail{}, err
	}
	if det.Admins, err = s.DB.ListAdmins(ctx, id, false); err != nil {
		return OrgDetail{}, err
	}
	return det, nil
}

// CreateSetupLink asks WorkOS for an Admin Portal link with which the
// organisation's IT admin connects their directory; it lives 5 minutes.
// After setup, WorkOS sends the IT admin back to the organisation's page.
func (s *Service) CreateSetupLink(ctx context.Context, act Actor, orgID string) (db.OrgSetupLink, error) {
	if !act.CanSee(orgID) {
		return db.OrgSetupLink{}, ErrNotFound
	}
	if _, err := s.DB.OrganizationByID(ctx, orgID); errors.Is(err, db.ErrNotFound) {
		return db.OrgSetupLink{}, ErrNotFound
	} else if err != nil {
		return db.OrgSetupLink{}, err
	}
	if s.WorkOS == nil {
		return db.OrgSetupLink{}, fmt.Errorf("%w: no WorkOS connection is configured", ErrUnavailable)
	}
	back := s.BaseURL + "/organizations/" + url.PathEscape(orgID)
	link, err := s.WorkOS.GenerateLink(ctx, dirsync.GenerateLink{Organization: orgID, Intent: dirsync.IntentDsync, ReturnURL: back, SuccessURL: back})
	if err != nil {
		return db.OrgSetupLink{}, workosProblem(err)
	}
	now := s.now()
	l := db.OrgSetupLink{OrganizationID: orgID, Link: link, CreatedBy: act.Email, CreatedAt: now, ExpiresAt: now.Add(PortalLinkTTL)}
	err = s.DB.SaveOrgSetupLink(ctx, l, db.AuditEntry{Actor: act.Email, OrganizationID: orgID, Action: "organization.setup_link_generated", Target: orgID})
	return l, err
}

// InviteOrgAdmin creates a one-time link that makes an admin of the
// organisation (platform admins only), and queues an email with it.
func (s *Service) InviteOrgAdmin(ctx context.Context, auth *Auth, act Actor, orgID, email string) (link string, expires time.Time, err error) {
	if !act.Platform() {
		return "", time.Time{}, ErrNotFound
	}
	o, err := s.DB.OrganizationByID(ctx, orgID)
	if errors.Is(err, db.ErrNotFound) {
		return "", time.Time{}, ErrNotFound
	}
	if err != nil {
		return "", time.Time{}, err
	}
	email, err = validEmail(email)
	if err != nil {
		return "", time.Time{}, err
	}
	if _, err := s.DB.AdminByEmail(ctx, email); err == nil {
		return "", time.Time{}, fmt.Errorf("%w: %s is already an admin", ErrInvalid, email)
	}
	tok, expires, err := auth.CreateSetupLink(ctx, act, email, orgID)
	if err != nil {
		return "", time.Time{}, err
	}
	link = s.BaseURL + "/setup/" + tok
	body := fmt.Sprintf("%s invited you to administer %s in Roster.\n\nCreate your admin account: %s\n\nThe link works until %s.\n",
		act.Email, o.Name, link, expires.UTC().Format("2006-01-02 15:04 UTC"))
	err = s.DB.Tx(ctx, func(tx db.Tx) error {
		return db.EnqueueEmail(ctx, tx, db.OutboxEmail{To: email, Subject: "You are invited to administer " + o.Name + " in Roster",
			Text: body, Kind: "admin_invitation", Ref: email, OrganizationID: orgID})
	})
	return link, expires, err
}
