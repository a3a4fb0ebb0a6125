package onboarding

import (
	"testing"

	"roster/internal/db"
)

// A reconcile's differences reach the accounts through Syncer.OnChanges,
// with no event involved (the event hook is off here).
func TestSyncer_ReconcileChangesReachAccounts(t *testing.T) {
	f := newPolicyFx(t)
	uid := f.people(1)[0]
	f.invite([]string{uid}, nil)
	f.syncer.OnEvent = nil
	f.syncer.OnChanges = f.svc.ReconcileEffects()

	f.control("PATCH", "/_sandbox/users/"+uid, `{"last_name":"Reconciled"}`, 200)
	n, err := f.syncer.Reconcile(f.ctx, f.dir)
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("the reconcile found no difference")
	}
	a := f.account(uid)
	if a.LastName != "Reconciled" {
		t.Fatalf("account last name = %q after reconcile, want Reconciled", a.LastName)
	}
	if h := f.historyOf(a.ID, "last_name"); len(h) != 1 || h[0].EventID != "reconcile" {
		t.Errorf("history = %+v, want one reconcile entry", h)
	}
}

// A directory seen for the first time is recorded as connected, once.
func TestSyncer_AuditsDirectoryConnected(t *testing.T) {
	f := newPolicyFx(t)
	f.sync()
	entries, err := f.d.SearchAudit(f.ctx, db.AuditSearch{OrganizationID: f.org, Action: "directory.connected"})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Target != f.dir || entries[0].Actor != "sync" {
		t.Fatalf("directory.connected entries = %+v, want one for %s", entries, f.dir)
	}
}
