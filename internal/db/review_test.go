package db

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"
)

func openPolicyTest(t *testing.T) (*DB, context.Context) {
	t.Helper()
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d, ctx
}

func TestReviewItems_DedupeDecideAndClose(t *testing.T) {
	d, ctx := openPolicyTest(t)
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	var first, again int64
	var created, createdAgain bool
	err := d.Tx(ctx, func(tx Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO accounts (id, organization_id, email, created_at, updated_at) VALUES (7, 'org_a', 'a@x.example', '', '')`); err != nil {
			return err
		}
		var err error
		it := ReviewItem{OrganizationID: "org_a", Kind: ReviewFlag, AccountID: 7, Reason: "left", Action: ReviewActionSuspend, DedupeKey: "deprov:7", CreatedAt: now}
		if first, created, err = InsertReviewItemTx(ctx, tx, it); err != nil {
			return err
		}
		again, createdAgain, err = InsertReviewItemTx(ctx, tx, it)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !created || createdAgain || first != again {
		t.Fatalf("dedupe: first %d (%v), again %d (%v)", first, created, again, createdAgain)
	}
	it, err := d.ReviewItemByID(ctx, first)
	if err != nil || it.AccountEmail != "a@x.example" || it.Status != ReviewOpen || it.Action != ReviewActionSuspend {
		t.Fatalf("item = %+v, %v", it, err)
	}
	if n, _ := d.CountReviewItems(ctx, ReviewFilter{OrganizationID: "org_b", Status: ReviewOpen}); n != 0 {
		t.Errorf("another organisation counts %d items", n)
	}
	var ok1, ok2 bool
	err = d.Tx(ctx, func(tx Tx) error {
		var err error
		if ok1, err = DecideReviewItemTx(ctx, tx, first, ReviewApproved, "admin@x", "", now); err != nil {
			return err
		}
		ok2, err = DecideReviewItemTx(ctx, tx, first, ReviewDismissed, "other@x", "", now)
		return err
	})
	if err != nil || !ok1 || ok2 {
		t.Fatalf("decide: %v %v %v", ok1, ok2, err)
	}
	// Decided: the same question may be asked again, but the key is known.
	err = d.Tx(ctx, func(tx Tx) error {
		used, err := ReviewKeyUsedTx(ctx, tx, "deprov:7")
		if err != nil || !used {
			t.Errorf("key used = %v, %v", used, err)
		}
		id, created, err := InsertReviewItemTx(ctx, tx, ReviewItem{OrganizationID: "org_a", Kind: ReviewFlag, AccountID: 7,
			Reason: "left again", Action: ReviewActionSuspend, DedupeKey: "deprov:7", CreatedAt: now})
		if err != nil || !created || id == first {
			t.Errorf("re-ask: %d %v %v", id, created, err)
		}
		n, err := CloseOpenItemsTx(ctx, tx, 7, []string{ReviewActionSuspend}, "sync", "back", now)
		if err != nil || n != 1 {
			t.Errorf("close: %d %v", n, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if open, _ := d.OpenReviewCount(ctx); open[ReviewFlag] != 0 {
		t.Errorf("open flags = %d", open[ReviewFlag])
	}
}

func TestScheduledActions_OnePendingPerAccountAndDue(t *testing.T) {
	d, ctx := openPolicyTest(t)
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	err := d.Tx(ctx, func(tx Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO accounts (id, organization_id, email, created_at, updated_at) VALUES (1, 'o', 'a@x', '', '')`); err != nil {
			return err
		}
		a := ScheduledAction{AccountID: 1, OrganizationID: "o", Action: "suspend", DueAt: now.Add(72 * time.Hour), EventID: "event_1", CreatedAt: now}
		if ok, err := ScheduleActionTx(ctx, tx, a); err != nil || !ok {
			t.Errorf("schedule: %v %v", ok, err)
		}
		if ok, err := ScheduleActionTx(ctx, tx, a); err != nil || ok {
			t.Errorf("second schedule: %v %v", ok, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if due, _ := d.DueActions(ctx, now.Add(71*time.Hour), 10); len(due) != 0 {
		t.Errorf("due too early: %+v", due)
	}
	due, err := d.DueActions(ctx, now.Add(72*time.Hour), 10)
	if err != nil || len(due) != 1 || due[0].EventID != "event_1" {
		t.Fatalf("due = %+v, %v", due, err)
	}
	_ = d.Tx(ctx, func(tx Tx) error {
		if ok, _ := FinishActionTx(ctx, tx, due[0].ID, "done", now); !ok {
			t.Error("finish failed")
		}
		if ok, _ := FinishActionTx(ctx, tx, due[0].ID, "done", now); ok {
			t.Error("finished twice")
		}
		return nil
	})
}

func TestMapRowTx_MatchesStoredMapping(t *testing.T) {
	d, ctx := openPolicyTest(t)
	u := DirectoryUser{ID: "directory_user_1", DirectoryID: "directory_1", OrganizationID: "o", Email: " Ada@Example.COM ",
		FirstName: "Ada", LastName: "Lovelace", State: "active", CustomAttributes: json.RawMessage(`{"job_title":"<b>Eng</b>","n":7}`)}
	sources := map[string]string{"email": "email", "first_name": "first_name", "job_title": "custom_attributes.job_title | job_title",
		"phone": "custom_attributes.n", "manager": "custom_attributes.missing"}
	fields := []string{"email", "first_name", "job_title", "phone", "manager"}
	err := d.Tx(ctx, func(tx Tx) error {
		if err := d.Replica(ctx, tx).ListUser(u, 1); err != nil {
			return err
		}
		row, err := MapRowTx(ctx, tx, u, fields, sources)
		if err != nil {
			return err
		}
		stored, err := MapUserTx(ctx, tx, u.ID, fields, sources)
		if err != nil {
			return err
		}
		want := map[string]string{"email": "ada@example.com", "first_name": "Ada", "job_title": "<b>Eng</b>", "phone": "7", "manager": ""}
		for _, f := range fields {
			if row[f] != want[f] || stored.Values[f] != want[f] {
				t.Errorf("%s: row %q, stored %q, want %q", f, row[f], stored.Values[f], want[f])
			}
		}
		if stored.Deleted || stored.State != "active" {
			t.Errorf("stored = %+v", stored)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
