package onboarding

import (
	"testing"
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
