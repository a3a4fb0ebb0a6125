package onboarding

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"roster/internal/db"
)

// AccountStates are the states an account can be in, in display order.
var AccountStates = []string{"invited", "active", "suspended", "deprovisioned"}

// Accounts lists the accounts the actor may see, one page.
func (s *Service) Accounts(ctx context.Context, act Actor, f db.AccountFilter) (list []db.Account, total int, hasOlder, hasNewer bool, err error) {
	f.OrganizationID, f.AllOrgs = act.OrganizationID, act.Platform()
	if f.Limit <= 0 || f.Limit > 100 {
		f.Limit = 50
	}
	if list, err = s.DB.ListAccounts(ctx, f); err != nil {
		return
	}
	if total, err = s.DB.CountAccounts(ctx, f); err != nil {
		return
	}
	if len(list) > 0 {
		pf := f
		pf.BeforeID, pf.AfterID = 0, 0
		if hasOlder, err = s.DB.AccountExists(ctx, pf, "<", list[len(list)-1].ID); err != nil {
			return
		}
		hasNewer, err = s.DB.AccountExists(ctx, pf, ">", list[0].ID)
	}
	return
}

// AccountFilterOptions are the choices of the accounts filters.
func (s *Service) AccountFilterOptions(ctx context.Context, act Actor) (dirs [][2]string, roles []db.Role, err error) {
	if dirs, err = s.DB.AccountDirectories(ctx, act.OrganizationID, act.Platform()); err != nil {
		return
	}
	roles, err = s.DB.Roles(ctx, act.OrganizationID)
	return
}

// StreamAccounts calls fn for every account the filter selects that the
// actor may see, without loading them all.
func (s *Service) StreamAccounts(ctx context.Context, act Actor, f db.AccountFilter, fn func(db.Account) error) error {
	f.OrganizationID, f.AllOrgs = act.OrganizationID, act.Platform()
	return s.DB.StreamAccounts(ctx, f, fn)
}

// AccountDetail is one account with its invitation and history.
type AccountDetail struct {
	Account    db.Account
	Invitation *db.Invitation // nil when it has none
	History    []db.HistoryEntry
}

// Account returns an account the actor may see (ErrNotFound otherwise).
func (s *Service) Account(ctx context.Context, act Actor, id int64) (AccountDetail, error) {
	a, err := s.DB.AccountByID(ctx, id)
	if errors.Is(err, db.ErrNotFound) || (err == nil && !act.CanSee(a.OrganizationID)) {
		return AccountDetail{}, ErrNotFound
	}
	if err != nil {
		return AccountDetail{}, err
	}
	d := AccountDetail{Account: a}
	inv, err := s.DB.InvitationByAccount(ctx, id, s.now())
	switch {
	case err == nil:
		d.Invitation = &inv
	case !errors.Is(err, db.ErrNotFound):
		return d, err
	}
	if d.History, err = s.DB.AccountHistory(ctx, id, 200); err != nil {
		return d, err
	}
	return d, nil
}

// invitesCreated counts invitation emails created (invites and resends)
// since the process started.
var invitesCreated = prometheus.NewCounter(prometheus.CounterOpts{
	Name: "roster_invites_created_total",
	Help: "Invitations created (including resends) since the process started.",
})

// InviteCollectors returns the account and invitation metrics for the
// registry: roster_accounts{state} and roster_invitations{status}, computed
// from the database at scrape time, and roster_invites_created_total.
func (s *Service) InviteCollectors() []prometheus.Collector {
	return []prometheus.Collector{&inviteGauges{
		s:           s,
		accounts:    prometheus.NewDesc("roster_accounts", "Accounts by state.", []string{"state"}, nil),
		invitations: prometheus.NewDesc("roster_invitations", "Invitations by status (expired: pending past expiry).", []string{"status"}, nil),
	}, invitesCreated}
}

type inviteGauges struct {
	s                     *Service
	accounts, invitations *prometheus.Desc
}

func (g *inviteGauges) Describe(ch chan<- *prometheus.Desc) {
	ch <- g.accounts
	ch <- g.invitations
}

func (g *inviteGauges) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if counts, err := g.s.DB.AccountStateCounts(ctx); err != nil {
		ch <- prometheus.NewInvalidMetric(g.accounts, err)
	} else {
		for st, n := range counts {
			ch <- prometheus.MustNewConstMetric(g.accounts, prometheus.GaugeValue, float64(n), st)
		}
	}
	if counts, err := g.s.DB.InvitationStatusCounts(ctx, g.s.now()); err != nil {
		ch <- prometheus.NewInvalidMetric(g.invitations, err)
	} else {
		for st, n := range counts {
			ch <- prometheus.MustNewConstMetric(g.invitations, prometheus.GaugeValue, float64(n), st)
		}
	}
}

// Types the web layer uses without importing internal/db: the filters it
// fills in (the service overwrites the tenancy fields) and the rows it maps
// to view models.
type (
	// Account is an onboarded person.
	Account = db.Account
	// Invitation is an invitation with its account.
	Invitation = db.Invitation
	// AccountChange is one recorded change of an account.
	AccountChange = db.HistoryEntry
	// Role is a role an account can have.
	Role = db.Role
	// RoleMapping gives a group's members a role.
	RoleMapping = db.RoleMapping
	// AccountFilter selects accounts (search, filters, keyset paging).
	AccountFilter = db.AccountFilter
	// InvitationFilter selects invitations (status, search, keyset paging).
	InvitationFilter = db.InvitationFilter
)

// Invitation statuses, as shown and filtered.
const (
	InvitationPending  = db.InvitationPending
	InvitationAccepted = db.InvitationAccepted
	InvitationRevoked  = db.InvitationRevoked
	InvitationExpired  = db.InvitationExpired
)
