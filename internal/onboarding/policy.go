package onboarding

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"roster/internal/db"
)

// DeprovisionActions are the choices of what a leaver's account gets, in
// display order, with their labels.
var DeprovisionActions = []struct{ Key, Label, Hint string }{
	{db.DeprovisionSuspend, "Suspend now", "Sessions end and pending invitations are revoked at once."},
	{db.DeprovisionSuspendGrace, "Suspend after a grace period", "The account stays as it is for the grace period, then is suspended unless the person is active again."},
	{db.DeprovisionDelete, "Delete", "The account is switched off for good: sessions end, the password is removed. Its history is kept."},
	{db.DeprovisionFlag, "Flag for review", "Nothing changes until an admin approves the suspension in the review queue."},
}

// ReactivationActions are the choices of what a re-hire's account gets.
var ReactivationActions = []struct{ Key, Label, Hint string }{
	{db.ReactivateRestore, "Restore", "The account returns to its state before the suspension (invited accounts get a fresh invitation)."},
	{db.ReactivateFlag, "Flag for review", "An admin decides in the review queue."},
	{db.ReactivateNone, "Leave suspended", "The account stays suspended; the history notes the re-hire."},
}

func validKey(list []struct{ Key, Label, Hint string }, k string) bool {
	for _, v := range list {
		if v.Key == k {
			return true
		}
	}
	return false
}

// PolicySettings is the policy page of one organisation.
type PolicySettings struct {
	OrganizationID string
	OrgName        string
	Organizations  []db.Organization // the chooser, for platform admins
	Policy         db.Policy
	Groups         []db.OrgGroup
	AutoInvite     map[string]bool // group id → rule on
}

// Policies returns an organisation's policy with the groups it can
// auto-invite from.
func (s *Service) Policies(ctx context.Context, act Actor, orgID string) (PolicySettings, error) {
	org, orgs, err := s.settingsOrg(ctx, act, orgID)
	if err != nil {
		return PolicySettings{}, err
	}
	ps := PolicySettings{OrganizationID: org, Organizations: orgs, Policy: db.DefaultPolicy(org), AutoInvite: map[string]bool{}}
	if org == "" {
		return ps, nil
	}
	if ps.OrgName, err = s.OrganizationName(ctx, org); err != nil {
		return ps, err
	}
	if ps.Policy, err = s.DB.PolicyFor(ctx, org); err != nil {
		return ps, err
	}
	if ps.Groups, err = s.DB.OrgGroups(ctx, org, 1000); err != nil {
		return ps, err
	}
	auto, err := s.DB.AutoInviteGroups(ctx, org)
	if err != nil {
		return ps, err
	}
	for _, g := range auto {
		ps.AutoInvite[g] = true
	}
	return ps, nil
}

// PolicyInput is an edit of the policy form.
type PolicyInput struct {
	Deprovision      string
	GraceDays        int
	Reactivation     string
	AutoInviteGroups []string
}

// MaxAutoInviteGroups bounds the auto-invite rules of one organisation.
const MaxAutoInviteGroups = 200

// SavePolicy validates and stores an organisation's policy, audited.
func (s *Service) SavePolicy(ctx context.Context, act Actor, orgID string, in PolicyInput) error {
	org, _, err := s.settingsOrg(ctx, act, orgID)
	if err != nil {
		return err
	}
	if org == "" {
		return fmt.Errorf("%w: choose an organisation first", ErrInvalid)
	}
	if !validKey(DeprovisionActions, in.Deprovision) {
		return fmt.Errorf("%w: choose what happens to the account of someone who leaves", ErrInvalid)
	}
	if !validKey(ReactivationActions, in.Reactivation) {
		return fmt.Errorf("%w: choose what happens when someone is active again", ErrInvalid)
	}
	if in.GraceDays < 1 || in.GraceDays > 90 {
		return fmt.Errorf("%w: the grace period must be between 1 and 90 days", ErrInvalid)
	}
	if len(in.AutoInviteGroups) > MaxAutoInviteGroups {
		return fmt.Errorf("%w: at most %d auto-invite groups", ErrInvalid, MaxAutoInviteGroups)
	}
	seen := map[string]bool{}
	var groups []string
	for _, g := range in.AutoInviteGroups {
		g = strings.TrimSpace(g)
		if g == "" || seen[g] {
			continue
		}
		gorg, err := s.DB.GroupOrganization(ctx, g)
		if errors.Is(err, db.ErrNotFound) || (err == nil && gorg != org) {
			return fmt.Errorf("%w: the group %q is not a group of this organisation", ErrInvalid, g)
		}
		if err != nil {
			return err
		}
		seen[g] = true
		groups = append(groups, g)
	}
	now := s.now()
	p := db.Policy{OrganizationID: org, Deprovision: in.Deprovision, GraceDays: in.GraceDays, Reactivation: in.Reactivation,
		UpdatedBy: act.Email, UpdatedAt: now}
	detail := fmt.Sprintf("leavers: %s", in.Deprovision)
	if in.Deprovision == db.DeprovisionSuspendGrace {
		detail += fmt.Sprintf(" (%d days)", in.GraceDays)
	}
	detail += fmt.Sprintf(", re-hires: %s, %d auto-invite groups", in.Reactivation, len(groups))
	return s.DB.SavePolicy(ctx, p, groups, db.AuditEntry{At: now, Actor: act.Email, OrganizationID: org,
		Action: "policy.updated", Target: org, Detail: detail})
}

// PolicyInterval is how often RunPolicies looks for grace periods that
// ended.
const PolicyInterval = 30 * time.Second

// RunPolicies executes due scheduled suspensions now and every
// PolicyInterval until ctx is cancelled; it returns nil then. Errors are
// logged and retried on the next round.
func (s *Service) RunPolicies(ctx context.Context) error {
	t := time.NewTicker(PolicyInterval)
	defer t.Stop()
	for {
		if n, err := s.ApplyDuePolicies(ctx); err != nil && ctx.Err() == nil {
			s.log().Warn("policies: scheduled suspensions", "err", err)
		} else if n > 0 {
			s.log().Info("policies: grace periods ended", "suspended", n)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// ApplyDuePolicies suspends the accounts whose grace period ended (by
// Service.Now) and returns how many it suspended. Each one is its own
// transaction; a person active again in the directory meanwhile is left
// alone (the re-hire normally cancelled the action already).
func (s *Service) ApplyDuePolicies(ctx context.Context) (int, error) {
	if err := s.sweepDeletedDirectories(ctx); err != nil {
		return 0, err
	}
	done := 0
	for {
		due, err := s.DB.DueActions(ctx, s.now(), 100)
		if err != nil {
			return done, err
		}
		if len(due) == 0 {
			return done, nil
		}
		for _, a := range due {
			suspended, err := s.runScheduled(ctx, a)
			if err != nil {
				return done, err
			}
			if suspended {
				done++
			}
		}
	}
}

// sweepDeletedDirectories suspends and flags the accounts of directories
// the sync marked deleted without a dsync.deleted event reaching the hook
// (the directory disappeared from the listing): never a silent deletion,
// whichever way the news came.
func (s *Service) sweepDeletedDirectories(ctx context.Context) error {
	dirs, err := s.DB.DeletedDirectoriesWithAccounts(ctx)
	if err != nil {
		return err
	}
	for _, d := range dirs {
		err := s.DB.Tx(ctx, func(tx db.Tx) error {
			return s.newEffector(ctx, tx, "", "system", SourcePolicy).directoryDeleted(d.ID, firstNonEmpty(d.Name, d.ID))
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) runScheduled(ctx context.Context, act db.ScheduledAction) (bool, error) {
	suspended := false
	err := s.DB.Tx(ctx, func(tx db.Tx) error {
		e := s.newEffector(ctx, tx, act.EventID, "system", SourcePolicy)
		acct, err := db.AccountByIDTx(ctx, tx, act.AccountID)
		if err != nil {
			return err
		}
		status := "done"
		if acct.State == "suspended" || acct.State == "deprovisioned" {
			status = "cancelled"
		} else if u, err := db.ReplicaUserTx(ctx, tx, acct.DirectoryUserID); err == nil && u.DeletedAt.IsZero() && u.State == "active" {
			status = "cancelled"
		} else if err != nil && !errors.Is(err, db.ErrNotFound) {
			return err
		}
		ok, err := db.FinishActionTx(ctx, tx, act.ID, status, e.now)
		if err != nil || !ok || status != "done" {
			return err
		}
		days := int(act.DueAt.Sub(act.CreatedAt).Hours()/24 + 0.5)
		if err := e.suspend(acct, fmt.Sprintf("grace period of %d days ended", days)); err != nil {
			return err
		}
		suspended = true
		return nil
	})
	return suspended, err
}

// PolicyCollectors returns the account sync metrics, read from the
// database at scrape time so that they count only committed effects:
// roster_account_changes_total{kind}, roster_deprovisioned_total and
// roster_review_queue_size.
func (s *Service) PolicyCollectors() []prometheus.Collector {
	return []prometheus.Collector{&policyMetrics{
		s:       s,
		changes: prometheus.NewDesc("roster_account_changes_total", "Changes made to accounts by directory events, policies and review decisions, by kind.", []string{"kind"}, nil),
		deprov:  prometheus.NewDesc("roster_deprovisioned_total", "Accounts suspended or deleted because their person left the directory.", nil, nil),
		queue:   prometheus.NewDesc("roster_review_queue_size", "Open items in the review queue.", nil, nil),
	}}
}

type policyMetrics struct {
	s                      *Service
	changes, deprov, queue *prometheus.Desc
}

func (m *policyMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.changes
	ch <- m.deprov
	ch <- m.queue
}

func (m *policyMetrics) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if counts, err := m.s.DB.EffectCounts(ctx); err != nil {
		ch <- prometheus.NewInvalidMetric(m.changes, err)
		ch <- prometheus.NewInvalidMetric(m.deprov, err)
	} else {
		for k, n := range counts {
			ch <- prometheus.MustNewConstMetric(m.changes, prometheus.CounterValue, float64(n), k)
		}
		ch <- prometheus.MustNewConstMetric(m.deprov, prometheus.CounterValue, float64(counts["suspend"]+counts["delete"]))
	}
	if open, err := m.s.DB.OpenReviewCount(ctx); err != nil {
		ch <- prometheus.NewInvalidMetric(m.queue, err)
	} else {
		ch <- prometheus.MustNewConstMetric(m.queue, prometheus.GaugeValue, float64(open[db.ReviewFlag]+open[db.ReviewConflict]))
	}
}
