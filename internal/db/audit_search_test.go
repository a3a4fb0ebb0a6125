package db

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func seedAuditSearch(tb testing.TB, d *DB, n int, t0 time.Time) {
	tb.Helper()
	ctx := context.Background()
	orgs := []string{"org_a", "org_b", "org_c"}
	actions := []string{"sync.user_updated", "invite.created", "admin.sign_in"}
	err := d.Tx(ctx, func(tx Tx) error {
		for i := range n {
			if err := InsertAudit(ctx, tx, AuditEntry{At: t0.Add(time.Duration(i) * time.Second), Actor: []string{"sync", "Ada@Example.test"}[i%2],
				OrganizationID: orgs[i%3], Action: actions[i%7%3], Target: fmt.Sprintf("user_%d", i), Detail: "50% done_ok"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}

func TestSearchAudit(t *testing.T) {
	ctx := context.Background()
	d := openOutboxTest(t)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	seedAuditSearch(t, d, 90, t0)

	got, err := d.SearchAudit(ctx, AuditSearch{OrganizationID: "org_a", Actor: "ada@example.TEST", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 15 { // i%3==0 and i%2==1
		t.Errorf("org_a, actor ada (any case): %d, want 15", len(got))
	}
	// After returns the page just above the cursor, newest first.
	got, _ = d.SearchAudit(ctx, AuditSearch{AllOrgs: true, AfterID: 10, Limit: 3})
	if len(got) != 3 || got[0].ID != 13 || got[2].ID != 11 {
		t.Errorf("after 10 = %v", got)
	}
	// LIKE wildcards in the text are literal.
	if got, _ := d.SearchAudit(ctx, AuditSearch{AllOrgs: true, Query: "0% d", Limit: 100}); len(got) != 90 {
		t.Errorf("literal %%: %d, want 90", len(got))
	}
	if got, _ := d.SearchAudit(ctx, AuditSearch{AllOrgs: true, Query: "e_o", Limit: 100}); len(got) != 90 {
		t.Errorf("literal _: %d, want 90 (matches done_ok)", len(got))
	}
	if got, _ := d.SearchAudit(ctx, AuditSearch{AllOrgs: true, Query: "x%", Limit: 100}); len(got) != 0 {
		t.Errorf("x%% matched %d", len(got))
	}
	got, _ = d.SearchAudit(ctx, AuditSearch{AllOrgs: true, From: t0.Add(10 * time.Second), To: t0.Add(20 * time.Second)})
	if len(got) != 10 || got[0].ID != 20 || got[9].ID != 11 {
		t.Errorf("time range = %d entries", len(got))
	}
	actors, err := d.AuditActors(ctx, "org_b", false, 10)
	if err != nil || len(actors) != 2 {
		t.Errorf("actors = %v, %v", actors, err)
	}
}

// The Audit page of one organisation must come straight from an index, not
// from sorting the organisation's whole log on every page.
func TestSearchAuditPlanAvoidsSort(t *testing.T) {
	d := openOutboxTest(t)
	f := AuditSearch{OrganizationID: "org_a", Action: "invite.", BeforeID: 1000, Limit: 26}
	where, args := f.where()
	p := queryPlan(t, d, `SELECT id FROM audit_log WHERE `+strings.Join(where, " AND ")+` ORDER BY id DESC LIMIT 26`, args...)
	if strings.Contains(p, "TEMP B-TREE") || !strings.Contains(p, "audit_log_org_id") {
		t.Errorf("plan = %s", p)
	}
}

// BenchmarkSearchAuditOrgPage: one page of an organisation's log among
// 300,000 entries (100,000 per organisation).
func BenchmarkSearchAuditOrgPage(b *testing.B) {
	ctx := context.Background()
	d, err := Open(ctx, filepath.Join(b.TempDir(), "t.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	seedAuditSearch(b, d, 300_000, time.Now())
	for _, bc := range []struct {
		name string
		f    AuditSearch
	}{
		{"newest", AuditSearch{OrganizationID: "org_a", Limit: 26}},
		{"action", AuditSearch{OrganizationID: "org_a", Action: "invite.", BeforeID: 150_000, Limit: 26}},
		{"platform", AuditSearch{AllOrgs: true, BeforeID: 150_000, Limit: 26}},
		{"text", AuditSearch{OrganizationID: "org_a", Query: "user_12345", Limit: 26}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := d.SearchAudit(ctx, bc.f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("actors", func(b *testing.B) {
		for b.Loop() {
			if _, err := d.AuditActors(ctx, "org_a", false, 100); err != nil {
				b.Fatal(err)
			}
		}
	})
}
