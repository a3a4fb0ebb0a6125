package onboarding

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"roster/internal/db"
)

// Buckets of the review: what the invite will do with each selected person.
const (
	BucketNew      = "new"             // an account and an invitation will be created
	BucketExisting = "existing"        // already has an account: skipped
	BucketPending  = "pending"         // has an account with a pending invitation: skipped
	BucketInactive = "inactive"        // not active in the directory: refused
	BucketNoEmail  = "no_email"        // no usable email: refused
	BucketDomain   = "domain"          // email domain not allowed for the organisation: refused
	BucketDupEmail = "duplicate_email" // same email as another selected person: refused
)

// BucketOrder is the order buckets are shown and counted in.
var BucketOrder = []string{BucketNew, BucketExisting, BucketPending, BucketInactive, BucketNoEmail, BucketDomain, BucketDupEmail}

// Skipped reports whether a bucket is "nothing to do" rather than a refusal.
func Skipped(bucket string) bool { return bucket == BucketExisting || bucket == BucketPending }

// ReviewPerson is one distinct selected person and what will happen to them.
type ReviewPerson struct {
	UserID         string
	DirectoryID    string
	OrganizationID string
	Name           string
	Email          string
	Attrs          map[string]string // mapped account fields
	Role           string            // the role the account will get
	Paths          int               // times selected (directly and via groups)
	Bucket         string
	Reason         string // why skipped or refused
	AccountID      int64
}

// Attr returns a mapped account field by key ("" when unknown).
func (p ReviewPerson) Attr(key string) string {
	return p.Attrs[key]
}

// Review is the whole preview of an invite.
type Review struct {
	Buckets map[string][]ReviewPerson // every person, by bucket, by name
	// Duplicates are the people selected more than once (directly and via
	// a group, or via several groups); each is still counted once.
	Duplicates []ReviewPerson
	Total      int                  // distinct people
	Gone       int                  // selected users no longer in the directory
	Roles      map[string][]db.Role // by organisation, for the per-person override
	OrgNames   map[string]string
}

// Count returns the number of people in a bucket.
func (r Review) Count(bucket string) int { return len(r.Buckets[bucket]) }

// orgRules is what the rules need to know about one organisation.
type orgRules struct {
	id          string
	name        string
	sources     map[string]string
	allowed     []string // allowed email domains; empty = all
	defaultRole string
	ttl         time.Duration
	roles       []db.Role
}

func (o orgRules) hasRole(slug string) bool {
	for _, r := range o.roles {
		if r.Slug == slug {
			return true
		}
	}
	return false
}

func (s *Service) loadOrgRules(ctx context.Context, orgID string) (orgRules, error) {
	r := orgRules{id: orgID, name: orgID}
	var err error
	if r.sources, err = s.sources(ctx, orgID); err != nil {
		return r, err
	}
	o, err := s.DB.OrganizationByID(ctx, orgID)
	switch {
	case errors.Is(err, db.ErrNotFound):
	case err != nil:
		return r, err
	default:
		r.name = o.Name
		for _, d := range o.AllowedDomains {
			if d = strings.ToLower(strings.TrimSpace(d)); d != "" {
				r.allowed = append(r.allowed, d)
			}
		}
	}
	st, err := s.DB.OrgSettingsFor(ctx, orgID)
	if err != nil {
		return r, err
	}
	r.defaultRole = st.DefaultRole
	r.ttl = s.inviteTTL()
	if st.InviteTTLDays > 0 {
		r.ttl = time.Duration(st.InviteTTLDays) * 24 * time.Hour
	}
	if r.roles, err = s.DB.Roles(ctx, orgID); err != nil {
		return r, err
	}
	if !r.hasRole(r.defaultRole) {
		r.defaultRole = "member"
	}
	return r, nil
}

// emailDomain returns the domain of a plausible address, or "".
func emailDomain(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at <= 0 || at == len(email)-1 || strings.ContainsAny(email, " \t\r\n<>,;") {
		return ""
	}
	return email[at+1:]
}

// classify puts each resolved person in a bucket. People arrive ordered by
// name, so when two selected people share an email the first one keeps it.
func classify(people []db.SelectedPerson, rules orgRules, now time.Time) []ReviewPerson {
	out := make([]ReviewPerson, 0, len(people))
	claimed := map[string]string{} // email → label of the person who keeps it
	for _, p := range people {
		email := p.Values["email"]
		rp := ReviewPerson{UserID: p.UserID, DirectoryID: p.DirectoryID, OrganizationID: p.OrganizationID,
			Name: p.Label, Email: email, Attrs: p.Values, Paths: p.Paths, AccountID: p.AccountID}
		rp.Role = p.MappedRole
		if rp.Role == "" {
			rp.Role = rules.defaultRole
		}
		domain := emailDomain(email)
		switch {
		case p.AccountID != 0 && p.InvitationStatus == db.InvitationPending && now.Before(p.InvitationExpiry):
			rp.Bucket = BucketPending
			rp.Reason = "invitation pending until " + p.InvitationExpiry.UTC().Format("2006-01-02 15:04 UTC")
		case p.AccountID != 0:
			rp.Bucket = BucketExisting
			rp.Reason = "already has an account (" + p.AccountState + ")"
		case p.State != "active":
			rp.Bucket = BucketInactive
			st := p.State
			if st == "" {
				st = "unknown"
			}
			rp.Reason = "directory state is " + st
		case email == "":
			rp.Bucket, rp.Reason = BucketNoEmail, "no email address in the directory"
		case domain == "":
			rp.Bucket, rp.Reason = BucketNoEmail, fmt.Sprintf("%q is not a usable email address", email)
		case len(rules.allowed) > 0 && !contains(rules.allowed, domain):
			rp.Bucket = BucketDomain
			rp.Reason = fmt.Sprintf("%s is not an allowed domain of %s (allowed: %s)", domain, rules.name, strings.Join(rules.allowed, ", "))
		case claimed[email] != "":
			rp.Bucket = BucketDupEmail
			rp.Reason = "same email as " + claimed[email]
		default:
			rp.Bucket = BucketNew
			claimed[email] = p.Label
		}
		out = append(out, rp)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// visibleOrgs narrows the selection's organisations to those the actor may
// act on.
func visibleOrgs(act Actor, orgs []string) []string {
	var out []string
	for _, o := range orgs {
		if act.CanSee(o) {
			out = append(out, o)
		}
	}
	return out
}

// Review resolves the actor's selection into buckets, re-reading the
// replica, the accounts and the settings.
func (s *Service) Review(ctx context.Context, act Actor) (Review, error) {
	rv := Review{Buckets: map[string][]ReviewPerson{}, Roles: map[string][]db.Role{}, OrgNames: map[string]string{}}
	sum, err := s.DB.SelectionSummary(ctx, act.AdminID)
	if err != nil {
		return rv, err
	}
	rv.Gone = sum.Gone
	now := s.now()
	for _, org := range visibleOrgs(act, sum.Organizations) {
		rules, err := s.loadOrgRules(ctx, org)
		if err != nil {
			return rv, err
		}
		rv.Roles[org], rv.OrgNames[org] = rules.roles, rules.name
		people, err := s.DB.ResolveSelection(ctx, act.AdminID, org, fieldKeys(), rules.sources, sum.People[org])
		if err != nil {
			return rv, err
		}
		for _, p := range classify(people, rules, now) {
			rv.Buckets[p.Bucket] = append(rv.Buckets[p.Bucket], p)
			if p.Paths > 1 {
				rv.Duplicates = append(rv.Duplicates, p)
			}
			rv.Total++
		}
	}
	return rv, nil
}
