package onboarding

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"roster/internal/db"
)

func seedAuditLog(t *testing.T, d *db.DB, n int, org string, at time.Time) {
	t.Helper()
	ctx := context.Background()
	if err := d.Tx(ctx, func(tx db.Tx) error {
		for i := range n {
			if err := db.InsertAudit(ctx, tx, db.AuditEntry{At: at.Add(time.Duration(i) * time.Minute), Actor: "sync",
				OrganizationID: org, Action: "sync.user_updated", Target: fmt.Sprintf("%s-%d", org, i)}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestAuditLogPagingBothWays(t *testing.T) {
	ctx := context.Background()
	d := newMailTestDB(t)
	t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	seedAuditLog(t, d, 23, "org_a", t0)
	seedAuditLog(t, d, 4, "org_b", t0)
	s := &Service{DB: d}
	act := Actor{Email: "a@example.test", OrganizationID: "org_a"}

	p1, err := s.AuditLog(ctx, act, AuditQuery{Limit: 10})
	if err != nil || len(p1.Records) != 10 || p1.NewerAfter != 0 || p1.OlderBefore == 0 {
		t.Fatalf("page 1 = %d records, newer %d, older %d, %v", len(p1.Records), p1.NewerAfter, p1.OlderBefore, err)
	}
	p2, _ := s.AuditLog(ctx, act, AuditQuery{Limit: 10, Before: p1.OlderBefore})
	p3, _ := s.AuditLog(ctx, act, AuditQuery{Limit: 10, Before: p2.OlderBefore})
	if len(p2.Records) != 10 || len(p3.Records) != 3 || p3.OlderBefore != 0 || p3.NewerAfter == 0 {
		t.Fatalf("pages 2, 3 = %d, %d records; page 3 older %d newer %d", len(p2.Records), len(p3.Records), p3.OlderBefore, p3.NewerAfter)
	}
	back, _ := s.AuditLog(ctx, act, AuditQuery{Limit: 10, After: p3.NewerAfter})
	if fmt.Sprint(auditIDsOf(back.Records)) != fmt.Sprint(auditIDsOf(p2.Records)) {
		t.Errorf("Newer from page 3 = %v, want page 2 %v", auditIDsOf(back.Records), auditIDsOf(p2.Records))
	}
	for _, r := range append(append(p1.Records, p2.Records...), p3.Records...) {
		if r.OrganizationID != "org_a" {
			t.Errorf("org_a actor sees %+v", r)
		}
	}
	// An org admin cannot widen the scope with Org.
	other, _ := s.AuditLog(ctx, act, AuditQuery{Org: "org_b", Limit: 100})
	if len(other.Records) != 23 {
		t.Errorf("org_a admin with Org=org_b sees %d records, want their own 23", len(other.Records))
	}
	// Platform: all, or one organisation.
	all, _ := s.AuditLog(ctx, Actor{Email: "root@example.test"}, AuditQuery{Limit: 100})
	onlyB, _ := s.AuditLog(ctx, Actor{Email: "root@example.test"}, AuditQuery{Org: "org_b", Limit: 100})
	if len(all.Records) != 27 || len(onlyB.Records) != 4 {
		t.Errorf("platform sees %d (want 27), org_b only %d (want 4)", len(all.Records), len(onlyB.Records))
	}
	// A stale cursor falls back to the newest page.
	stale, _ := s.AuditLog(ctx, act, AuditQuery{Limit: 10, After: 1 << 40})
	if !stale.Reset || len(stale.Records) != 10 || stale.Records[0].ID != p1.Records[0].ID {
		t.Errorf("stale cursor: reset %v, %d records", stale.Reset, len(stale.Records))
	}
}

func TestAuditQueryValidationAndExport(t *testing.T) {
	ctx := context.Background()
	d := newMailTestDB(t)
	t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	seedAuditLog(t, d, 2500, "org_a", t0) // minutes: 1 May 00:00 … 2 May 17:39
	s := &Service{DB: d}
	act := Actor{Email: "a@example.test", OrganizationID: "org_a"}
	for _, q := range []AuditQuery{{Action: "nope."}, {From: t0.AddDate(0, 0, 2), To: t0}} {
		if _, err := s.AuditLog(ctx, act, q); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: err %v, want ErrInvalid", q, err)
		}
		if err := s.ExportAudit(ctx, act, q, func(AuditRecord) error { return nil }); !errors.Is(err, ErrInvalid) {
			t.Errorf("export %+v: err %v, want ErrInvalid", q, err)
		}
	}
	// Export walks every chunk, newest first, without gaps.
	var got []int64
	if err := s.ExportAudit(ctx, act, AuditQuery{Limit: 5, Before: 100}, func(r AuditRecord) error { got = append(got, r.ID); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2500 || got[0] != 2500 || got[2499] != 1 {
		t.Fatalf("export: %d records, first %d, last %d", len(got), got[0], got[len(got)-1])
	}
	// "To" includes its whole day.
	var day int
	_ = s.ExportAudit(ctx, act, AuditQuery{From: t0, To: t0}, func(AuditRecord) error { day++; return nil })
	if day != 1440 {
		t.Errorf("1 May: %d records, want 1440", day)
	}
	// An error from the consumer stops the export.
	stop := errors.New("client gone")
	n := 0
	if err := s.ExportAudit(ctx, act, AuditQuery{}, func(AuditRecord) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Errorf("export after consumer error: %v after %d records", err, n)
	}
}

func auditIDsOf(rs []AuditRecord) []int64 {
	out := make([]int64, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}
