package db

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

func openAccountsDB(t *testing.T) (*DB, context.Context) {
	t.Helper()
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d, ctx
}

func TestSourceExpr(t *testing.T) {
	d, ctx := openAccountsDB(t)
	err := d.Tx(ctx, func(tx Tx) error {
		return d.Replica(ctx, tx).ListUser(DirectoryUser{ID: "u1", DirectoryID: "d", OrganizationID: "o", Email: "a@x.test",
			FirstName: "Ada", JobTitle: "Old title",
			CustomAttributes: json.RawMessage(`{"job_title":"","dept":{"name":"R&D"},"n":42,"with space":"yes","arr":["a"]}`)}, 1)
	})
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"email":                                   "a@x.test",
		"custom_attributes.dept.name":             "R&D",
		"custom_attributes.n":                     "42",
		"custom_attributes.with space":            "yes",
		"custom_attributes.missing":               "",
		"custom_attributes.job_title | job_title": "Old title", // empty custom value falls through
		"custom_attributes.missing | first_name":  "Ada",
		"":                                        "",
	}
	for path, want := range cases {
		expr, args, err := SourceExpr(path)
		if err != nil {
			t.Fatalf("%q: %v", path, err)
		}
		var got string
		if err := d.r.QueryRowContext(ctx, `SELECT `+expr+` FROM directory_users u WHERE u.id = 'u1'`, args...).Scan(&got); err != nil {
			t.Fatalf("%q: %v", path, err)
		}
		if got != want {
			t.Errorf("%q = %q, want %q", path, got, want)
		}
	}
	for _, bad := range []string{"password_hash", "custom_attributes.", `custom_attributes.a"b`, "custom_attributes.a..b", "u.email; --"} {
		if _, _, err := SourceExpr(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func createAccounts(t *testing.T, d *DB, ctx context.Context, org string, n int, now time.Time) {
	t.Helper()
	err := d.Tx(ctx, func(tx Tx) error {
		b, err := InsertBatchTx(ctx, tx, InviteBatch{Key: fmt.Sprintf("k-%s-%d", org, n), AdminID: 1, CreatedAt: now})
		if err != nil {
			return err
		}
		var people []NewInvite
		for i := 0; i < n; i++ {
			people = append(people, NewInvite{DirectoryUserID: fmt.Sprintf("%s-u%d", org, i), DirectoryID: "dir_" + org, OrganizationID: org,
				Email: fmt.Sprintf("p%d@%s.test", i, org), FirstName: "P", LastName: fmt.Sprint(i), Role: "member", TokenHash: fmt.Sprintf("h-%s-%d", org, i)})
		}
		ids, err := CreateInvitesTx(ctx, tx, b, "admin@x.test", people, now, now.Add(time.Hour))
		if err != nil {
			return err
		}
		if len(ids) != n {
			return fmt.Errorf("%d invitation ids for %d people", len(ids), n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestAccounts_ListPagingStreamCounts(t *testing.T) {
	d, ctx := openAccountsDB(t)
	now := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	createAccounts(t, d, ctx, "oa", 7, now)
	createAccounts(t, d, ctx, "ob", 2, now)
	f := AccountFilter{OrganizationID: "oa", Limit: 3}
	p1, err := d.ListAccounts(ctx, f)
	if err != nil || len(p1) != 3 || p1[0].ID != 7 || p1[2].ID != 5 {
		t.Fatalf("page 1: %v %v", accountIDs(p1), err)
	}
	f.BeforeID = p1[2].ID
	p2, _ := d.ListAccounts(ctx, f)
	if fmt.Sprint(accountIDs(p2)) != "[4 3 2]" {
		t.Errorf("page 2 = %v", accountIDs(p2))
	}
	f.BeforeID, f.AfterID = 0, p2[0].ID
	back, _ := d.ListAccounts(ctx, f)
	if fmt.Sprint(accountIDs(back)) != fmt.Sprint(accountIDs(p1)) {
		t.Errorf("back from page 2 = %v, want %v", accountIDs(back), accountIDs(p1))
	}
	if n, _ := d.CountAccounts(ctx, AccountFilter{OrganizationID: "oa", Query: "P6@OA"}); n != 1 {
		t.Errorf("case-insensitive search counts %d", n)
	}
	if n, _ := d.CountAccounts(ctx, AccountFilter{AllOrgs: true}); n != 9 {
		t.Errorf("all orgs count %d", n)
	}
	if n, _ := d.CountAccounts(ctx, AccountFilter{OrganizationID: "oa", Query: "%"}); n != 0 {
		t.Errorf("LIKE wildcard not escaped: %d", n)
	}
	var streamed []int64
	if err := d.StreamAccounts(ctx, AccountFilter{OrganizationID: "ob"}, func(a Account) error { streamed = append(streamed, a.ID); return nil }); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(streamed) != "[8 9]" {
		t.Errorf("streamed %v", streamed)
	}
	stop := errors.New("stop")
	if err := d.StreamAccounts(ctx, AccountFilter{AllOrgs: true}, func(Account) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("stream error %v", err)
	}
	st, _ := d.AccountStateCounts(ctx)
	if st["invited"] != 9 || st["active"] != 0 {
		t.Errorf("state counts %v", st)
	}
	inv, _ := d.InvitationStatusCounts(ctx, now.Add(2*time.Hour))
	if inv[InvitationExpired] != 9 || inv[InvitationPending] != 0 {
		t.Errorf("invitation counts %v", inv)
	}
	if n, _ := d.CountInvitations(ctx, InvitationFilter{OrganizationID: "ob", Status: InvitationPending, Now: now}); n != 2 {
		t.Errorf("pending in ob: %d", n)
	}
	// One account per directory user and per email: a second insert fails
	// as a whole.
	err = d.Tx(ctx, func(tx Tx) error {
		_, err := CreateInvitesTx(ctx, tx, 1, "x", []NewInvite{{DirectoryUserID: "new", OrganizationID: "oa", Email: "p1@oa.test", TokenHash: "zz"}}, now, now)
		return err
	})
	if err == nil {
		t.Error("a duplicate email in an organisation was accepted")
	}
}

func TestInvitation_RenewRevokeAccept(t *testing.T) {
	d, ctx := openAccountsDB(t)
	now := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	createAccounts(t, d, ctx, "oa", 1, now)
	inv, err := d.InvitationByTokenHash(ctx, "h-oa-0", now)
	if err != nil || inv.Status != InvitationPending || inv.Email != "p0@oa.test" {
		t.Fatalf("%+v %v", inv, err)
	}
	tx := func(fn func(Tx) (bool, error)) bool {
		var ok bool
		if err := d.Tx(ctx, func(tx Tx) (err error) { ok, err = fn(tx); return err }); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !tx(func(t Tx) (bool, error) { return RevokeInvitationTx(ctx, t, inv.ID, now) }) {
		t.Error("revoke did nothing")
	}
	if tx(func(t Tx) (bool, error) { return AcceptInvitationTx(ctx, t, inv.ID, inv.AccountID, "h", now) }) {
		t.Error("a revoked invitation was accepted")
	}
	if !tx(func(t Tx) (bool, error) {
		return RenewInvitationTx(ctx, t, inv.ID, "new-hash", now, now.Add(time.Hour))
	}) {
		t.Error("renew did nothing")
	}
	if _, err := d.InvitationByTokenHash(ctx, "h-oa-0", now); !errors.Is(err, ErrNotFound) {
		t.Errorf("old hash still opens: %v", err)
	}
	if tx(func(t Tx) (bool, error) {
		return AcceptInvitationTx(ctx, t, inv.ID, inv.AccountID, "h", now.Add(2*time.Hour))
	}) {
		t.Error("an expired invitation was accepted")
	}
	if !tx(func(t Tx) (bool, error) { return AcceptInvitationTx(ctx, t, inv.ID, inv.AccountID, "h", now) }) {
		t.Error("accept did nothing")
	}
	if tx(func(t Tx) (bool, error) { return AcceptInvitationTx(ctx, t, inv.ID, inv.AccountID, "h", now) }) {
		t.Error("accepted twice")
	}
	if tx(func(t Tx) (bool, error) { return RenewInvitationTx(ctx, t, inv.ID, "x", now, now) }) {
		t.Error("an accepted invitation was renewed")
	}
	a, _ := d.AccountByID(ctx, inv.AccountID)
	if a.State != "active" {
		t.Errorf("account state %q", a.State)
	}
}

func accountIDs(as []Account) []int64 {
	var out []int64
	for _, a := range as {
		out = append(out, a.ID)
	}
	return out
}
