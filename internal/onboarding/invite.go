package onboarding

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"roster/internal/db"
)

// DefaultInviteTTL is how long an invitation lives unless configured.
const DefaultInviteTTL = 7 * 24 * time.Hour

// InviteeBcryptCost is the bcrypt cost of invitees' passwords (tests lower
// it before starting servers).
var InviteeBcryptCost = bcrypt.DefaultCost

// Problems with an invitation link, each with its own page.
var (
	ErrInvitationExpired  = errors.New("this invitation has expired")
	ErrInvitationUsed     = errors.New("this invitation was already accepted")
	ErrInvitationRevoked  = errors.New("this invitation was withdrawn")
	ErrInvitationNotFound = errors.New("this invitation link is not valid")
)

// inviteFault, when set (tests only), is called at each stage of the invite
// transaction; an error it returns aborts the transaction there, so tests
// can prove nothing is half-done.
var inviteFault func(stage string) error

func fault(stage string) error {
	if inviteFault == nil {
		return nil
	}
	return inviteFault(stage)
}

func (s *Service) inviteTTL() time.Duration {
	if s.InviteTTL <= 0 {
		return DefaultInviteTTL
	}
	return s.InviteTTL
}

// InviteInput is a confirmed review form.
type InviteInput struct {
	// Key is the idempotency key the review page rendered: the same key
	// never invites twice.
	Key string
	// Overrides are per-person roles: directory user id → role slug.
	Overrides map[string]string
}

// InviteResult is what an invite did, stored with its batch.
type InviteResult struct {
	BatchID   int64          `json:"-"`
	CreatedAt time.Time      `json:"-"`
	Replayed  bool           `json:"-"` // the key had been used: nothing new was done
	Created   int            `json:"created"`
	Skipped   map[string]int `json:"skipped"` // bucket → count
	Refused   map[string]int `json:"refused"` // bucket → count
	Gone      int            `json:"gone"`    // selected but no longer in the directory
	Merged    int            `json:"merged"`  // people selected more than once
	Reasons   []string       `json:"reasons"` // a few refusal reasons, for the page
}

var keyPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{16,100}$`)

// MaxOverrides bounds the per-person role choices one form may carry.
const MaxOverrides = 20000

// Invite creates, in one transaction, an account and an invitation (with
// its email in the outbox) for every person of the actor's selection that
// the rules let through, re-checking every rule against current data, then
// clears the selection. All or nothing; a key already used returns that
// batch's result and changes nothing.
func (s *Service) Invite(ctx context.Context, act Actor, in InviteInput) (InviteResult, error) {
	if !keyPattern.MatchString(in.Key) {
		return InviteResult{}, fmt.Errorf("%w: the form is missing its confirmation key; reload the review page and try again", ErrInvalid)
	}
	if len(in.Overrides) > MaxOverrides {
		return InviteResult{}, fmt.Errorf("%w: too many role choices in one form", ErrInvalid)
	}
	now := s.now()
	res := InviteResult{Skipped: map[string]int{}, Refused: map[string]int{}}
	err := s.DB.BulkTx(ctx, func(tx db.Tx) error {
		b, err := db.BatchByKeyTx(ctx, tx, in.Key)
		if err == nil {
			if b.AdminID != act.AdminID {
				return fmt.Errorf("%w: this form was already used", ErrInvalid)
			}
			res, err = decodeResult(b)
			res.Replayed = true
			return err
		}
		if !errors.Is(err, db.ErrNotFound) {
			return err
		}
		sum, err := s.DB.SelectionSummary(ctx, act.AdminID)
		if err != nil {
			return err
		}
		orgs := visibleOrgs(act, sum.Organizations)
		res.Gone = sum.Gone
		if len(orgs) == 0 && res.Gone == 0 {
			return fmt.Errorf("%w: nothing is selected (it may have been invited already); select people first", ErrInvalid)
		}
		// Every organisation is resolved before anything is written: the
		// summary and the resolution read through the read pool
		// (db.ResolveSelection).
		plans := make([]invitePlan, len(orgs))
		for i, org := range orgs {
			if plans[i], err = s.planInvite(ctx, act, org, sum.People[org], in.Overrides, now, &res); err != nil {
				return err
			}
		}
		res.BatchID, err = db.InsertBatchTx(ctx, tx, db.InviteBatch{Key: in.Key, AdminID: act.AdminID, OrganizationID: act.OrganizationID, CreatedAt: now})
		if err != nil {
			return err
		}
		for _, p := range plans {
			if err := s.writeInvites(ctx, tx, act, p, res.BatchID, now); err != nil {
				return err
			}
			res.Created += len(p.todo)
		}
		if err := fault("before-clear"); err != nil {
			return err
		}
		if err := db.ClearSelectionTx(ctx, tx, act.AdminID); err != nil {
			return err
		}
		counts, _ := json.Marshal(res)
		if err := db.SetBatchCountsTx(ctx, tx, res.BatchID, string(counts)); err != nil {
			return err
		}
		// The entry belongs to the organisation invited into, so that its
		// admins see invites a platform admin made for them.
		auditOrg := act.OrganizationID
		if len(orgs) == 1 {
			auditOrg = orgs[0]
		}
		return db.InsertAudit(ctx, tx, db.AuditEntry{At: now, Actor: act.Email, OrganizationID: auditOrg,
			Action: "invite.created", Target: "batch " + strconv.FormatInt(res.BatchID, 10), Detail: res.Summary()})
	})
	if err != nil {
		return InviteResult{}, err
	}
	if !res.Replayed {
		res.CreatedAt = now
		invitesCreated.Add(float64(res.Created))
	}
	return res, nil
}

// invitePlan is what an invite will write for one organisation: the
// people to invite and their tokens, index for index.
type invitePlan struct {
	org    string
	rules  orgRules
	todo   []db.NewInvite
	tokens []string
}

// planInvite resolves the selected people of one organisation, applies the
// rules and counts the skipped and refused ones into res.
func (s *Service) planInvite(ctx context.Context, act Actor, org string, size int, overrides map[string]string, now time.Time, res *InviteResult) (invitePlan, error) {
	rules, err := s.loadOrgRules(ctx, org)
	if err != nil {
		return invitePlan{}, err
	}
	people, err := s.DB.ResolveSelection(ctx, act.AdminID, org, fieldKeys(), rules.sources, size)
	if err != nil {
		return invitePlan{}, err
	}
	plan := invitePlan{org: org, rules: rules, todo: make([]db.NewInvite, 0, len(people)), tokens: make([]string, 0, len(people))}
	for _, p := range classify(people, rules, now) {
		if p.Paths > 1 {
			res.Merged++
		}
		switch {
		case p.Bucket == BucketNew:
		case Skipped(p.Bucket):
			res.Skipped[p.Bucket]++
			continue
		default:
			res.Refused[p.Bucket]++
			if len(res.Reasons) < 20 {
				res.Reasons = append(res.Reasons, p.Name+": "+p.Reason)
			}
			continue
		}
		role, overridden := p.Role, false
		if o := strings.TrimSpace(overrides[p.UserID]); o != "" && o != p.Role {
			if !rules.hasRole(o) {
				return invitePlan{}, fmt.Errorf("%w: the role %q chosen for %s does not exist", ErrInvalid, o, p.Name)
			}
			role, overridden = o, true
		}
		tok := RandomToken(32)
		plan.tokens = append(plan.tokens, tok)
		a := p.Attr
		plan.todo = append(plan.todo, db.NewInvite{DirectoryUserID: p.UserID, DirectoryID: p.DirectoryID, OrganizationID: org,
			Email: p.Email, FirstName: a("first_name"), LastName: a("last_name"), DisplayName: a("display_name"),
			JobTitle: a("job_title"), Department: a("department"), Manager: a("manager"), Location: a("location"),
			Phone: a("phone"), Role: role, RoleOverridden: overridden, TokenHash: HashToken(tok)})
	}
	return plan, nil
}

// writeInvites writes one organisation's plan inside the invite
// transaction: accounts, invitations, history and emails.
func (s *Service) writeInvites(ctx context.Context, tx db.Tx, act Actor, plan invitePlan, batchID int64, now time.Time) error {
	if len(plan.todo) == 0 {
		return nil
	}
	expires := now.Add(plan.rules.ttl)
	// The emails are composed (text and HTML) on the other core while
	// SQLite writes the accounts; they need only the invitation ids. A
	// panic there is raised again here, where the transaction rolls back
	// and the web server's recovery answers, instead of ending the process.
	mail := inviteMail{inviter: act.Email, org: plan.rules.name, expires: expires, html: s.InvitationHTML}
	mails := make([]db.OutboxEmail, len(plan.todo))
	composed := make(chan any, 1)
	go func() {
		defer func() { composed <- recover() }()
		for i, p := range plan.todo {
			m := mail.compose(s.BaseURL, p.DisplayName, plan.tokens[i])
			m.To, m.OrganizationID, m.Kind, m.CreatedAt = p.Email, plan.org, "invitation", now
			mails[i] = m
		}
	}()
	ids, err := db.CreateInvitesTx(ctx, tx, batchID, act.Email, plan.todo, now, expires)
	if p := <-composed; p != nil {
		panic(p)
	}
	if err != nil {
		return err
	}
	if err := fault("after-accounts"); err != nil {
		return err
	}
	for i := range mails {
		mails[i].Ref = strconv.FormatInt(ids[i], 10)
	}
	return db.EnqueueEmailsTx(ctx, tx, mails, now)
}

func decodeResult(b db.InviteBatch) (InviteResult, error) {
	var r InviteResult
	if err := json.Unmarshal([]byte(b.Counts), &r); err != nil {
		return r, fmt.Errorf("read invite batch %d: %w", b.ID, err)
	}
	if r.Skipped == nil {
		r.Skipped = map[string]int{}
	}
	if r.Refused == nil {
		r.Refused = map[string]int{}
	}
	r.BatchID, r.CreatedAt = b.ID, b.CreatedAt
	return r, nil
}

// Summary is a one-line account of the result, for the audit log.
func (r InviteResult) Summary() string {
	var parts []string
	parts = append(parts, fmt.Sprintf("created %d", r.Created))
	for _, b := range BucketOrder {
		if n := r.Skipped[b]; n > 0 {
			parts = append(parts, fmt.Sprintf("skipped %s %d", b, n))
		}
		if n := r.Refused[b]; n > 0 {
			parts = append(parts, fmt.Sprintf("refused %s %d", b, n))
		}
	}
	if r.Gone > 0 {
		parts = append(parts, fmt.Sprintf("gone %d", r.Gone))
	}
	return strings.Join(parts, ", ")
}

// InviteBatchResult returns the result of an earlier invite of the actor.
func (s *Service) InviteBatchResult(ctx context.Context, act Actor, batchID int64) (InviteResult, error) {
	b, err := s.DB.BatchByID(ctx, batchID)
	if errors.Is(err, db.ErrNotFound) || (err == nil && b.AdminID != act.AdminID) {
		return InviteResult{}, ErrNotFound
	}
	if err != nil {
		return InviteResult{}, err
	}
	return decodeResult(b)
}

// InvitationEmail is what an invitation email says; main renders its HTML
// part with the views (Service.InvitationHTML).
type InvitationEmail struct {
	Greeting, Inviter, Org, Link, Expires string
}

// inviteMail composes invitation emails; the parts shared by a batch are
// prepared once.
type inviteMail struct {
	inviter, org string
	expires      time.Time
	html         func(InvitationEmail) (string, error) // nil: a text-only email
}

func (m inviteMail) compose(baseURL, name, token string) db.OutboxEmail {
	e := InvitationEmail{Greeting: "Hello", Inviter: m.inviter, Org: m.org,
		Link: strings.TrimRight(baseURL, "/") + "/invite/" + token, Expires: m.expires.UTC().Format("2 January 2006, 15:04 UTC")}
	if name != "" {
		e.Greeting = "Hello " + name
	}
	out := db.OutboxEmail{Subject: "You are invited to join " + m.org}
	out.Text = e.Greeting + ",\n\n" + e.Inviter + " invited you to join " + e.Org + ".\n\n" +
		"Open this link to set your password and activate your account:\n" + e.Link + "\n\n" +
		"The link works until " + e.Expires + ". If it has expired, ask your admin to send a new one.\n"
	if m.html != nil {
		if h, err := m.html(e); err == nil {
			out.HTML = h // on a render error the text part alone still carries the link
		}
	}
	return out
}

// Invitations lists invitations the actor may see.
func (s *Service) Invitations(ctx context.Context, act Actor, f db.InvitationFilter) (list []db.Invitation, total int, hasOlder, hasNewer bool, err error) {
	f.OrganizationID, f.AllOrgs, f.Now = act.OrganizationID, act.Platform(), s.now()
	if f.Limit <= 0 || f.Limit > 100 {
		f.Limit = 50
	}
	if list, err = s.DB.ListInvitations(ctx, f); err != nil {
		return
	}
	if total, err = s.DB.CountInvitations(ctx, f); err != nil {
		return
	}
	if len(list) > 0 {
		pf := f
		pf.BeforeID, pf.AfterID = 0, 0
		if hasOlder, err = s.DB.InvitationExists(ctx, pf, "<", list[len(list)-1].ID); err != nil {
			return
		}
		hasNewer, err = s.DB.InvitationExists(ctx, pf, ">", list[0].ID)
	}
	return
}

// invitation finds an invitation the actor may see (ErrNotFound otherwise).
func (s *Service) invitation(ctx context.Context, act Actor, id int64) (db.Invitation, error) {
	inv, err := s.DB.InvitationByID(ctx, id, s.now())
	if errors.Is(err, db.ErrNotFound) || (err == nil && !act.CanSee(inv.OrganizationID)) {
		return db.Invitation{}, ErrNotFound
	}
	return inv, err
}

// Resend gives an invitation a new token and expiry and emails it again;
// the old link stops working. Audited.
func (s *Service) Resend(ctx context.Context, act Actor, id int64) (db.Invitation, error) {
	inv, err := s.invitation(ctx, act, id)
	if err != nil {
		return inv, err
	}
	if inv.Status == db.InvitationAccepted {
		return inv, fmt.Errorf("%w: %s already accepted this invitation", ErrInvalid, inv.Email)
	}
	rules, err := s.loadOrgRules(ctx, inv.OrganizationID)
	if err != nil {
		return inv, err
	}
	now := s.now()
	expires := now.Add(rules.ttl)
	tok := RandomToken(32)
	err = s.DB.Tx(ctx, func(tx db.Tx) error {
		ok, err := db.RenewInvitationTx(ctx, tx, id, HashToken(tok), now, expires)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: this invitation was accepted meanwhile", ErrInvalid)
		}
		m := inviteMail{inviter: act.Email, org: rules.name, expires: expires, html: s.InvitationHTML}.compose(s.BaseURL, inv.DisplayName, tok)
		m.To, m.OrganizationID, m.Kind, m.Ref, m.CreatedAt = inv.Email, inv.OrganizationID, "invitation", strconv.FormatInt(id, 10), now
		if err := db.EnqueueEmail(ctx, tx, m); err != nil {
			return err
		}
		return db.InsertAudit(ctx, tx, db.AuditEntry{At: now, Actor: act.Email, OrganizationID: inv.OrganizationID,
			Action: "invite.resent", Target: inv.Email, Detail: "invitation " + strconv.FormatInt(id, 10) + ", expires " + expires.UTC().Format(time.RFC3339)})
	})
	if err != nil {
		return inv, err
	}
	invitesCreated.Inc()
	return s.DB.InvitationByID(ctx, id, s.now())
}

// Revoke withdraws a pending invitation. Audited.
func (s *Service) Revoke(ctx context.Context, act Actor, id int64) (db.Invitation, error) {
	inv, err := s.invitation(ctx, act, id)
	if err != nil {
		return inv, err
	}
	switch inv.Status {
	case db.InvitationAccepted:
		return inv, fmt.Errorf("%w: %s already accepted this invitation", ErrInvalid, inv.Email)
	case db.InvitationRevoked:
		return inv, nil // already done: a double submit
	}
	now := s.now()
	err = s.DB.Tx(ctx, func(tx db.Tx) error {
		ok, err := db.RevokeInvitationTx(ctx, tx, id, now)
		if err != nil || !ok {
			return err
		}
		return db.InsertAudit(ctx, tx, db.AuditEntry{At: now, Actor: act.Email, OrganizationID: inv.OrganizationID,
			Action: "invite.revoked", Target: inv.Email, Detail: "invitation " + strconv.FormatInt(id, 10)})
	})
	if err != nil {
		return inv, err
	}
	return s.DB.InvitationByID(ctx, id, now)
}

// PublicInvitation is what an invitee sees on their invitation page.
type PublicInvitation struct {
	Email, FirstName, LastName, DisplayName, JobTitle, Department, OrgName string
	ExpiresAt                                                              time.Time
}

// OpenInvitation checks an invitation token: the invitation, or one of
// ErrInvitationNotFound/Expired/Used/Revoked.
func (s *Service) OpenInvitation(ctx context.Context, token string) (PublicInvitation, error) {
	inv, err := s.invitationByToken(ctx, token)
	if err != nil {
		return PublicInvitation{}, err
	}
	org, err := s.OrganizationName(ctx, inv.OrganizationID)
	if err != nil {
		return PublicInvitation{}, err
	}
	return PublicInvitation{Email: inv.Email, FirstName: inv.FirstName, LastName: inv.LastName, DisplayName: inv.DisplayName,
		JobTitle: inv.JobTitle, Department: inv.Department, OrgName: org, ExpiresAt: inv.ExpiresAt}, nil
}

func (s *Service) invitationByToken(ctx context.Context, token string) (db.Invitation, error) {
	if token == "" || len(token) > 200 {
		return db.Invitation{}, ErrInvitationNotFound
	}
	inv, err := s.DB.InvitationByTokenHash(ctx, HashToken(token), s.now())
	if errors.Is(err, db.ErrNotFound) {
		return db.Invitation{}, ErrInvitationNotFound
	}
	if err != nil {
		return db.Invitation{}, err
	}
	switch inv.Status {
	case db.InvitationAccepted:
		return inv, ErrInvitationUsed
	case db.InvitationRevoked:
		return inv, ErrInvitationRevoked
	case db.InvitationExpired:
		return inv, ErrInvitationExpired
	}
	return inv, nil
}

// AcceptInvitation sets the invitee's password and activates the account:
// invitation accepted, account active, history and audit, one transaction.
// A second submit finds the invitation used (ErrInvitationUsed).
func (s *Service) AcceptInvitation(ctx context.Context, token, password string) (PublicInvitation, error) {
	pub, err := s.OpenInvitation(ctx, token)
	if err != nil {
		return pub, err
	}
	if err := validPassword(password); err != nil {
		return pub, err
	}
	inv, err := s.invitationByToken(ctx, token)
	if err != nil {
		return pub, err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), InviteeBcryptCost)
	if err != nil {
		return pub, fmt.Errorf("hash password: %w", err)
	}
	now := s.now()
	err = s.DB.Tx(ctx, func(tx db.Tx) error {
		ok, err := db.AcceptInvitationTx(ctx, tx, inv.ID, inv.AccountID, string(h), now)
		if err != nil {
			return err
		}
		if !ok {
			return ErrInvitationUsed
		}
		if err := db.InsertHistoryTx(ctx, tx, db.HistoryEntry{AccountID: inv.AccountID, At: now, Field: "state",
			OldValue: inv.AccountState, NewValue: "active", Source: "invitee", Actor: inv.Email}); err != nil {
			return err
		}
		return db.InsertAudit(ctx, tx, db.AuditEntry{At: now, Actor: inv.Email, OrganizationID: inv.OrganizationID,
			Action: "invite.accepted", Target: inv.Email, Detail: "invitation " + strconv.FormatInt(inv.ID, 10)})
	})
	if err != nil {
		return pub, err
	}
	return pub, nil
}
