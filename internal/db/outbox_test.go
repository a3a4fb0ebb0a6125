package db

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func openOutboxTest(t *testing.T) *DB {
	t.Helper()
	d, err := Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func enqueue(t *testing.T, d *DB, m OutboxEmail) {
	t.Helper()
	if err := d.Tx(context.Background(), func(tx Tx) error { return EnqueueEmail(context.Background(), tx, m) }); err != nil {
		t.Fatal(err)
	}
}

func TestOutboxClaimMarkAndList(t *testing.T) {
	ctx := context.Background()
	d := openOutboxTest(t)
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	enqueue(t, d, OutboxEmail{To: "a@example.com", Subject: "Hi A", Text: "t", HTML: "<p>h</p>", Kind: "invitation", Ref: "inv1", OrganizationID: "org_1", CreatedAt: t0})
	enqueue(t, d, OutboxEmail{To: "b@example.com", Subject: "Hi B", Kind: "invitation", OrganizationID: "org_2", CreatedAt: t0, NextAttemptAt: t0.Add(time.Hour)})

	// Rolled-back enqueue leaves nothing behind.
	_ = d.Tx(ctx, func(tx Tx) error {
		if err := EnqueueEmail(ctx, tx, OutboxEmail{To: "c@example.com", Subject: "never"}); err != nil {
			t.Fatal(err)
		}
		return errors.New("roll back")
	})
	if err := d.Tx(ctx, func(tx Tx) error { return EnqueueEmail(ctx, tx, OutboxEmail{To: " "}) }); err == nil {
		t.Error("enqueue without recipient: want error")
	}

	got, err := d.ClaimDueEmails(ctx, t0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].To != "a@example.com" || got[0].Attempts != 1 || got[0].Status != EmailSending {
		t.Fatalf("claim = %+v, want only a@ with 1 attempt", got)
	}
	if got[0].HTML != "<p>h</p>" || got[0].OrganizationID != "org_1" || got[0].Ref != "inv1" {
		t.Errorf("claimed row lost fields: %+v", got[0])
	}
	// A claimed row is not claimed again.
	again, err := d.ClaimDueEmails(ctx, t0.Add(time.Minute), 10)
	if err != nil || len(again) != 0 {
		t.Fatalf("second claim = %v, %v; want none", again, err)
	}
	if at, ok, err := d.NextEmailDue(ctx); err != nil || !ok || !at.Equal(t0.Add(time.Hour)) {
		t.Errorf("NextEmailDue = %v %v %v, want %v", at, ok, err, t0.Add(time.Hour))
	}

	if err := d.MarkEmailRetry(ctx, got[0].ID, t0.Add(30*time.Second), "421 busy"); err != nil {
		t.Fatal(err)
	}
	if got, _ := d.ClaimDueEmails(ctx, t0.Add(29*time.Second), 10); len(got) != 0 {
		t.Errorf("claimed before its retry time: %+v", got)
	}
	got, err = d.ClaimDueEmails(ctx, t0.Add(31*time.Second), 10)
	if err != nil || len(got) != 1 || got[0].Attempts != 2 || got[0].LastError != "421 busy" {
		t.Fatalf("retry claim = %+v, %v", got, err)
	}
	if err := d.MarkEmailSent(ctx, got[0].ID, t0.Add(32*time.Second)); err != nil {
		t.Fatal(err)
	}
	m, err := d.EmailByID(ctx, got[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if m.Status != EmailSent || !m.SentAt.Equal(t0.Add(32*time.Second)) || m.LastError != "" {
		t.Errorf("after sent: %+v", m)
	}
	if _, err := d.EmailByID(ctx, 9999); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown id: %v, want ErrNotFound", err)
	}
	if err := d.MarkEmailSent(ctx, 9999, t0); !errors.Is(err, ErrNotFound) {
		t.Errorf("mark unknown id: %v, want ErrNotFound", err)
	}

	org1, err := d.ListEmails(ctx, EmailFilter{OrganizationID: "org_1", Status: EmailSent})
	if err != nil || len(org1) != 1 || org1[0].To != "a@example.com" {
		t.Errorf("org_1 sent = %+v, %v", org1, err)
	}
	all, err := d.ListEmails(ctx, EmailFilter{AllOrgs: true})
	if err != nil || len(all) != 2 || all[0].To != "b@example.com" {
		t.Errorf("all, newest first = %+v, %v", all, err)
	}
	counts, err := d.CountEmails(ctx)
	if err != nil || counts[EmailSent] != 1 || counts[EmailPending] != 1 {
		t.Errorf("counts = %v, %v", counts, err)
	}
}

func TestOutboxFailedAndStaleClaims(t *testing.T) {
	ctx := context.Background()
	d := openOutboxTest(t)
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	enqueue(t, d, OutboxEmail{To: "a@example.com", Subject: "x", CreatedAt: t0})
	enqueue(t, d, OutboxEmail{To: "b@example.com", Subject: "y", CreatedAt: t0})
	got, err := d.ClaimDueEmails(ctx, t0, 1)
	if err != nil || len(got) != 1 {
		t.Fatalf("claim limit 1 = %v, %v", got, err)
	}
	if err := d.MarkEmailFailed(ctx, got[0].ID, "535 auth failed"); err != nil {
		t.Fatal(err)
	}
	m, _ := d.EmailByID(ctx, got[0].ID)
	if m.Status != EmailFailed || m.LastError != "535 auth failed" {
		t.Errorf("failed row = %+v", m)
	}

	// A claim abandoned by a crashed worker is released after the lease.
	got, err = d.ClaimDueEmails(ctx, t0, 10)
	if err != nil || len(got) != 1 {
		t.Fatalf("claim = %v, %v", got, err)
	}
	if n, err := d.ReleaseStaleClaims(ctx, t0); err != nil || n != 0 {
		t.Errorf("release of a fresh claim = %d, %v; want 0", n, err)
	}
	if n, err := d.ReleaseStaleClaims(ctx, t0.Add(time.Minute)); err != nil || n != 1 {
		t.Errorf("release of a stale claim = %d, %v; want 1", n, err)
	}
	again, err := d.ClaimDueEmails(ctx, t0.Add(time.Minute), 10)
	if err != nil || len(again) != 1 || again[0].Attempts != 2 {
		t.Errorf("reclaim after release = %+v, %v", again, err)
	}
}
