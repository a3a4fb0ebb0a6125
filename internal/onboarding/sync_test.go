package onboarding

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"roster/internal/db"
	"roster/internal/dirsync"
	"roster/internal/dirsync/sandbox"
)

func TestSyncer_BackfillEqualsSandbox(t *testing.T) {
	ts := startSandbox(t, sandbox.Options{Preset: sandbox.PresetDemo})
	path := filepath.Join(t.TempDir(), "roster.db")
	store := openTestDB(t, path)
	s := newTestSyncer(t, ts, store, nil)
	syncUntil(t, s, 1)
	requireEqual(t, store, ts)

	ctx := context.Background()
	// The first load built the people list's and the membership indexes
	// after their rows (db.ReplicaWriter.DeferIndexes); they are back.
	raw, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var n int
	if err := raw.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN
		('directory_users_list', 'directory_memberships_user')`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("load indexes after the first load: %d of 2 (%v)", n, err)
	}
	st := ts.sb.State()
	if len(st.Directories) != 3 {
		t.Fatalf("demo has %d directories, want 3", len(st.Directories))
	}
	for _, d := range st.Directories {
		ss, err := store.SyncState(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if ss.Phase != db.PhaseLive || !ss.SearchIndexed || ss.LoadFinishedAt.IsZero() {
			t.Errorf("%s: phase %q, indexed %v, finished %v; want live, indexed, finished", d.ID, ss.Phase, ss.SearchIndexed, ss.LoadFinishedAt)
		}
		if ss.UsersDone != int64(d.Metadata.Users.Active+d.Metadata.Users.Inactive) {
			t.Errorf("%s: users done %d, want %d", d.ID, ss.UsersDone, d.Metadata.Users.Active+d.Metadata.Users.Inactive)
		}
	}
	// The search index covers the loaded people.
	u := st.Users[len(st.Users)/2]
	found, err := store.SearchReplicaUsers(ctx, u.DirectoryID, str(u.LastName), 200)
	if err != nil {
		t.Fatal(err)
	}
	if !containsUser(found, u.ID) {
		t.Errorf("search for %q did not find %s", str(u.LastName), u.ID)
	}
	// A second run changes nothing and applies nothing twice.
	before, _ := store.SyncStates(ctx)
	syncUntil(t, s, 1)
	after, _ := store.SyncStates(ctx)
	for i := range before {
		if after[i].EventsApplied != before[i].EventsApplied || after[i].Generation != before[i].Generation {
			t.Errorf("%s: second sync applied %d events, generation %d → %d", before[i].DirectoryID,
				after[i].EventsApplied-before[i].EventsApplied, before[i].Generation, after[i].Generation)
		}
	}
}

func containsUser(us []db.DirectoryUser, id string) bool {
	for _, u := range us {
		if u.ID == id {
			return true
		}
	}
	return false
}

// churnAPI runs a change on the sandbox every few calls, so that the
// directory moves while the sync lists it.
type churnAPI struct {
	SyncAPI
	calls atomic.Int64
	every int64
	churn func()
}

func (c *churnAPI) tick() {
	if n := c.calls.Add(1); n%c.every == 0 {
		c.churn()
	}
}

func (c *churnAPI) ListUsers(ctx context.Context, o dirsync.ListUsersOptions) (dirsync.Page[dirsync.User], error) {
	c.tick()
	return c.SyncAPI.ListUsers(ctx, o)
}

func (c *churnAPI) ListGroups(ctx context.Context, o dirsync.ListGroupsOptions) (dirsync.Page[dirsync.Group], error) {
	c.tick()
	return c.SyncAPI.ListGroups(ctx, o)
}

func TestSyncer_ChurnDuringBackfillAndSyncConverges(t *testing.T) {
	ts := startSandbox(t, sandbox.Options{Preset: sandbox.PresetDemo, Seed: 7})
	store := openTestDB(t, "")
	s := newTestSyncer(t, ts, store, nil)
	dirs := ts.sb.State().Directories
	var i int
	scenarios := []struct{ name, mode string }{{"new-hires", ""}, {"reorg", ""}, {"leavers", ""}, {"leavers", "delete"}}
	churn := func() {
		sc := scenarios[i%len(scenarios)]
		ts.scenario(t, sc.name, dirs[i%len(dirs)].ID, 3, sc.mode)
		i++
	}
	s.API = &churnAPI{SyncAPI: s.API, every: 3, churn: churn}
	syncUntil(t, s, 1) // backfill with changes landing between its pages
	if i < 10 {
		t.Fatalf("only %d churn rounds during the backfill; the test needs more", i)
	}
	syncUntil(t, s, 1) // events written during the last pages
	requireEqual(t, store, ts)

	// And during steady sync.
	for range 5 {
		for _, d := range dirs {
			ts.scenario(t, "reorg", d.ID, 5, "")
			ts.scenario(t, "new-hires", d.ID, 2, "")
			ts.scenario(t, "leavers", d.ID, 2, "delete")
		}
		syncUntil(t, s, 1)
	}
	requireEqual(t, store, ts)
	var stale int64
	for _, d := range dirs {
		st, _ := store.SyncState(context.Background(), d.ID)
		stale += st.EventsStale
	}
	if stale == 0 {
		t.Errorf("no event was counted stale, yet the backfill listed data newer than the replayed events")
	}
}

func TestSyncer_FaultsConverge(t *testing.T) {
	ts := startSandbox(t, sandbox.Options{Preset: sandbox.PresetSmall, Seed: 3})
	// 20% 5xx, 20% dropped connections, and the 4/s rate limit, which the
	// unpaced client below runs into (429).
	ts.setFaults(t, map[string]any{"rate_limit": true, "error_rate": 0.2, "drop_rate": 0.2})
	store := openTestDB(t, "")
	s := newTestSyncer(t, ts, store, &dirsync.Config{UsersRatePerDirectory: -1, KeyRequestsPerMinute: -1,
		Sleep: fastSleep, MaxAttempts: 2})
	dir := ts.sb.State().Directories[0].ID
	syncUntil(t, s, 200)
	ts.scenario(t, "new-hires", dir, 5, "")
	ts.scenario(t, "reorg", dir, 5, "")
	ts.scenario(t, "leavers", dir, 3, "delete")
	syncUntil(t, s, 200)
	requireEqual(t, store, ts)
	t.Logf("sandbox answered %d 429s", ts.n429.Load())
	reg := prometheus.NewRegistry()
	reg.MustRegister(s.Collectors()...)
	mfs, _ := reg.Gather()
	var failures float64
	for _, mf := range mfs {
		if mf.GetName() == "roster_sync_errors_total" {
			for _, m := range mf.GetMetric() {
				failures += m.GetCounter().GetValue()
			}
		}
	}
	if failures == 0 {
		t.Errorf("no sync failure counted; the fault injection did not bite")
	}
}

func TestSyncer_RateLimitNoStorm(t *testing.T) {
	if testing.Short() {
		t.Skip("paced at 4 requests/s")
	}
	ts := startSandbox(t, sandbox.Options{Preset: sandbox.PresetSmall, RateLimit: true})
	store := openTestDB(t, "")
	s := newTestSyncer(t, ts, store, &dirsync.Config{}) // default pacing: 4/s per directory
	syncUntil(t, s, 1)
	requireEqual(t, store, ts)
	if n := ts.n429.Load(); n > 1 {
		t.Errorf("sandbox answered %d 429s; the client's pacing should avoid them", n)
	}
}

// userEvent builds a dsync.user.* event for a user of the replica.
func userEvent(t testing.TB, id, typ string, u sandbox.DirectoryUser) dirsync.Event {
	t.Helper()
	data, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	return dirsync.Event{ID: id, Event: typ, CreatedAt: time.Now(), Data: data}
}

func TestSyncer_DuplicatedReorderedAndStaleEvents(t *testing.T) {
	ts := startSandbox(t, sandbox.Options{Preset: sandbox.PresetSmall})
	store := openTestDB(t, "")
	s := newTestSyncer(t, ts, store, nil)
	syncUntil(t, s, 1)
	ctx := context.Background()
	st := ts.sb.State()
	dir := st.Directories[0].ID
	u := st.Users[0]
	updated, _ := time.Parse(time.RFC3339Nano, u.UpdatedAt)
	at := func(d time.Duration) string { return updated.Add(d).UTC().Format(time.RFC3339Nano) }
	name := func(s string) *string { return &s }

	older, newer, newest := u, u, u
	older.UpdatedAt, older.LastName = at(-time.Hour), name("Older")
	newer.UpdatedAt, newer.LastName = at(time.Hour), name("Newer")
	newest.UpdatedAt, newest.LastName = at(2*time.Hour), name("Newest")
	before, _ := store.SyncState(ctx, dir)

	var hookOutcomes []string
	s.OnEvent = func(_ context.Context, tx db.Tx, ev dirsync.Event, decoded any, outcome string) error {
		if tx == nil || (decoded == nil) != (outcome == db.OutcomeFailed) {
			t.Errorf("hook got tx %v, decoded %v", tx, decoded)
		}
		hookOutcomes = append(hookOutcomes, ev.ID+":"+outcome)
		return nil
	}
	events := []dirsync.Event{
		userEvent(t, "event_t1", "dsync.user.updated", older),                           // older than the listing: stale
		userEvent(t, "event_t3", "dsync.user.updated", newest),                          // arrives before t2: applied
		userEvent(t, "event_t2", "dsync.user.updated", newer),                           // reordered, older than stored: stale
		userEvent(t, "event_t3", "dsync.user.updated", newest),                          // duplicate
		userEvent(t, "event_t1", "dsync.user.updated", older),                           // duplicate
		{ID: "event_bad", Event: "dsync.user.updated", Data: json.RawMessage(`"nope"`)}, // failed
	}
	if err := s.ApplyEvents(ctx, dir, events); err != nil {
		t.Fatal(err)
	}
	after, _ := store.SyncState(ctx, dir)
	got := fmt.Sprintf("applied %d, stale %d, duplicate %d, failed %d", after.EventsApplied-before.EventsApplied,
		after.EventsStale-before.EventsStale, after.EventsDuplicate-before.EventsDuplicate, after.EventsFailed-before.EventsFailed)
	if want := "applied 1, stale 2, duplicate 2, failed 1"; got != want {
		t.Errorf("counters: %s; want %s", got, want)
	}
	want := "event_t1:stale event_t3:applied event_t2:stale event_t3:duplicate event_t1:duplicate event_bad:failed"
	if g := strings.Join(hookOutcomes, " "); g != want {
		t.Errorf("hook outcomes:\n got %s\nwant %s", g, want)
	}
	snap, _ := store.Snapshot(ctx, dir)
	for _, r := range snap.Users {
		if r.ID == u.ID && r.LastName != "Newest" {
			t.Errorf("last name = %q, want Newest", r.LastName)
		}
	}
	// Replaying the whole page again applies nothing.
	if err := s.ApplyEvents(ctx, dir, events[:3]); err != nil {
		t.Fatal(err)
	}
	again, _ := store.SyncState(ctx, dir)
	if again.EventsApplied != after.EventsApplied || again.EventsDuplicate != after.EventsDuplicate+3 {
		t.Errorf("replay: applied +%d, duplicate +%d; want +0, +3", again.EventsApplied-after.EventsApplied, again.EventsDuplicate-after.EventsDuplicate)
	}
	// A delete, then a late created event for the same user: stays deleted.
	if err := s.ApplyEvents(ctx, dir, []dirsync.Event{
		userEvent(t, "event_t4", "dsync.user.deleted", newest),
		userEvent(t, "event_t0", "dsync.user.created", u),
	}); err != nil {
		t.Fatal(err)
	}
	snap, _ = store.Snapshot(ctx, dir)
	if containsUser(snap.Users, u.ID) {
		t.Errorf("a stale created event brought back a deleted user")
	}
	for _, m := range snap.Memberships {
		if m.UserID == u.ID {
			t.Errorf("deleted user still in group %s", m.GroupID)
		}
	}
}

func TestSyncer_ReconcileFixesAndRecordsDifferences(t *testing.T) {
	ts := startSandbox(t, sandbox.Options{Preset: sandbox.PresetSmall})
	store := openTestDB(t, "")
	s := newTestSyncer(t, ts, store, nil)
	syncUntil(t, s, 1)
	ctx := context.Background()
	st := ts.sb.State()
	dir := st.Directories[0].ID
	// Damage the replica behind the sync's back: a lost user, a changed
	// name, a membership that does not exist and a user that does not exist.
	lost, renamed := st.Users[1], st.Users[2]
	snap, _ := store.Snapshot(ctx, dir)
	err := store.Tx(ctx, func(tx db.Tx) error {
		w := store.Replica(ctx, tx)
		for _, u := range snap.Users {
			switch u.ID {
			case lost.ID:
				if _, err := w.DeleteUser(u, 1); err != nil {
					return err
				}
			case renamed.ID:
				u.FirstName = "Wrong"
				if err := w.ListUser(u, 1); err != nil {
					return err
				}
			}
		}
		ghost := snap.Users[3]
		ghost.ID = "directory_user_ghost"
		if err := w.ListUser(ghost, 1); err != nil {
			return err
		}
		_, err := w.ListMembership(db.Membership{DirectoryID: dir, GroupID: snap.Groups[0].ID, UserID: snap.Users[5].ID}, 1)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(diffReplica(t, store, st)) == 0 {
		t.Fatal("damage did not show")
	}
	n, err := s.Reconcile(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	requireEqual(t, store, ts)
	inGroup := false
	want := int64(3) // restored, updated, ghost removed
	for _, m := range st.Memberships {
		inGroup = inGroup || (m.GroupID == snap.Groups[0].ID && m.UserID == snap.Users[5].ID)
		if m.UserID == lost.ID {
			want++ // the lost user's memberships come back
		}
	}
	if !inGroup {
		want++ // the bogus membership goes
	}
	if n != want {
		t.Errorf("reconcile fixed %d differences, want %d", n, want)
	}
	entries, err := store.SearchAudit(ctx, db.AuditSearch{AllOrgs: true, Actor: "sync", Action: "sync.reconcile"})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action+" "+e.Target)
	}
	all := strings.Join(actions, "\n")
	for _, w := range []string{"sync.reconcile.user_restored " + lost.ID, "sync.reconcile.user_updated " + renamed.ID,
		"sync.reconcile.user_removed directory_user_ghost", "sync.reconcile_finished " + dir} {
		if !strings.Contains(all, w) {
			t.Errorf("audit lacks %q; has:\n%s", w, all)
		}
	}
	state, _ := store.SyncState(ctx, dir)
	if state.Mode != db.ModeReconcile || state.LastReconcileAt.IsZero() || state.Changes != n {
		t.Errorf("state after reconcile: mode %q, last %v, changes %d", state.Mode, state.LastReconcileAt, state.Changes)
	}
}

func TestSyncer_ReconcileWhenCursorOutlivesRetention(t *testing.T) {
	ts := startSandbox(t, sandbox.Options{Preset: sandbox.PresetSmall})
	store := openTestDB(t, "")
	s := newTestSyncer(t, ts, store, nil)
	syncUntil(t, s, 1)
	ctx := context.Background()
	dir := ts.sb.State().Directories[0].ID
	before, _ := store.SyncState(ctx, dir)
	later := time.Now().Add(31 * 24 * time.Hour)
	s.Now = func() time.Time { return later }
	syncUntil(t, s, 1)
	after, _ := store.SyncState(ctx, dir)
	if after.Generation != before.Generation+1 || after.Mode != db.ModeReconcile || after.Phase != db.PhaseLive {
		t.Errorf("after 31 days: generation %d → %d, mode %q, phase %q; want a finished reconcile",
			before.Generation, after.Generation, after.Mode, after.Phase)
	}
	if !after.EventsSince.After(before.EventsSince) {
		t.Errorf("event position not renewed: %v → %v", before.EventsSince, after.EventsSince)
	}
	requireEqual(t, store, ts)
}

func TestSyncer_DirectoryDeleted(t *testing.T) {
	ts := startSandbox(t, sandbox.Options{Preset: sandbox.PresetDemo})
	store := openTestDB(t, "")
	s := newTestSyncer(t, ts, store, nil)
	syncUntil(t, s, 1)
	ctx := context.Background()
	gone := ts.sb.State().Directories[2].ID
	ts.control(t, "DELETE", "/_sandbox/directories/"+gone, nil, nil)
	syncUntil(t, s, 1)
	st, _ := store.SyncState(ctx, gone)
	if st.Phase != db.PhaseDeleted {
		t.Errorf("phase = %q, want deleted", st.Phase)
	}
	snap, _ := store.Snapshot(ctx, gone)
	if len(snap.Users)+len(snap.Groups)+len(snap.Memberships) != 0 {
		t.Errorf("deleted directory still has %d users, %d groups, %d memberships", len(snap.Users), len(snap.Groups), len(snap.Memberships))
	}
	requireEqual(t, store, ts)
}

func TestSyncer_ErrorsInPlainWords(t *testing.T) {
	ts := startSandbox(t, sandbox.Options{Preset: sandbox.PresetSmall})
	store := openTestDB(t, "")
	s := newTestSyncer(t, ts, store, nil)
	syncUntil(t, s, 1)
	ctx := context.Background()
	dir := ts.sb.State().Directories[0].ID
	// The clock stands still: the failures and the success below happen
	// at one instant, and still in order.
	frozen := time.Now().UTC()
	s.Now = func() time.Time { return frozen }
	// A wrong key.
	s.API = dirsync.New(dirsync.Config{BaseURL: ts.srv.URL, APIKey: "sk_test_wrong", Sleep: fastSleep})
	if err := s.SyncDirectory(ctx, dir); err == nil {
		t.Fatal("sync with a wrong key succeeded")
	}
	st, _ := store.SyncState(ctx, dir)
	if st.LastError != "WorkOS rejected the API key" || st.LastErrorKind != ErrKindAuth {
		t.Errorf("error = %q (%s)", st.LastError, st.LastErrorKind)
	}
	// WorkOS down.
	ts.setFaults(t, map[string]any{"error_rate": 1.0})
	s.API = dirsync.New(dirsync.Config{BaseURL: ts.srv.URL, APIKey: sandbox.DefaultAPIKey, Sleep: fastSleep})
	_ = s.SyncDirectory(ctx, dir)
	st, _ = store.SyncState(ctx, dir)
	if want := "WorkOS unavailable — showing data as of " + st.LastSuccessAt.Format("15:04"); st.LastError != want {
		t.Errorf("error = %q, want %q", st.LastError, want)
	}
	status, err := s.Status(ctx, Actor{}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if !status.ErrorCurrent {
		t.Errorf("status does not flag the current error")
	}
	// Back up: the error is history.
	ts.setFaults(t, map[string]any{"error_rate": 0.0})
	if err := s.SyncDirectory(ctx, dir); err != nil {
		t.Fatal(err)
	}
	if status, _ = s.Status(ctx, Actor{}, dir); status.ErrorCurrent {
		t.Errorf("error still current after a successful poll")
	}
	// Someone from another organisation sees nothing.
	if _, err := s.Status(ctx, Actor{OrganizationID: "org_other"}, dir); err != ErrNotFound {
		t.Errorf("other org: err = %v, want ErrNotFound", err)
	}
}

func TestSyncer_DescribeRateLimit(t *testing.T) {
	at := time.Date(2026, 1, 2, 10, 42, 5, 0, time.UTC)
	if got := describeError(ErrKindRateLimit, nil, at, time.Time{}); got != "Rate limited — retrying at 10:42:05" {
		t.Errorf("got %q", got)
	}
}

func TestSyncer_Metrics(t *testing.T) {
	ts := startSandbox(t, sandbox.Options{Preset: sandbox.PresetSmall})
	store := openTestDB(t, "")
	s := newTestSyncer(t, ts, store, nil)
	syncUntil(t, s, 1)
	dir := ts.sb.State().Directories[0].ID
	ts.scenario(t, "new-hires", dir, 2, "")
	syncUntil(t, s, 1)
	reg := prometheus.NewRegistry()
	reg.MustRegister(s.Collectors()...)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range m.GetLabel() {
				key += "{" + l.GetName() + "=" + l.GetValue() + "}"
			}
			switch {
			case m.GetGauge() != nil:
				got[key] = m.GetGauge().GetValue()
			case m.GetCounter() != nil:
				got[key] = m.GetCounter().GetValue()
			}
		}
	}
	st := ts.sb.State()
	users := 0
	for _, u := range st.Users {
		if u.DirectoryID == dir {
			users++
		}
	}
	checks := map[string]float64{
		"roster_replica_users{directory_id=" + dir + "}":           float64(users),
		"roster_backfill_progress_ratio{directory_id=" + dir + "}": 1,
	}
	for k, want := range checks {
		if got[k] != want {
			t.Errorf("%s = %v, want %v", k, got[k], want)
		}
	}
	for _, k := range []string{"roster_replica_groups{directory_id=" + dir + "}", "roster_replica_memberships{directory_id=" + dir + "}",
		"roster_sync_lag_seconds{directory_id=" + dir + "}", "roster_sync_events_skipped_total{reason=stale}",
		"roster_sync_errors_total{kind=rate_limit}"} {
		if _, ok := got[k]; !ok {
			t.Errorf("metric %s missing", k)
		}
	}
	if got["roster_sync_events_applied_total"] < 4 { // 2 hires: created + added to groups
		t.Errorf("applied = %v, want ≥ 4", got["roster_sync_events_applied_total"])
	}
}

func TestSyncer_RunDiscoversPollsAndStops(t *testing.T) {
	ts := startSandbox(t, sandbox.Options{Preset: sandbox.PresetSmall})
	store := openTestDB(t, "")
	s := newTestSyncer(t, ts, store, nil)
	s.Interval = time.Hour // only Poke makes it poll again
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	dir := ts.sb.State().Directories[0].ID
	waitSync(t, func() bool { return len(diffReplica(t, store, ts.sb.State())) == 0 })
	ts.scenario(t, "new-hires", dir, 3, "")
	s.Poke()
	waitSync(t, func() bool { return len(diffReplica(t, store, ts.sb.State())) == 0 })
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

// waitSync polls cond until it holds (fails after a generous deadline; the
// test asserts the outcome, not the time it takes).
func waitSync(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestProgress(t *testing.T) {
	tests := []struct {
		name         string
		st           db.SyncState
		memberGroups int64
		want         float64
	}{
		{"groups half", db.SyncState{Phase: db.PhaseGroups, GroupsDone: 2, GroupsTotal: 4}, 0, 0.05},
		{"users half", db.SyncState{Phase: db.PhaseUsers, GroupsDone: 4, GroupsTotal: 4, UsersDone: 50, UsersTotal: 100}, 0, 0.4},
		{"members of half the groups", db.SyncState{Phase: db.PhaseMemberships, GroupsDone: 4, GroupsTotal: 4, MembershipsDone: 900, UsersTotal: 100}, 2, 0.845},
		{"unknown totals", db.SyncState{Phase: db.PhaseUsers, UsersDone: 50}, 0, 0.1},
		{"finishing", db.SyncState{Phase: db.PhaseFinish}, 0, 0.99},
		{"live", db.SyncState{Phase: db.PhaseLive}, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := progress(tt.st, tt.memberGroups); got < tt.want-1e-9 || got > tt.want+1e-9 {
				t.Errorf("progress = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestSyncer_PageFailsWhileNextIsFetched: the sync lists the next page of
// events while it writes the current one. When a page fails, the pages
// before it stay applied, the cursor stays at the end of the last of them,
// and the page fetched ahead is dropped: the next sync applies every
// remaining event once, none twice and none lost.
func TestSyncer_PageFailsWhileNextIsFetched(t *testing.T) {
	ts := startSandbox(t, sandbox.Options{Preset: sandbox.PresetSmall, Seed: 5})
	store := openTestDB(t, "")
	s := newTestSyncer(t, ts, store, nil)
	syncUntil(t, s, 1)
	dir := ts.sb.State().Directories[0].ID
	ctx := context.Background()
	before, err := store.SyncState(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	total := int64(0) // re-orgs of the small preset's people: over three pages of events
	for total < 3*pageSize+30 {
		var res struct {
			Events int64 `json:"events"`
		}
		ts.control(t, http.MethodPost, "/_sandbox/scenarios/reorg", map[string]any{"directory_id": dir, "count": 10}, &res)
		if res.Events == 0 {
			t.Fatal("the re-org emitted no event")
		}
		total += res.Events
	}
	var seen atomic.Int64
	s.OnEvent = func(ctx context.Context, tx db.Tx, ev dirsync.Event, decoded any, outcome string) error {
		if seen.Add(1) == 150 { // in the second page, while the third is fetched
			return fmt.Errorf("crash on %s", ev.ID)
		}
		return nil
	}
	if err := s.SyncDirectory(ctx, dir); err == nil {
		t.Fatalf("the sync with a failing second page succeeded after %d events", seen.Load())
	}
	mid, err := store.SyncState(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := mid.EventsApplied - before.EventsApplied; got != pageSize {
		t.Errorf("after the failure %d events applied, want the first page's %d", got, pageSize)
	}
	s.OnEvent = nil
	syncUntil(t, s, 1)
	after, err := store.SyncState(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, dup := after.EventsApplied-before.EventsApplied, after.EventsDuplicate-before.EventsDuplicate; got != total || dup != 0 {
		t.Errorf("applied %d events (%d duplicates), want %d and none", got, dup, total)
	}
	requireEqual(t, store, ts)
}
