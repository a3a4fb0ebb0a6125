package onboarding

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"golang.org/x/crypto/bcrypt"

	"roster/internal/db"
)

// inviteFixture is a database with two organisations, a directory each, and
// an admin per organisation plus a platform admin.
type inviteFixture struct {
	t        *testing.T
	ctx      context.Context
	d        *db.DB
	svc      *Service
	now      time.Time
	adminA   Actor // org_a
	adminB   Actor // org_b
	platform Actor
}

func newInviteFixture(t testing.TB) *inviteFixture {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	f := &inviteFixture{ctx: ctx, d: d, now: time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)}
	f.svc = &Service{DB: d, Now: func() time.Time { return f.now }, BaseURL: "http://roster.test"}
	InviteeBcryptCost = bcrypt.MinCost
	err = d.Tx(ctx, func(tx db.Tx) error {
		for _, o := range []db.Organization{
			{ID: "org_a", Name: "Acme", AllowedDomains: []string{"acme.test"}},
			{ID: "org_b", Name: "Globex"},
		} {
			if err := db.UpsertOrganization(ctx, tx, o, f.now); err != nil {
				return err
			}
		}
		w := d.Replica(ctx, tx)
		for _, dir := range []db.Directory{{ID: "dir_a", OrganizationID: "org_a", Name: "Acme AD"}, {ID: "dir_b", OrganizationID: "org_b", Name: "Globex GW"}} {
			if err := w.UpsertDirectory(dir); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	mk := func(email, org string) Actor {
		a, _, err := d.UpsertAdmin(ctx, email, "x", org, db.AuditEntry{Actor: "test", Action: "admin.test"})
		if err != nil {
			t.Fatal(err)
		}
		return Actor{AdminID: a.ID, Email: a.Email, OrganizationID: org}
	}
	f.adminA, f.adminB, f.platform = mk("a@acme.test", "org_a"), mk("b@globex.test", "org_b"), mk("root@roster.test", "")
	return f
}

// user adds a directory user; attrs is custom_attributes JSON ("" for none).
func (f *inviteFixture) user(t testing.TB, id, dir, org, first, last, email, state, attrs string) {
	t.Helper()
	if attrs == "" {
		attrs = "{}"
	}
	err := f.d.Tx(f.ctx, func(tx db.Tx) error {
		return f.d.Replica(f.ctx, tx).ListUser(db.DirectoryUser{ID: id, DirectoryID: dir, OrganizationID: org, FirstName: first,
			LastName: last, Email: email, State: state, CustomAttributes: json.RawMessage(attrs)}, 1)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (f *inviteFixture) group(t testing.TB, id, dir, org, name string, members ...string) {
	t.Helper()
	err := f.d.Tx(f.ctx, func(tx db.Tx) error {
		w := f.d.Replica(f.ctx, tx)
		if err := w.ListGroup(db.DirectoryGroup{ID: id, DirectoryID: dir, OrganizationID: org, Name: name}, 1); err != nil {
			return err
		}
		for _, m := range members {
			if _, err := w.ListMembership(db.Membership{DirectoryID: dir, GroupID: id, UserID: m}, 1); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// sel adds items ("user:id" or "group:id") to an admin's selection.
func (f *inviteFixture) sel(t testing.TB, act Actor, items ...string) {
	t.Helper()
	err := f.d.Tx(f.ctx, func(tx db.Tx) error {
		for _, it := range items {
			kind, id, _ := strings.Cut(it, ":")
			if _, err := tx.ExecContext(context.Background(), `INSERT OR IGNORE INTO selections (admin_id, kind, item_id, directory_id, added_at) VALUES (?, ?, ?, '', '')`,
				act.AdminID, kind, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// count runs a count query through a write transaction (tests only).
func (f *inviteFixture) count(t testing.TB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := f.d.Tx(f.ctx, func(tx db.Tx) error { return tx.QueryRowContext(context.Background(), q, args...).Scan(&n) }); err != nil {
		t.Fatal(err)
	}
	return n
}

var linkRE = regexp.MustCompile(`/invite/([A-Za-z0-9_-]+)`)

// tokens returns the invitation tokens found in the outbox, by recipient
// (newest email wins).
func (f *inviteFixture) tokens(t testing.TB) map[string]string {
	t.Helper()
	mails, err := f.d.ListEmails(f.ctx, db.EmailFilter{AllOrgs: true})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for i := len(mails) - 1; i >= 0; i-- {
		if m := linkRE.FindStringSubmatch(mails[i].Text); m != nil {
			out[mails[i].To] = m[1]
		}
	}
	return out
}

// standard seeds org_a with one person per bucket and selects them all for
// adminA.
func (f *inviteFixture) standard(t testing.TB) {
	t.Helper()
	f.user(t, "u_ada", "dir_a", "org_a", "Ada", "Lovelace", "Ada@Acme.test", "active",
		`{"job_title":"Engineer","department":"R&D","manager_email":"boss@acme.test","office":{"city":"Paris"},"employee_id":42}`)
	f.user(t, "u_bob", "dir_a", "org_a", "Bob", "Inactive", "bob@acme.test", "inactive", "")
	f.user(t, "u_cy", "dir_a", "org_a", "Cy", "Noemail", "", "active", "")
	f.user(t, "u_dee", "dir_a", "org_a", "Dee", "Outside", "dee@elsewhere.test", "active", "")
	f.user(t, "u_fay", "dir_a", "org_a", "Fay", "Zed", "ada@acme.test", "active", "")
	f.user(t, "u_gil", "dir_a", "org_a", "Gil", "Gone", "gil@acme.test", "active", "")
	f.user(t, "u_zoe", "dir_b", "org_b", "Zoe", "Other", "zoe@globex.test", "active", "")
	f.group(t, "g_eng", "dir_a", "org_a", "Engineering", "u_ada", "u_bob")
	f.group(t, "g_ops", "dir_a", "org_a", "Ops", "u_ada")
	// Gil is deleted after being selected.
	f.sel(t, f.adminA, "user:u_ada", "group:g_eng", "group:g_ops", "user:u_cy", "user:u_dee", "user:u_fay", "user:u_gil")
	err := f.d.Tx(f.ctx, func(tx db.Tx) error {
		_, err := f.d.Replica(f.ctx, tx).DeleteUser(db.DirectoryUser{ID: "u_gil", DirectoryID: "dir_a", UpdatedAt: f.now}, 1)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func names(ps []ReviewPerson) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.UserID)
	}
	return out
}

func TestReview_Buckets(t *testing.T) {
	f := newInviteFixture(t)
	f.standard(t)
	rv, err := f.svc.Review(f.ctx, f.adminA)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		BucketNew:      {"u_ada"},
		BucketInactive: {"u_bob"},
		BucketNoEmail:  {"u_cy"},
		BucketDomain:   {"u_dee"},
		BucketDupEmail: {"u_fay"},
	}
	for _, b := range BucketOrder {
		if got := fmt.Sprint(names(rv.Buckets[b])); got != fmt.Sprint(want[b]) {
			t.Errorf("bucket %s = %v, want %v", b, got, want[b])
		}
	}
	if rv.Total != 5 {
		t.Errorf("total = %d, want 5 distinct people", rv.Total)
	}
	if rv.Gone != 1 {
		t.Errorf("gone = %d, want 1 (Gil was deleted)", rv.Gone)
	}
	// The summary counts each live person once however often picked (Ada
	// three times): the resolve's size.
	sum, err := f.d.SelectionSummary(f.ctx, f.adminA.AdminID)
	if err != nil || fmt.Sprint(sum.Organizations) != "[org_a]" || sum.People["org_a"] != 5 || sum.Gone != 1 {
		t.Errorf("summary = %+v (%v), want org_a with 5 people, 1 gone", sum, err)
	}
	if len(rv.Duplicates) != 1 || rv.Duplicates[0].UserID != "u_ada" || rv.Duplicates[0].Paths != 3 {
		t.Errorf("duplicates = %+v, want only Ada, selected 3 ways (directly, Engineering, Ops)", rv.Duplicates)
	}
	ada := rv.Buckets[BucketNew][0]
	if ada.Email != "ada@acme.test" || ada.Attr("job_title") != "Engineer" || ada.Attr("department") != "R&D" ||
		ada.Attr("manager") != "boss@acme.test" || ada.Attr("display_name") != "Ada" {
		t.Errorf("Ada's attributes = %+v", ada.Attrs)
	}
	if ada.Role != "member" {
		t.Errorf("Ada's role = %q, want the default member", ada.Role)
	}
	if !strings.Contains(rv.Buckets[BucketDomain][0].Reason, "elsewhere.test") {
		t.Errorf("domain reason = %q", rv.Buckets[BucketDomain][0].Reason)
	}
	// Another organisation's admin sees none of it.
	f.sel(t, f.adminB, "user:u_ada")
	rb, err := f.svc.Review(f.ctx, f.adminB)
	if err != nil {
		t.Fatal(err)
	}
	if rb.Total != 0 {
		t.Errorf("org_b admin reviews %d people of org_a", rb.Total)
	}
}

func TestReview_RoleMappingHighestWins(t *testing.T) {
	f := newInviteFixture(t)
	f.standard(t)
	err := f.svc.SaveSettings(f.ctx, f.adminA, "", SettingsInput{
		Sources:       map[string]string{"location": "custom_attributes.office.city", "display_name": "custom_attributes.employee_id"},
		DefaultRole:   "viewer",
		InviteTTLDays: 3,
		RoleMappings:  []db.RoleMapping{{GroupID: "g_eng", RoleSlug: "admin"}, {GroupID: "g_ops", RoleSlug: "viewer"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	rv, err := f.svc.Review(f.ctx, f.adminA)
	if err != nil {
		t.Fatal(err)
	}
	ada := rv.Buckets[BucketNew][0]
	if ada.Role != "admin" {
		t.Errorf("Ada (Engineering→admin, Ops→viewer) gets %q, want admin", ada.Role)
	}
	if ada.Attr("location") != "Paris" || ada.Attr("display_name") != "42" {
		t.Errorf("custom paths: location %q, display_name %q", ada.Attr("location"), ada.Attr("display_name"))
	}
	// Dee (no mapped group) gets the default, even though refused.
	if got := rv.Buckets[BucketDomain][0].Role; got != "viewer" {
		t.Errorf("default role = %q, want viewer", got)
	}
	// The TTL setting shapes the invitation.
	res, err := f.svc.Invite(f.ctx, f.adminA, InviteInput{Key: "key-0000000000000001"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Created != 1 {
		t.Fatalf("created %d", res.Created)
	}
	inv, _, _, _, err := f.svc.Invitations(f.ctx, f.adminA, db.InvitationFilter{})
	if err != nil || len(inv) != 1 {
		t.Fatal(err, len(inv))
	}
	if got := inv[0].ExpiresAt.Sub(f.now); got != 72*time.Hour {
		t.Errorf("expiry after %v, want 72h", got)
	}
}

func TestInvite_CreatesAndIsIdempotent(t *testing.T) {
	f := newInviteFixture(t)
	f.standard(t)
	in := InviteInput{Key: "idem-key-123456789012", Overrides: map[string]string{"u_ada": "admin"}}
	res, err := f.svc.Invite(f.ctx, f.adminA, in)
	if err != nil {
		t.Fatal(err)
	}
	if res.Created != 1 || res.Refused[BucketInactive] != 1 || res.Refused[BucketNoEmail] != 1 ||
		res.Refused[BucketDomain] != 1 || res.Refused[BucketDupEmail] != 1 || res.Gone != 1 || res.Merged != 1 {
		t.Errorf("result = %+v", res)
	}
	check := func() {
		t.Helper()
		for q, want := range map[string]int{
			`SELECT count(*) FROM accounts`:                                              1,
			`SELECT count(*) FROM invitations`:                                           1,
			`SELECT count(*) FROM outbox WHERE kind = 'invitation'`:                      1,
			`SELECT count(*) FROM invite_batches`:                                        1,
			`SELECT count(*) FROM account_history`:                                       1,
			`SELECT count(*) FROM audit_log WHERE action = 'invite.created'`:             1,
			`SELECT count(*) FROM selections`:                                            0,
			`SELECT count(*) FROM accounts WHERE role = 'admin' AND role_overridden = 1`: 1,
		} {
			if got := f.count(t, q); got != want {
				t.Errorf("%s = %d, want %d", q, got, want)
			}
		}
	}
	check()
	// The same key again (double submit, retry): the same result, nothing new.
	f.sel(t, f.adminA, "user:u_ada") // even with a fresh selection
	again, err := f.svc.Invite(f.ctx, f.adminA, in)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Replayed || again.BatchID != res.BatchID || again.Created != res.Created || again.Summary() != res.Summary() {
		t.Errorf("replay = %+v, want the first result %+v", again, res)
	}
	f.d.Tx(f.ctx, func(tx db.Tx) error { return db.ClearSelectionTx(f.ctx, tx, f.adminA.AdminID) })
	check()
	// Another admin cannot replay someone else's key.
	if _, err := f.svc.Invite(f.ctx, f.adminB, in); !errors.Is(err, ErrInvalid) {
		t.Errorf("other admin's key: %v, want ErrInvalid", err)
	}
	// The result page is the admin's own.
	if _, err := f.svc.InviteBatchResult(f.ctx, f.adminB, res.BatchID); !errors.Is(err, ErrNotFound) {
		t.Errorf("other admin's batch: %v, want ErrNotFound", err)
	}
	// Selecting Ada again now shows her as pending; Fay is no longer a
	// duplicate email but has Ada's email → existing account.
	f.sel(t, f.adminA, "user:u_ada", "user:u_fay")
	rv, err := f.svc.Review(f.ctx, f.adminA)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(names(rv.Buckets[BucketPending])) != "[u_ada u_fay]" {
		t.Errorf("pending = %v", names(rv.Buckets[BucketPending]))
	}
	// Empty form key.
	if _, err := f.svc.Invite(f.ctx, f.adminA, InviteInput{Key: ""}); !errors.Is(err, ErrInvalid) {
		t.Errorf("no key: %v", err)
	}
}

// In an invite of more people than one INSERT holds, each email goes to
// its person and names that person's invitation (ref), and its link opens
// that invitation: the emails, composed while the accounts are written,
// stay index for index with them.
func TestInvite_EmailsMatchTheirInvitations(t *testing.T) {
	f := newInviteFixture(t)
	seedGroup(t, f, 1234)
	res, err := f.svc.Invite(f.ctx, f.adminA, InviteInput{Key: "many-key-000000000001"})
	if err != nil || res.Created != 1234 {
		t.Fatalf("created %d, %v", res.Created, err)
	}
	type mail struct{ to, ref, text string }
	var mails []mail
	err = f.d.Tx(f.ctx, func(tx db.Tx) error {
		rows, err := tx.QueryContext(f.ctx, `SELECT to_addr, ref, text_body FROM outbox WHERE kind = 'invitation'`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m mail
			if err := rows.Scan(&m.to, &m.ref, &m.text); err != nil {
				return err
			}
			mails = append(mails, m)
		}
		return rows.Err()
	})
	if err != nil || len(mails) != 1234 {
		t.Fatalf("%d emails, %v", len(mails), err)
	}
	bad := 0
	for _, m := range mails {
		link := linkRE.FindStringSubmatch(m.text)
		if link == nil || f.count(t, `SELECT count(*) FROM invitations i JOIN accounts a ON a.id = i.account_id
			WHERE i.id = ? AND a.email = ? AND i.token_hash = ?`, m.ref, m.to, HashToken(link[1])) != 1 {
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d emails do not match their invitation", bad, len(mails))
	}
}

func TestInvite_NothingSelected(t *testing.T) {
	f := newInviteFixture(t)
	if _, err := f.svc.Invite(f.ctx, f.adminA, InviteInput{Key: "nothing-selected-0001"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("err = %v, want ErrInvalid", err)
	}
}

func TestInvite_AllOrNothing(t *testing.T) {
	for _, stage := range []string{"after-accounts", "before-clear"} {
		t.Run(stage, func(t *testing.T) {
			f := newInviteFixture(t)
			f.standard(t)
			boom := errors.New("injected failure")
			inviteFault = func(s string) error {
				if s == stage {
					return boom
				}
				return nil
			}
			defer func() { inviteFault = nil }()
			if _, err := f.svc.Invite(f.ctx, f.adminA, InviteInput{Key: "fail-key-000000000001"}); !errors.Is(err, boom) {
				t.Fatalf("err = %v, want the injected failure", err)
			}
			for _, tbl := range []string{"accounts", "invitations", "outbox", "invite_batches", "account_history"} {
				if n := f.count(t, `SELECT count(*) FROM `+tbl); n != 0 {
					t.Errorf("%s has %d rows after a failed invite", tbl, n)
				}
			}
			if n := f.count(t, `SELECT count(*) FROM selections`); n != 7 {
				t.Errorf("selection has %d items after a failed invite, want 7 kept", n)
			}
			inviteFault = nil
			res, err := f.svc.Invite(f.ctx, f.adminA, InviteInput{Key: "fail-key-000000000001"})
			if err != nil || res.Created != 1 || res.Replayed {
				t.Errorf("retry after failure: %+v, %v", res, err)
			}
		})
	}
}

// A panic while composing the emails (on their own goroutine) reaches the
// caller, as one in the transaction would, and the invite is rolled back:
// the process does not end and nothing is half-written.
func TestInvite_PanicWhileComposingRollsBack(t *testing.T) {
	f := newInviteFixture(t)
	f.standard(t)
	f.svc.InvitationHTML = func(InvitationEmail) (string, error) { panic("render exploded") }
	func() {
		defer func() {
			if r := recover(); r != "render exploded" {
				t.Errorf("recovered %v, want the render's panic", r)
			}
		}()
		_, _ = f.svc.Invite(f.ctx, f.adminA, InviteInput{Key: "panic-key-00000000001"})
	}()
	for _, tbl := range []string{"accounts", "invitations", "outbox", "invite_batches"} {
		if n := f.count(t, `SELECT count(*) FROM `+tbl); n != 0 {
			t.Errorf("%s has %d rows after a panicking invite", tbl, n)
		}
	}
}

func TestInvite_BadOverrideChangesNothing(t *testing.T) {
	f := newInviteFixture(t)
	f.standard(t)
	_, err := f.svc.Invite(f.ctx, f.adminA, InviteInput{Key: "override-key-00000001", Overrides: map[string]string{"u_ada": "emperor"}})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "emperor") {
		t.Fatalf("err = %v", err)
	}
	if n := f.count(t, `SELECT count(*) FROM accounts`); n != 0 {
		t.Errorf("%d accounts after a refused form", n)
	}
}

func TestInvite_TokenStoredOnlyAsHash(t *testing.T) {
	f := newInviteFixture(t)
	f.standard(t)
	if _, err := f.svc.Invite(f.ctx, f.adminA, InviteInput{Key: "hash-key-000000000001"}); err != nil {
		t.Fatal(err)
	}
	tok := f.tokens(t)["ada@acme.test"]
	if len(tok) < 22 { // 128 bits in base64url
		t.Fatalf("token %q too short", tok)
	}
	if n := f.count(t, `SELECT count(*) FROM invitations WHERE token_hash = ?`, HashToken(tok)); n != 1 {
		t.Errorf("no invitation with the token's hash")
	}
	for _, tbl := range []string{"invitations", "accounts", "account_history", "audit_log", "invite_batches"} {
		var dump string
		f.d.Tx(f.ctx, func(tx db.Tx) error {
			rows, err := tx.QueryContext(context.Background(), `SELECT * FROM `+tbl)
			if err != nil {
				return err
			}
			defer rows.Close()
			cols, _ := rows.Columns()
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			for rows.Next() {
				rows.Scan(ptrs...)
				dump += fmt.Sprint(vals...)
			}
			return nil
		})
		if strings.Contains(dump, tok) {
			t.Errorf("table %s holds the raw token", tbl)
		}
	}
}

func TestInvitation_AcceptExpireResendRevoke(t *testing.T) {
	f := newInviteFixture(t)
	f.standard(t)
	if _, err := f.svc.Invite(f.ctx, f.adminA, InviteInput{Key: "accept-key-0000000001"}); err != nil {
		t.Fatal(err)
	}
	tok := f.tokens(t)["ada@acme.test"]
	pub, err := f.svc.OpenInvitation(f.ctx, tok)
	if err != nil || pub.Email != "ada@acme.test" || pub.OrgName != "Acme" || pub.JobTitle != "Engineer" {
		t.Fatalf("open: %+v %v", pub, err)
	}
	if _, err := f.svc.OpenInvitation(f.ctx, "nope"); !errors.Is(err, ErrInvitationNotFound) {
		t.Errorf("unknown token: %v", err)
	}
	if _, err := f.svc.AcceptInvitation(f.ctx, tok, "short"); !errors.Is(err, ErrInvalid) {
		t.Errorf("short password: %v", err)
	}
	// Expired.
	f.now = f.now.Add(DefaultInviteTTL + time.Second)
	if _, err := f.svc.AcceptInvitation(f.ctx, tok, "long enough password"); !errors.Is(err, ErrInvitationExpired) {
		t.Errorf("expired: %v", err)
	}
	list, _, _, _, _ := f.svc.Invitations(f.ctx, f.adminA, db.InvitationFilter{Status: db.InvitationExpired})
	if len(list) != 1 {
		t.Errorf("expired filter lists %d", len(list))
	}
	id := list[0].ID
	// Tenancy: another organisation cannot touch it.
	if _, err := f.svc.Resend(f.ctx, f.adminB, id); !errors.Is(err, ErrNotFound) {
		t.Errorf("cross-org resend: %v", err)
	}
	if _, err := f.svc.Revoke(f.ctx, f.adminB, id); !errors.Is(err, ErrNotFound) {
		t.Errorf("cross-org revoke: %v", err)
	}
	// Resend: new token, old one dies.
	if _, err := f.svc.Resend(f.ctx, f.adminA, id); err != nil {
		t.Fatal(err)
	}
	tok2 := f.tokens(t)["ada@acme.test"]
	if tok2 == tok {
		t.Fatal("resend kept the token")
	}
	if _, err := f.svc.OpenInvitation(f.ctx, tok); !errors.Is(err, ErrInvitationNotFound) {
		t.Errorf("old token after resend: %v", err)
	}
	// Revoke, then the link says so; resend revives it.
	if _, err := f.svc.Revoke(f.ctx, f.adminA, id); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.OpenInvitation(f.ctx, tok2); !errors.Is(err, ErrInvitationRevoked) {
		t.Errorf("revoked: %v", err)
	}
	if _, err := f.svc.Resend(f.ctx, f.platform, id); err != nil {
		t.Fatal(err)
	}
	tok3 := f.tokens(t)["ada@acme.test"]
	if _, err := f.svc.AcceptInvitation(f.ctx, tok3, "long enough password"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.AcceptInvitation(f.ctx, tok3, "long enough password"); !errors.Is(err, ErrInvitationUsed) {
		t.Errorf("second accept: %v", err)
	}
	if _, err := f.svc.Resend(f.ctx, f.adminA, id); !errors.Is(err, ErrInvalid) {
		t.Errorf("resend accepted: %v", err)
	}
	det, err := f.svc.Account(f.ctx, f.adminA, list[0].AccountID)
	if err != nil {
		t.Fatal(err)
	}
	if det.Account.State != "active" || det.Invitation == nil || det.Invitation.Status != db.InvitationAccepted || len(det.History) != 2 {
		t.Errorf("account after accept: %+v, %+v, %d history", det.Account, det.Invitation, len(det.History))
	}
	if _, err := f.svc.Account(f.ctx, f.adminB, list[0].AccountID); !errors.Is(err, ErrNotFound) {
		t.Errorf("cross-org account: %v", err)
	}
	for _, a := range []string{"invite.resent", "invite.revoked", "invite.accepted"} {
		if n := f.count(t, `SELECT count(*) FROM audit_log WHERE action = ?`, a); n == 0 {
			t.Errorf("no %s audit entry", a)
		}
	}
	if n := f.count(t, `SELECT count(*) FROM outbox`); n != 3 {
		t.Errorf("outbox has %d emails, want 3 (invite + 2 resends)", n)
	}
}

func TestSettings_ValidationAndTenancy(t *testing.T) {
	f := newInviteFixture(t)
	f.standard(t)
	f.group(t, "g_b", "dir_b", "org_b", "Globex staff", "u_zoe")
	base := SettingsInput{DefaultRole: "member", InviteTTLDays: 7}
	cases := []struct {
		name string
		in   func(SettingsInput) SettingsInput
	}{
		{"unknown field", func(s SettingsInput) SettingsInput { s.Sources = map[string]string{"job_title": "title"}; return s }},
		{"bad path", func(s SettingsInput) SettingsInput {
			s.Sources = map[string]string{"job_title": `custom_attributes.a"b`}
			return s
		}},
		{"empty email", func(s SettingsInput) SettingsInput { s.Sources = map[string]string{"email": ""}; return s }},
		{"unknown role", func(s SettingsInput) SettingsInput { s.DefaultRole = "king"; return s }},
		{"ttl", func(s SettingsInput) SettingsInput { s.InviteTTLDays = 0; return s }},
		{"other org group", func(s SettingsInput) SettingsInput {
			s.RoleMappings = []db.RoleMapping{{GroupID: "g_b", RoleSlug: "admin"}}
			return s
		}},
	}
	for _, c := range cases {
		if err := f.svc.SaveSettings(f.ctx, f.adminA, "", c.in(base)); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", c.name, err)
		}
	}
	if _, err := f.svc.Settings(f.ctx, f.adminA, "org_b", nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("org admin reading another org's settings: %v", err)
	}
	if err := f.svc.SaveSettings(f.ctx, f.adminA, "org_b", base); !errors.Is(err, ErrNotFound) {
		t.Errorf("org admin saving another org's settings: %v", err)
	}
	st, err := f.svc.Settings(f.ctx, f.platform, "org_a", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Organizations) != 2 || st.Preview.Total != 5 || len(st.Preview.Samples) != 5 {
		t.Errorf("platform settings: %d orgs, preview total %d, %d samples", len(st.Organizations), st.Preview.Total, len(st.Preview.Samples))
	}
	// Phone has no source in this data: everyone is empty, so a warning.
	if w := st.Preview.EmptyWarning("phone"); !strings.Contains(w, "100% of 5 people") {
		t.Errorf("phone warning = %q", w)
	}
	if w := st.Preview.EmptyWarning("email"); w != "" {
		t.Errorf("email warning = %q (only Cy lacks one)", w)
	}
}

func TestValidSourcePath(t *testing.T) {
	ok := []string{"", "email", "custom_attributes.job_title", "custom_attributes.a.b-c.d_e", "name | first_name", "custom_attributes.Dept Name"}
	bad := []string{"job", "custom_attributes.", "custom_attributes.a..b", `custom_attributes.a"`, "custom_attributes.$x", "raw_attributes.x", "email; DROP"}
	for _, p := range ok {
		if err := ValidSourcePath(p); err != nil {
			t.Errorf("%q: %v", p, err)
		}
	}
	for _, p := range bad {
		if err := ValidSourcePath(p); !errors.Is(err, ErrInvalid) {
			t.Errorf("%q accepted", p)
		}
	}
}

func TestInviteCollectors(t *testing.T) {
	f := newInviteFixture(t)
	f.standard(t)
	if _, err := f.svc.Invite(f.ctx, f.adminA, InviteInput{Key: "metrics-key-000000001"}); err != nil {
		t.Fatal(err)
	}
	cs := f.svc.InviteCollectors()
	if len(cs) != 2 {
		t.Fatalf("%d collectors", len(cs))
	}
	ch := make(chan prometheusMetric, 100)
	collectAll(cs[0], ch)
	got := map[string]float64{}
	for m := range ch {
		got[m.label] = m.value
	}
	if got["accounts/invited"] != 1 || got["invitations/pending"] != 1 || got["accounts/active"] != 0 {
		t.Errorf("gauges = %v", got)
	}
}

// BenchmarkInvite10k invites 10,000 selected people in one transaction.
func BenchmarkInvite10k(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		f := newInviteFixture(b)
		seed10k(b, f)
		b.StartTimer()
		res, err := f.svc.Invite(f.ctx, f.adminA, InviteInput{Key: fmt.Sprintf("bench-key-%012d", i)})
		b.StopTimer()
		if err != nil || res.Created != 10000 {
			b.Fatalf("created %d, %v", res.Created, err)
		}
		b.StartTimer()
	}
}

type prometheusMetric struct {
	label string // "accounts/<state>" or "invitations/<status>"
	value float64
}

// collectAll gathers a collector's metrics into ch and closes it.
func collectAll(c prometheus.Collector, out chan<- prometheusMetric) {
	ch := make(chan prometheus.Metric, 100)
	c.Collect(ch)
	close(ch)
	for m := range ch {
		var pb dto.Metric
		if err := m.Write(&pb); err != nil {
			continue
		}
		kind := "accounts"
		if strings.Contains(m.Desc().String(), "roster_invitations") {
			kind = "invitations"
		}
		out <- prometheusMetric{label: kind + "/" + pb.GetLabel()[0].GetValue(), value: pb.GetGauge().GetValue()}
	}
	close(out)
}

// seed10k adds 10,000 active people in one group and selects the group.
func seed10k(t testing.TB, f *inviteFixture) { seedGroup(t, f, 10000) }

// seedGroup adds n active people in one group and selects the group.
func seedGroup(t testing.TB, f *inviteFixture, n int) {
	t.Helper()
	err := f.d.Tx(f.ctx, func(tx db.Tx) error {
		w := f.d.Replica(f.ctx, tx)
		for j := 0; j < n; j++ {
			if err := w.ListUser(db.DirectoryUser{ID: fmt.Sprintf("u%05d", j), DirectoryID: "dir_a", OrganizationID: "org_a",
				FirstName: "Person", LastName: fmt.Sprint(j), Email: fmt.Sprintf("p%05d@acme.test", j), State: "active",
				CustomAttributes: json.RawMessage(`{"job_title":"Engineer","department":"R&D","location":"Remote"}`)}, 1); err != nil {
				return err
			}
		}
		if err := w.ListGroup(db.DirectoryGroup{ID: "g_all", DirectoryID: "dir_a", OrganizationID: "org_a", Name: "All"}, 1); err != nil {
			return err
		}
		for j := 0; j < n; j++ {
			if _, err := w.ListMembership(db.Membership{DirectoryID: "dir_a", GroupID: "g_all", UserID: fmt.Sprintf("u%05d", j)}, 1); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	f.sel(t, f.adminA, "group:g_all")
}
