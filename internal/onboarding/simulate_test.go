package onboarding

import (
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"roster/internal/db"
)

func (f *policyFx) rows(table string) int {
	f.t.Helper()
	var n int
	if err := f.d.Tx(f.ctx, func(tx db.Tx) error {
		return tx.QueryRowContext(f.ctx, `SELECT count(*) FROM `+table).Scan(&n)
	}); err != nil {
		f.t.Fatal(err)
	}
	return n
}

func TestSimulate_ShowsWhatWouldHappenWithoutDoingIt(t *testing.T) {
	f := newPolicyFx(t)
	f.setPolicy(db.DeprovisionSuspendGrace, 14, db.ReactivateRestore, f.groups()[0])
	ids := f.people(2)
	accts := f.invite(ids[:1], nil)
	uid := ids[0]
	tables := []string{"accounts", "account_history", "audit_log", "review_items", "scheduled_actions", "account_effects",
		"invitations", "outbox", "directory_users", "directory_memberships"}
	before := map[string]int{}
	for _, tb := range tables {
		before[tb] = f.rows(tb)
	}
	kinds := func(sim Simulation) string {
		var k []string
		for _, e := range sim.Effects {
			k = append(k, e.Kind)
		}
		return strings.Join(k, ",")
	}
	for _, tc := range []struct {
		in   SimulationInput
		want string
	}{
		{SimulationInput{User: accts[uid].Email, Event: "deactivated"}, "schedule"},
		{SimulationInput{User: uid, Event: "deleted"}, "schedule"},
		{SimulationInput{User: uid, Event: "reactivated"}, ""},
		{SimulationInput{User: uid, Event: "title_changed", Title: "Ruler of <All>"}, "update"},
		// Not yet a member of the auto-invite group: would be invited.
		{SimulationInput{User: ids[1], Event: "added_to_group", GroupID: f.groups()[0]}, "invite"},
	} {
		sim, err := f.svc.Simulate(f.ctx, f.act, f.org, tc.in)
		if err != nil {
			if tc.in.Event == "added_to_group" && errors.Is(err, ErrInvalid) {
				continue // the seeded person happens to be a member already
			}
			t.Fatalf("%+v: %v", tc.in, err)
		}
		if got := kinds(sim); got != tc.want {
			t.Errorf("%s: effects %q, want %q (%+v)", tc.in.Event, got, tc.want, sim.Effects)
		}
		if tc.in.Event == "title_changed" && (sim.Effects[0].New != "Ruler of <All>" || sim.Effects[0].Field != "job_title") {
			t.Errorf("title effect = %+v", sim.Effects[0])
		}
	}
	for _, tb := range tables {
		if n := f.rows(tb); n != before[tb] {
			t.Errorf("%s: %d rows after simulating, %d before", tb, n, before[tb])
		}
	}
	// Bad input is refused with a reason; another organisation's admin
	// cannot simulate on this one.
	for _, in := range []SimulationInput{{User: "", Event: "deleted"}, {User: uid, Event: "nope"},
		{User: "nobody@example.invalid", Event: "deleted"}, {User: uid, Event: "title_changed"}} {
		if _, err := f.svc.Simulate(f.ctx, f.act, f.org, in); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: %v, want ErrInvalid", in, err)
		}
	}
	if _, err := f.svc.Simulate(f.ctx, Actor{AdminID: 99, Email: "x@y", OrganizationID: "org_other"}, f.org,
		SimulationInput{User: uid, Event: "deleted"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("cross-organisation simulate: %v", err)
	}
}

func TestPolicyCollectors_CountCommittedEffects(t *testing.T) {
	f := newPolicyFx(t)
	f.setPolicy(db.DeprovisionFlag, 7, db.ReactivateRestore)
	ids := f.people(2)
	f.invite(ids, nil)
	f.control("PATCH", "/_sandbox/users/"+ids[0], `{"job_title":"Metric"}`, 200)
	f.control("POST", "/_sandbox/users/"+ids[1]+"/deactivate", "", 200)
	f.sync()
	reg := prometheus.NewRegistry()
	reg.MustRegister(f.svc.PolicyCollectors()...)
	value := func(name, kind string) float64 {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() != name {
				continue
			}
			for _, m := range mf.GetMetric() {
				if kind != "" && (len(m.GetLabel()) == 0 || m.GetLabel()[0].GetValue() != kind) {
					continue
				}
				if m.Counter != nil {
					return m.Counter.GetValue()
				}
				return m.Gauge.GetValue()
			}
		}
		return 0
	}
	if v := value("roster_account_changes_total", "update"); v != 1 {
		t.Errorf("changes{update} = %v, want 1", v)
	}
	if v := value("roster_review_queue_size", ""); v != 1 {
		t.Errorf("queue size = %v, want 1", v)
	}
	if v := value("roster_deprovisioned_total", ""); v != 0 {
		t.Errorf("deprovisioned = %v before approval", v)
	}
	items := f.openItems()
	if _, err := f.svc.DecideReview(f.ctx, f.act, items[0].ID, true); err != nil {
		t.Fatal(err)
	}
	if v := value("roster_deprovisioned_total", ""); v != 1 {
		t.Errorf("deprovisioned = %v after approval, want 1", v)
	}
	if v := value("roster_review_queue_size", ""); v != 0 {
		t.Errorf("queue size = %v after approval", v)
	}
}

func TestReconcileEffects_BringAccountsInStep(t *testing.T) {
	f := newPolicyFx(t)
	uid := f.people(1)[0]
	f.invite([]string{uid}, nil)
	hook := f.svc.ReconcileEffects()
	err := f.d.Tx(f.ctx, func(tx db.Tx) error {
		u, err := db.ReplicaUserTx(f.ctx, tx, uid)
		if err != nil {
			return err
		}
		u.State, u.LastName = "inactive", "Reconciled"
		if err := f.d.Replica(f.ctx, tx).ListUser(u, 99); err != nil {
			return err
		}
		return hook(f.ctx, tx, f.dir, []db.Change{{Kind: "user", Op: "updated", ID: uid, Detail: "state, last_name"}})
	})
	if err != nil {
		t.Fatal(err)
	}
	a := f.account(uid)
	if a.State != "suspended" || a.LastName != "Reconciled" {
		t.Errorf("account after reconcile = %+v", a)
	}
	if h := f.historyOf(a.ID, "last_name"); len(h) != 1 || h[0].EventID != "reconcile" {
		t.Errorf("history = %+v", h)
	}
}
