package onboarding

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"roster/internal/db"
	"roster/internal/dirsync"
)

// Effect describes one thing a directory change did (or, in the simulator,
// would do) to an account.
type Effect struct {
	AccountID int64
	Account   string // the account's email, or the person's name when there is no account
	Kind      string // update | suspend | schedule | delete | restore | role | flag | conflict | invite | refused | cancel | skipped | note
	Field     string
	Old, New  string
	Note      string
}

// History sources written by the account sync, besides the invite
// engineer's invite | directory | admin | invitee.
const (
	SourceDirectory = "directory" // an event changed the account
	SourcePolicy    = "policy"    // the grace-period worker acted
	SourceSkipped   = "skipped"   // a duplicate or stale event changed nothing
	SourceReview    = "review"    // an admin's decision in the review queue
)

// effector applies directory changes to accounts inside one transaction:
// each change writes the account, its history lines (with the event id),
// an audit entry and an effects row, so that all of it commits or rolls
// back with the replica change and the events cursor.
type effector struct {
	s       *Service
	ctx     context.Context
	tx      db.Tx
	now     time.Time
	eventID string
	actor   string // audit actor: "sync", "system" or an admin's email
	source  string // history source
	out     []Effect
	rules   map[string]*effectRules
	// noAccount holds the directory users found without an account in this
	// transaction (nil: not remembered). Only the effects create accounts
	// inside it (autoInvite), and they forget the user when they do.
	noAccount map[string]bool
}

type effectRules struct {
	orgRules
	policy db.Policy
}

func (s *Service) newEffector(ctx context.Context, tx db.Tx, eventID, actor, source string) *effector {
	return &effector{s: s, ctx: ctx, tx: tx, now: s.now(), eventID: eventID, actor: actor, source: source, rules: map[string]*effectRules{}}
}

// AccountEffects returns the hook the sync calls for every event it reads,
// inside the transaction that applies the event to the replica and moves
// the cursor: main assigns it to Syncer.OnEvent. An error rolls the whole
// page back (it is retried on the next poll), so nothing is applied twice
// and nothing is lost.
//
// An organisation's rules (mappings, roles, settings, policy) are read once
// per transaction, an event page, instead of once per event: nothing in the
// transaction changes them (effects write accounts, never rules, and no
// other write can run while the writer is in it). Reading them for every
// event of an onboarded person was 0.6 of 15.5 s of the bench's event sync.
func (s *Service) AccountEffects() func(ctx context.Context, tx db.Tx, ev dirsync.Event, decoded any, outcome string) error {
	var mu sync.Mutex
	var rulesTx db.Tx // the transaction whose rules are in rules
	var rules map[string]*effectRules
	var noAccount map[string]bool
	return func(ctx context.Context, tx db.Tx, ev dirsync.Event, decoded any, outcome string) error {
		if err := effectFaultOf("event " + ev.ID); err != nil {
			return err
		}
		e := s.newEffector(ctx, tx, ev.ID, "sync", SourceDirectory)
		mu.Lock()
		if tx != rulesTx {
			rulesTx, rules, noAccount = tx, e.rules, map[string]bool{}
		}
		e.rules, e.noAccount = rules, noAccount
		mu.Unlock()
		if err := e.event(ev, decoded, outcome); err != nil {
			return fmt.Errorf("account effects of %s %s: %w", ev.Event, ev.ID, err)
		}
		return nil
	}
}

// effectFault, when set (tests only), can fail the hook for an event, to
// prove that a failure mid-page commits nothing.
var effectFault func(stage string) error

func effectFaultOf(stage string) error {
	if effectFault == nil {
		return nil
	}
	return effectFault(stage)
}

// event dispatches one event by outcome and type.
func (e *effector) event(ev dirsync.Event, decoded any, outcome string) error {
	switch outcome {
	case db.OutcomeDuplicate, db.OutcomeStale:
		return e.skipped(ev, decoded, outcome)
	case db.OutcomeFailed:
		return nil
	}
	switch v := decoded.(type) {
	case *dirsync.UserEvent:
		if ev.Event == "dsync.user.deleted" {
			return e.userGone(v.ID, "deleted in the directory")
		}
		var prev *db.DirectoryUser
		if len(v.PreviousAttributes) > 0 {
			p := previousUser(v.User, v.PreviousAttributes)
			prev = &p
		}
		return e.syncUser(v.ID, prev)
	case *dirsync.MembershipEvent:
		name := firstNonEmpty(v.Group.Name, v.Group.ID)
		if ev.Event == "dsync.group.user_removed" {
			return e.recomputeRole(v.User.ID, "removed from group "+name)
		}
		if err := e.recomputeRole(v.User.ID, "added to group "+name); err != nil {
			return err
		}
		return e.autoInvite(v.User.ID, v.Group.ID, name)
	case *dirsync.GroupEvent:
		if ev.Event == "dsync.group.deleted" {
			return e.groupDeleted(v.OrganizationID, v.ID, firstNonEmpty(v.Name, v.ID))
		}
	case *dirsync.DirectoryEvent:
		if ev.Event == "dsync.deleted" {
			return e.directoryDeleted(v.ID, firstNonEmpty(v.Name, v.ID))
		}
	}
	return nil
}

// account is the account onboarded from a directory user (db.ErrNotFound
// when there is none), remembering a miss for the rest of the transaction:
// a re-org's three events about one person asked three times.
func (e *effector) account(userID string) (db.Account, error) {
	if e.noAccount[userID] {
		return db.Account{}, db.ErrNotFound
	}
	a, err := db.AccountByDirectoryUserTx(e.ctx, e.tx, userID)
	if errors.Is(err, db.ErrNotFound) && e.noAccount != nil {
		e.noAccount[userID] = true
	}
	return a, err
}

// previousUser rebuilds the user as it was before an update from the new
// user and previous_attributes (top-level keys; custom_attributes holds the
// old values of changed keys, null for keys that did not exist).
func previousUser(u dirsync.User, prev map[string]any) db.DirectoryUser {
	old := u
	str := func(v any) string {
		if s, ok := v.(string); ok {
			return s
		}
		return ""
	}
	for k, v := range prev {
		switch k {
		case "first_name":
			old.FirstName = str(v)
		case "last_name":
			old.LastName = str(v)
		case "name":
			old.Name = str(v)
		case "email":
			old.Email = str(v)
		case "username":
			old.Username = str(v)
		case "job_title":
			old.JobTitle = str(v)
		case "state":
			old.State = str(v)
		case "custom_attributes":
			m, ok := v.(map[string]any)
			if !ok {
				continue
			}
			ca := make(map[string]any, len(u.CustomAttributes))
			for k2, v2 := range u.CustomAttributes {
				ca[k2] = v2
			}
			for k2, v2 := range m {
				if v2 == nil {
					delete(ca, k2)
				} else {
					ca[k2] = v2
				}
			}
			old.CustomAttributes = ca
		}
	}
	return userRow(old)
}

// rulesFor loads (once per effector) what the rules need to know about an
// organisation: mapping sources, roles, domains and its policy.
func (e *effector) rulesFor(org string) (*effectRules, error) {
	if r, ok := e.rules[org]; ok {
		return r, nil
	}
	or, err := e.s.loadOrgRules(e.ctx, org)
	if err != nil {
		return nil, err
	}
	p, err := db.PolicyTx(e.ctx, e.tx, org)
	if err != nil {
		return nil, err
	}
	r := &effectRules{orgRules: or, policy: p}
	e.rules[org] = r
	return r, nil
}

// note records one effect: a history line (when it concerns an account
// field), an effects row for the metrics, and the description.
func (e *effector) note(a db.Account, kind, field, old, new, text string) error {
	if a.ID > 0 && field != "" {
		if err := db.InsertHistoryTx(e.ctx, e.tx, db.HistoryEntry{AccountID: a.ID, At: e.now, Field: field, OldValue: old,
			NewValue: new, EventID: e.eventID, Source: e.source, Actor: e.actor}); err != nil {
			return err
		}
	}
	if err := db.InsertEffectTx(e.ctx, e.tx, a.OrganizationID, a.ID, e.eventID, kind, e.now); err != nil {
		return err
	}
	e.out = append(e.out, Effect{AccountID: a.ID, Account: a.Email, Kind: kind, Field: field, Old: old, New: new, Note: text})
	return nil
}

func (e *effector) audit(org, action, target, detail string) error {
	if e.eventID != "" && !strings.Contains(detail, e.eventID) {
		if detail != "" {
			detail += "; "
		}
		detail += "event " + e.eventID
	}
	return db.InsertAudit(e.ctx, e.tx, db.AuditEntry{At: e.now, Actor: e.actor, OrganizationID: org, Action: action, Target: target, Detail: detail})
}

// skipped shows a duplicate or stale event on the account it concerns: it
// changed nothing, and the account's history says so (once per event).
func (e *effector) skipped(ev dirsync.Event, decoded any, outcome string) error {
	var userID string
	switch v := decoded.(type) {
	case *dirsync.UserEvent:
		userID = v.ID
	case *dirsync.MembershipEvent:
		userID = v.User.ID
	}
	if userID == "" {
		return nil
	}
	a, err := e.account(userID)
	if errors.Is(err, db.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if seen, err := db.HistoryExistsTx(e.ctx, e.tx, a.ID, ev.ID, SourceSkipped); err != nil || seen {
		return err
	}
	why := "already applied"
	if outcome == db.OutcomeStale {
		why = "older than the directory data Roster already holds"
	}
	src := e.source
	e.source = SourceSkipped
	defer func() { e.source = src }()
	return e.note(a, "skipped", "event", "", outcome+": "+ev.Event+" ("+why+")", "skipped: "+why)
}

// syncUser brings a directory user's account in step with the replica:
// mapped fields, then the state by policy, then the role.
func (e *effector) syncUser(userID string, prev *db.DirectoryUser) error {
	a, err := e.account(userID)
	if errors.Is(err, db.ErrNotFound) {
		return nil // nobody onboarded from this user
	}
	if err != nil {
		return err
	}
	r, err := e.rulesFor(a.OrganizationID)
	if err != nil {
		return err
	}
	m, err := db.MapUserTx(e.ctx, e.tx, userID, fieldKeys(), r.sources)
	if err != nil {
		return err
	}
	if m.Deleted {
		return e.userGone(userID, "deleted in the directory")
	}
	if a.State != "deprovisioned" {
		if err := e.updateFields(&a, r, m, prev); err != nil {
			return err
		}
	}
	if m.State == "active" {
		if err := e.reactivate(a, r); err != nil {
			return err
		}
	} else {
		if err := e.deprovision(a, r, "became "+firstNonEmpty(m.State, "inactive")+" in the directory"); err != nil {
			return err
		}
	}
	return nil
}

// updateFields writes the mapped fields that changed. The old value in
// the history comes from previous_attributes when the event carries the
// field's previous value, else from the account.
func (e *effector) updateFields(a *db.Account, r *effectRules, m db.MappedUser, prev *db.DirectoryUser) error {
	var before map[string]string
	if prev != nil {
		var err error
		if before, err = db.MapRowTx(e.ctx, e.tx, *prev, fieldKeys(), r.sources); err != nil {
			return err
		}
	}
	set := map[string]string{}
	var changed []string
	for _, f := range fieldKeys() {
		nv, cur := m.Values[f], a.AccountFieldValue(f)
		if nv == cur {
			continue
		}
		if f == "email" {
			if nv == "" || emailDomain(nv) == "" {
				continue // never blank an account's email; the directory lost it
			}
			other, err := db.AccountByEmailTx(e.ctx, e.tx, a.OrganizationID, nv)
			if err == nil && other.ID != a.ID {
				if err := e.conflict(*a, db.ReviewActionSetEmail, nv, "email:"+strconv.FormatInt(a.ID, 10),
					fmt.Sprintf("The directory changed the email of %s to %s, which account #%d (%s) already uses. The account keeps %s until this is resolved.",
						a.Email, nv, other.ID, other.Email, a.Email)); err != nil {
					return err
				}
				continue
			}
			if err != nil && !errors.Is(err, db.ErrNotFound) {
				return err
			}
		}
		old := cur
		if before != nil && before[f] != nv {
			old = before[f]
		}
		set[f] = nv
		changed = append(changed, f)
		if err := e.note(*a, "update", f, old, nv, ""); err != nil {
			return err
		}
	}
	if len(set) == 0 {
		return nil
	}
	if err := db.UpdateAccountFieldsTx(e.ctx, e.tx, a.ID, set, e.now); err != nil {
		return err
	}
	if v, ok := set["email"]; ok {
		a.Email = v
	}
	return e.audit(a.OrganizationID, "account.updated", a.Email, "fields: "+strings.Join(changed, ", "))
}

// userGone handles a user deleted in the directory: the deprovisioning
// policy, like an inactive user.
func (e *effector) userGone(userID, why string) error {
	a, err := e.account(userID)
	if errors.Is(err, db.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	r, err := e.rulesFor(a.OrganizationID)
	if err != nil {
		return err
	}
	return e.deprovision(a, r, why)
}

// deprovision applies the organisation's deprovisioning policy to an
// account whose person left. Repeated events change nothing: an account
// already suspended, scheduled or flagged stays as it is.
func (e *effector) deprovision(a db.Account, r *effectRules, why string) error {
	if a.State == "suspended" || a.State == "deprovisioned" {
		if a.State == "suspended" && r.policy.Deprovision == db.DeprovisionDelete && strings.HasPrefix(why, "deleted") {
			return e.remove(a, why)
		}
		return nil
	}
	switch r.policy.Deprovision {
	case db.DeprovisionSuspendGrace:
		if _, err := db.PendingActionTx(e.ctx, e.tx, a.ID); err == nil {
			return nil // already counting down
		} else if !errors.Is(err, db.ErrNotFound) {
			return err
		}
		due := e.now.Add(time.Duration(r.policy.GraceDays) * 24 * time.Hour)
		ok, err := db.ScheduleActionTx(e.ctx, e.tx, db.ScheduledAction{AccountID: a.ID, OrganizationID: a.OrganizationID,
			Action: "suspend", DueAt: due, EventID: e.eventID, CreatedAt: e.now})
		if err != nil || !ok {
			return err
		}
		dueText := due.UTC().Format("2006-01-02 15:04 UTC")
		if err := e.note(a, "schedule", "scheduled_suspension", "", dueText,
			fmt.Sprintf("%s %s; suspension scheduled for %s (grace period of %d days)", a.Email, why, dueText, r.policy.GraceDays)); err != nil {
			return err
		}
		return e.audit(a.OrganizationID, "account.suspension_scheduled", a.Email, why+", suspends at "+dueText)
	case db.DeprovisionDelete:
		return e.remove(a, why)
	case db.DeprovisionFlag:
		return e.flag(a, db.ReviewActionSuspend, "deprov:"+strconv.FormatInt(a.ID, 10),
			fmt.Sprintf("%s %s. The policy asks for review: approve to suspend the account, dismiss to keep it %s.", a.Email, why, a.State))
	default:
		return e.suspend(a, why)
	}
}

// suspend ends the account's sessions and revokes its pending invitation.
func (e *effector) suspend(a db.Account, why string) error {
	if err := db.SetAccountStateTx(e.ctx, e.tx, a.ID, "suspended", true, e.now); err != nil {
		return err
	}
	if err := e.note(a, "suspend", "state", a.State, "suspended", a.Email+" suspended: "+why+"; sessions ended"); err != nil {
		return err
	}
	if err := e.afterOff(a); err != nil {
		return err
	}
	return e.audit(a.OrganizationID, "account.suspended", a.Email, why+"; sessions ended")
}

// remove deletes an account by policy: state deprovisioned, sessions and
// password gone, invitation revoked. The row stays, so its history still
// says what happened and why.
func (e *effector) remove(a db.Account, why string) error {
	if err := db.SetAccountStateTx(e.ctx, e.tx, a.ID, "deprovisioned", true, e.now); err != nil {
		return err
	}
	if err := e.note(a, "delete", "state", a.State, "deprovisioned", a.Email+" deleted: "+why); err != nil {
		return err
	}
	if err := e.afterOff(a); err != nil {
		return err
	}
	return e.audit(a.OrganizationID, "account.deleted", a.Email, why+"; sessions ended, password removed")
}

// afterOff revokes pending invitations and cancels a pending grace
// suspension once an account is switched off.
func (e *effector) afterOff(a db.Account) error {
	n, err := db.RevokePendingInvitationsTx(e.ctx, e.tx, a.ID, e.now)
	if err != nil {
		return err
	}
	if n > 0 {
		if err := e.note(a, "revoke", "invitation", "pending", "revoked", "pending invitation revoked"); err != nil {
			return err
		}
	}
	if p, err := db.PendingActionTx(e.ctx, e.tx, a.ID); err == nil {
		if _, err := db.FinishActionTx(e.ctx, e.tx, p.ID, "done", e.now); err != nil {
			return err
		}
	} else if !errors.Is(err, db.ErrNotFound) {
		return err
	}
	return nil
}

// flag queues a review item about an account (once while open).
func (e *effector) flag(a db.Account, action, key, reason string) error {
	return e.queue(a, db.ReviewFlag, action, "", key, reason)
}

// conflict queues a conflict between the directory and Roster.
func (e *effector) conflict(a db.Account, action, proposed, key, reason string) error {
	return e.queue(a, db.ReviewConflict, action, proposed, key, reason)
}

func (e *effector) queue(a db.Account, kind, action, proposed, key, reason string) error {
	id, created, err := db.InsertReviewItemTx(e.ctx, e.tx, db.ReviewItem{OrganizationID: a.OrganizationID, Kind: kind,
		AccountID: a.ID, DirectoryUserID: a.DirectoryUserID, EventID: e.eventID, Reason: reason, Action: action,
		Proposed: proposed, DedupeKey: key, CreatedAt: e.now})
	if err != nil || !created {
		return err
	}
	ref := "review item #" + strconv.FormatInt(id, 10)
	if err := e.note(a, kind, "review", "", ref, reason); err != nil {
		return err
	}
	return e.audit(a.OrganizationID, "review."+kind+"ged", a.Email, ref+": "+reason)
}

// reactivate handles a person active in the directory again: a pending
// grace suspension is cancelled and questions about switching them off are
// closed; a suspended account is restored as the policy says.
func (e *effector) reactivate(a db.Account, r *effectRules) error {
	if p, err := db.PendingActionTx(e.ctx, e.tx, a.ID); err == nil {
		if _, err := db.FinishActionTx(e.ctx, e.tx, p.ID, "cancelled", e.now); err != nil {
			return err
		}
		if err := e.note(a, "cancel", "scheduled_suspension", p.DueAt.UTC().Format("2006-01-02 15:04 UTC"), "cancelled",
			"active again in the directory: the scheduled suspension is cancelled"); err != nil {
			return err
		}
		if err := e.audit(a.OrganizationID, "account.suspension_cancelled", a.Email, "active again in the directory"); err != nil {
			return err
		}
	} else if !errors.Is(err, db.ErrNotFound) {
		return err
	}
	if _, err := db.CloseOpenItemsTx(e.ctx, e.tx, a.ID, []string{db.ReviewActionSuspend}, e.actor,
		"the person is active in the directory again", e.now); err != nil {
		return err
	}
	if a.State != "suspended" && a.State != "deprovisioned" {
		return nil
	}
	// An admin's own suspension is not the directory's to undo: ask.
	last, err := db.LastStateChangeTx(e.ctx, e.tx, a.ID, a.State)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return err
	}
	if err == nil && last.Source != SourceDirectory && last.Source != SourcePolicy && last.Source != SourceReview {
		return e.conflict(a, db.ReviewActionRestore, "", "rehire:"+strconv.FormatInt(a.ID, 10),
			fmt.Sprintf("%s is active in the directory again, but the account was switched off by %s. Approve to restore it.",
				a.Email, firstNonEmpty(last.Actor, last.Source)))
	}
	switch r.policy.Reactivation {
	case db.ReactivateFlag:
		return e.flag(a, db.ReviewActionRestore, "rehire:"+strconv.FormatInt(a.ID, 10),
			fmt.Sprintf("%s is active in the directory again (re-hired). The policy asks for review: approve to restore the account, dismiss to keep it %s.", a.Email, a.State))
	case db.ReactivateNone:
		return e.note(a, "note", "directory_state", "inactive", "active",
			"active again in the directory; the policy leaves the account "+a.State)
	default:
		return e.restore(a, "active again in the directory")
	}
}

// restore brings a switched-off account back: to the state it had before
// (active, or invited with a fresh invitation); a deleted account lost its
// password, so it is invited again.
func (e *effector) restore(a db.Account, why string) error {
	to := "invited"
	if a.State == "suspended" {
		if last, err := db.LastStateChangeTx(e.ctx, e.tx, a.ID, "suspended"); err == nil && last.OldValue == "active" {
			to = "active"
		} else if err != nil && !errors.Is(err, db.ErrNotFound) {
			return err
		}
	}
	if err := db.SetAccountStateTx(e.ctx, e.tx, a.ID, to, false, e.now); err != nil {
		return err
	}
	if err := e.note(a, "restore", "state", a.State, to, a.Email+" restored to "+to+": "+why); err != nil {
		return err
	}
	detail := why + "; restored to " + to
	if to == "invited" {
		sent, err := e.reinvite(a)
		if err != nil {
			return err
		}
		if sent {
			detail += ", invitation sent again"
		}
	}
	return e.audit(a.OrganizationID, "account.restored", a.Email, detail)
}

// reinvite renews a restored account's invitation (new token and expiry)
// and queues the email.
func (e *effector) reinvite(a db.Account) (bool, error) {
	invID, status, err := db.InvitationIDOfAccountTx(e.ctx, e.tx, a.ID)
	if errors.Is(err, db.ErrNotFound) || status == db.InvitationAccepted {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	r, err := e.rulesFor(a.OrganizationID)
	if err != nil {
		return false, err
	}
	tok := RandomToken(32)
	expires := e.now.Add(r.ttl)
	ok, err := db.RenewInvitationTx(e.ctx, e.tx, invID, HashToken(tok), e.now, expires)
	if err != nil || !ok {
		return false, err
	}
	m := inviteMail{inviter: "Roster", org: r.name, expires: expires, html: e.s.InvitationHTML}.compose(e.s.BaseURL, a.DisplayName, tok)
	m.To, m.OrganizationID, m.Kind, m.Ref, m.CreatedAt = a.Email, a.OrganizationID, "invitation", strconv.FormatInt(invID, 10), e.now
	if err := db.EnqueueEmail(e.ctx, e.tx, m); err != nil {
		return false, err
	}
	return true, e.note(a, "invite", "invitation", "revoked", "pending", "invitation sent again")
}

// recomputeRole sets an account's role from its person's groups (highest
// rank wins, else the organisation's default role), unless an admin chose
// the role: then a differing mapping becomes a conflict to review.
func (e *effector) recomputeRole(userID, why string) error {
	a, err := e.account(userID)
	if errors.Is(err, db.ErrNotFound) {
		return nil
	}
	if err != nil || a.State == "deprovisioned" {
		return err
	}
	r, err := e.rulesFor(a.OrganizationID)
	if err != nil {
		return err
	}
	role, err := db.MappedRoleTx(e.ctx, e.tx, userID, a.OrganizationID)
	if err != nil {
		return err
	}
	if role == "" {
		role = r.defaultRole
	}
	if role == a.Role {
		return nil
	}
	if a.RoleOverridden {
		return e.conflict(a, db.ReviewActionSetRole, role, "role:"+strconv.FormatInt(a.ID, 10),
			fmt.Sprintf("%s was %s; the group mapping now gives the role %s, but an admin set %s. Approve to use %s (and drop the override), dismiss to keep %s.",
				a.Email, why, role, a.Role, role, a.Role))
	}
	if err := db.SetAccountRoleTx(e.ctx, e.tx, a.ID, role, false, e.now); err != nil {
		return err
	}
	if err := e.note(a, "role", "role", a.Role, role, a.Email+" "+why); err != nil {
		return err
	}
	return e.audit(a.OrganizationID, "account.role_changed", a.Email, a.Role+" → "+role+" ("+why+")")
}

// groupDeleted recomputes the role of the accounts the group's mapping may
// have given their role (its memberships are already gone).
func (e *effector) groupDeleted(org, groupID, name string) error {
	if org == "" {
		return nil
	}
	role, err := db.GroupRoleTx(e.ctx, e.tx, org, groupID)
	if err != nil || role == "" {
		return err
	}
	accts, err := db.DirectoryAccountsWithRoleTx(e.ctx, e.tx, org, role)
	if err != nil {
		return err
	}
	for _, a := range accts {
		if a.RoleOverridden {
			continue // an admin's choice; and we cannot tell whether they were in the group
		}
		if err := e.recomputeRole(a.DirectoryUserID, "in deleted group "+name); err != nil {
			return err
		}
	}
	return nil
}

// directoryDeleted suspends every account of the directory and flags each
// for review: never a silent deletion.
func (e *effector) directoryDeleted(dirID, name string) error {
	accts, err := db.AccountsOfDirectoryTx(e.ctx, e.tx, dirID)
	if err != nil {
		return err
	}
	why := "directory " + name + " was deleted"
	for _, a := range accts {
		key := "dirdel:" + strconv.FormatInt(a.ID, 10)
		if a.State == "deprovisioned" {
			continue
		}
		if asked, err := db.ReviewKeyUsedTx(e.ctx, e.tx, key); err != nil || asked {
			if err != nil {
				return err
			}
			continue // already suspended and flagged once; an admin decided
		}
		if a.State != "suspended" {
			if err := e.suspend(a, why); err != nil {
				return err
			}
			a.State = "suspended"
		}
		if err := e.flag(a, db.ReviewActionDelete, key,
			fmt.Sprintf("The directory %s was deleted, so %s was suspended. Approve to delete the account, dismiss to keep it suspended.", name, a.Email)); err != nil {
			return err
		}
	}
	return nil
}

// autoInvite gives a new member of an auto-invite group an account and an
// invitation, through the invite preview's rules (inactive, no email,
// disallowed domain and existing accounts are refused or skipped).
func (e *effector) autoInvite(userID, groupID, groupName string) error {
	u, err := db.ReplicaUserTx(e.ctx, e.tx, userID)
	if errors.Is(err, db.ErrNotFound) {
		return nil
	}
	if err != nil || !u.DeletedAt.IsZero() {
		return err
	}
	org := u.OrganizationID
	on, err := db.IsAutoInviteGroupTx(e.ctx, e.tx, org, groupID)
	if err != nil || !on {
		return err
	}
	if _, err := e.account(userID); err == nil {
		return nil // already onboarded
	} else if !errors.Is(err, db.ErrNotFound) {
		return err
	}
	r, err := e.rulesFor(org)
	if err != nil {
		return err
	}
	m, err := db.MapUserTx(e.ctx, e.tx, userID, fieldKeys(), r.sources)
	if err != nil {
		return err
	}
	role, err := db.MappedRoleTx(e.ctx, e.tx, userID, org)
	if err != nil {
		return err
	}
	p := db.SelectedPerson{UserID: u.ID, DirectoryID: u.DirectoryID, OrganizationID: org, State: m.State, Label: m.Label,
		Paths: 1, Values: m.Values, MappedRole: role}
	if m.Values["email"] != "" {
		other, err := db.AccountByEmailTx(e.ctx, e.tx, org, m.Values["email"])
		switch {
		case err == nil:
			p.AccountID, p.AccountState = other.ID, other.State
		case !errors.Is(err, db.ErrNotFound):
			return err
		}
	}
	rp := classify([]db.SelectedPerson{p}, r.orgRules, e.now)[0]
	person := db.Account{OrganizationID: org, Email: firstNonEmpty(m.Values["email"], m.Label)}
	if rp.Bucket != BucketNew {
		if err := e.note(person, "refused", "", "", "", "not invited automatically ("+groupName+"): "+rp.Reason); err != nil {
			return err
		}
		return e.audit(org, "invite.auto_refused", m.Label, "group "+groupName+": "+rp.Reason)
	}
	batch, err := db.InsertBatchTx(e.ctx, e.tx, db.InviteBatch{Key: "auto:" + e.eventID + ":" + userID, OrganizationID: org, CreatedAt: e.now})
	if err != nil {
		return err
	}
	tok := RandomToken(32)
	a := rp.Attrs
	expires := e.now.Add(r.ttl)
	inviter := "Roster (auto-invite, group " + groupName + ")"
	ids, err := db.CreateInvitesTx(e.ctx, e.tx, batch, inviter, []db.NewInvite{{DirectoryUserID: u.ID, DirectoryID: u.DirectoryID,
		OrganizationID: org, Email: rp.Email, FirstName: a["first_name"], LastName: a["last_name"], DisplayName: a["display_name"],
		JobTitle: a["job_title"], Department: a["department"], Manager: a["manager"], Location: a["location"], Phone: a["phone"],
		Role: rp.Role, TokenHash: HashToken(tok)}}, e.now, expires)
	if err != nil {
		return err
	}
	delete(e.noAccount, u.ID)
	counts, _ := json.Marshal(InviteResult{Created: 1, Skipped: map[string]int{}, Refused: map[string]int{}})
	if err := db.SetBatchCountsTx(e.ctx, e.tx, batch, string(counts)); err != nil {
		return err
	}
	mail := inviteMail{inviter: inviter, org: r.name, expires: expires, html: e.s.InvitationHTML}.compose(e.s.BaseURL, a["display_name"], tok)
	mail.To, mail.OrganizationID, mail.Kind, mail.Ref, mail.CreatedAt = rp.Email, org, "invitation", strconv.FormatInt(ids[0], 10), e.now
	if err := db.EnqueueEmail(e.ctx, e.tx, mail); err != nil {
		return err
	}
	acct, err := db.AccountByDirectoryUserTx(e.ctx, e.tx, userID)
	if err != nil {
		return err
	}
	if err := e.note(acct, "invite", "auto_invite", "", "invited (group "+groupName+")",
		rp.Email+" invited automatically as a new member of "+groupName); err != nil {
		return err
	}
	return e.audit(org, "invite.auto_created", rp.Email, "new member of group "+groupName+", role "+rp.Role)
}

// ReconcileEffects returns the hook for differences a reconcile (or a
// backfill's final sweep) fixed in the replica: each one brings the
// accounts concerned in step, inside the same transaction as the fix
// (Syncer.OnChanges).
func (s *Service) ReconcileEffects() func(ctx context.Context, tx db.Tx, directoryID string, changes []db.Change) error {
	return func(ctx context.Context, tx db.Tx, directoryID string, changes []db.Change) error {
		e := s.newEffector(ctx, tx, "reconcile", "sync", SourceDirectory)
		for _, c := range changes {
			var err error
			switch c.Kind + "/" + c.Op {
			case "user/added", "user/updated", "user/restored":
				err = e.syncUser(c.ID, nil)
			case "user/removed":
				err = e.userGone(c.ID, "no longer listed by the directory (reconcile)")
			case "membership/added", "membership/removed":
				if _, user, ok := strings.Cut(c.ID, "/"); ok {
					err = e.recomputeRole(user, "group membership "+c.Op+" (reconcile)")
				}
			case "group/removed":
				var org string
				if org, err = db.GroupOrganizationTx(ctx, tx, c.ID); err == nil {
					err = e.groupDeleted(org, c.ID, firstNonEmpty(c.Detail, c.ID))
				} else if errors.Is(err, db.ErrNotFound) {
					err = nil
				}
			}
			if err != nil {
				return fmt.Errorf("account effects of reconcile %s %s %s: %w", c.Kind, c.Op, c.ID, err)
			}
		}
		return nil
	}
}
