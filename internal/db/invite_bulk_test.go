package db

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestCreateInvitesTx_ChunksAndBatches invites more people than one
// multi-row INSERT holds, in two organisations of one batch (as a
// multi-organisation invite does), after an invite made elsewhere: every
// person gets exactly one account, invitation and history line, and the
// returned ids are their invitations, in order.
func TestCreateInvitesTx_ChunksAndBatches(t *testing.T) {
	d, ctx := openAccountsDB(t)
	now := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	createAccounts(t, d, ctx, "oz", 1, now)
	sizes := map[string]int{"oa": insertChunk + 3, "ob": 2}
	got := map[string]int64{}
	err := d.Tx(ctx, func(tx Tx) error {
		b, err := InsertBatchTx(ctx, tx, InviteBatch{Key: "bulk-key", AdminID: 1, CreatedAt: now})
		if err != nil {
			return err
		}
		for _, org := range []string{"oa", "ob"} {
			var people []NewInvite
			for i := 0; i < sizes[org]; i++ {
				people = append(people, NewInvite{DirectoryUserID: fmt.Sprintf("%s-u%d", org, i), DirectoryID: "dir_" + org,
					OrganizationID: org, Email: fmt.Sprintf("p%d@%s.test", i, org), FirstName: "P", Role: "member",
					RoleOverridden: i == 1, TokenHash: fmt.Sprintf("h-%s-%d", org, i)})
			}
			ids, err := CreateInvitesTx(ctx, tx, b, "admin@x.test", people, now, now.Add(time.Hour))
			if err != nil {
				return err
			}
			if len(ids) != len(people) {
				return fmt.Errorf("%s: %d ids for %d people", org, len(ids), len(people))
			}
			for i, id := range ids {
				got[people[i].DirectoryUserID] = id
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	total := sizes["oa"] + sizes["ob"] + 1
	for q, want := range map[string]int{
		`SELECT count(*) FROM accounts WHERE state = 'invited'`:                                                               total,
		`SELECT count(*) FROM accounts WHERE role_overridden = 1`:                                                             2,
		`SELECT count(*) FROM invitations WHERE status = 'pending' AND batch_id = 2`:                                          total - 1,
		`SELECT count(*) FROM invitations i JOIN accounts a ON a.id = i.account_id AND a.organization_id = i.organization_id`: total,
		`SELECT count(*) FROM account_history WHERE field = 'state' AND new_value = 'invited'`:                                total,
		`SELECT count(DISTINCT account_id) FROM account_history`:                                                              total,
	} {
		var n int
		if err := d.r.QueryRowContext(ctx, q).Scan(&n); err != nil || n != want {
			t.Errorf("%s = %d (%v), want %d", q, n, err, want)
		}
	}
	for uid, id := range got {
		var dirUser, hash string
		err := d.r.QueryRowContext(ctx, `SELECT a.directory_user_id, i.token_hash FROM invitations i JOIN accounts a ON a.id = i.account_id
			WHERE i.id = ?`, id).Scan(&dirUser, &hash)
		if err != nil || dirUser != uid || hash != "h-"+strings.Replace(uid, "-u", "-", 1) {
			t.Fatalf("invitation %d belongs to %q with token %q, want %q (%v)", id, dirUser, hash, uid, err)
		}
	}
	inv, err := d.InvitationByTokenHash(ctx, "h-oa-502", now)
	if err != nil || inv.Email != "p502@oa.test" || inv.Status != InvitationPending {
		t.Errorf("last of the chunk: %+v %v", inv, err)
	}
}

// TestEnqueueEmailsTx_Chunks writes more emails than one INSERT holds, each
// exactly as EnqueueEmail would; a recipient-less email fails the lot.
func TestEnqueueEmailsTx_Chunks(t *testing.T) {
	d, ctx := openAccountsDB(t)
	now := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	n := 2*insertChunk + 1
	mails := make([]OutboxEmail, n)
	for i := range mails {
		mails[i] = OutboxEmail{To: fmt.Sprintf("p%d@oa.test", i), Subject: "s", Text: fmt.Sprint("t", i), HTML: "<p>h</p>",
			Kind: "invitation", Ref: fmt.Sprint(i), OrganizationID: "oa"}
	}
	mails[n-1].OrganizationID = ""
	if err := d.Tx(ctx, func(tx Tx) error { return EnqueueEmailsTx(ctx, tx, mails, now) }); err != nil {
		t.Fatal(err)
	}
	list, err := d.ListEmails(ctx, EmailFilter{AllOrgs: true, Limit: n + 10})
	if err != nil || len(list) != n {
		t.Fatalf("%d emails, %v", len(list), err)
	}
	var nullOrg int
	_ = d.r.QueryRowContext(ctx, `SELECT count(*) FROM outbox WHERE organization_id IS NULL`).Scan(&nullOrg)
	if nullOrg != 1 {
		t.Errorf("%d emails without organisation, want 1", nullOrg)
	}
	e, err := d.EmailByID(ctx, int64(n))
	if err != nil || e.To != fmt.Sprintf("p%d@oa.test", n-1) || e.Status != "pending" || e.Attempts != 0 || !e.NextAttemptAt.Equal(now) || !e.CreatedAt.Equal(now) {
		t.Errorf("last email: %+v %v", e, err)
	}
	bad := []OutboxEmail{{To: "a@oa.test"}, {To: " "}}
	err = d.Tx(ctx, func(tx Tx) error { return EnqueueEmailsTx(ctx, tx, bad, now) })
	if err == nil {
		t.Error("an email without recipient was accepted")
	}
	if list, _ := d.ListEmails(ctx, EmailFilter{AllOrgs: true, Limit: n + 10}); len(list) != n {
		t.Errorf("%d emails after the failed batch, want %d", len(list), n)
	}
}

// A row a unique index refuses, in the second chunk of an invite's INSERTs
// (run through Query), fails CreateInvitesTx, and the transaction keeps
// nothing of the chunks before it.
func TestCreateInvitesTx_RefusedRowFailsTheLot(t *testing.T) {
	d, ctx := openAccountsDB(t)
	now := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	people := make([]NewInvite, insertChunk+2)
	for i := range people {
		people[i] = NewInvite{DirectoryUserID: fmt.Sprintf("u%d", i), DirectoryID: "dir_oa", OrganizationID: "oa",
			Email: fmt.Sprintf("p%d@oa.test", i), Role: "member", TokenHash: fmt.Sprintf("h%d", i)}
	}
	people[insertChunk+1].Email = people[3].Email // accounts_org_email refuses it
	err := d.Tx(ctx, func(tx Tx) error {
		_, err := CreateInvitesTx(ctx, tx, 0, "admin@x.test", people, now, now.Add(time.Hour))
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "UNIQUE") {
		t.Fatalf("err = %v, want a UNIQUE constraint error", err)
	}
	var n int
	if err := d.r.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM accounts) + (SELECT count(*) FROM invitations)`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d accounts and invitations kept (%v)", n, err)
	}
}
