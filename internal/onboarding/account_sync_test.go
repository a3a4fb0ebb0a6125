package onboarding

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"roster/internal/db"
	"roster/internal/dirsync"
	"roster/internal/dirsync/sandbox"
)

// policyClock is a settable clock shared by the sandbox, the sync and the
// service.
type policyClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *policyClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *policyClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// policyFx is the sandbox directory (small preset) synced into a temp
// database by the real Syncer, with the account hook wired as main wires it.
type policyFx struct {
	t      *testing.T
	ctx    context.Context
	clock  *policyClock
	sb     *sandbox.Sandbox
	srv    *httptest.Server
	d      *db.DB
	svc    *Service
	syncer *Syncer
	api    *dirsync.Client
	act    Actor
	org    string
	dir    string
}

func newPolicyFx(t *testing.T) *policyFx {
	t.Helper()
	ctx := context.Background()
	clock := &policyClock{t: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}
	sb, err := sandbox.New(sandbox.Options{Preset: sandbox.PresetSmall, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb.Handler())
	t.Cleanup(func() { srv.Close(); _ = sb.Close() })
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	d.Now = clock.Now
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	api := dirsync.New(dirsync.Config{BaseURL: srv.URL, APIKey: sandbox.DefaultAPIKey, UsersRatePerDirectory: -1,
		KeyRequestsPerMinute: -1, MaxAttempts: 1})
	svc := &Service{DB: d, Log: log, Now: clock.Now, BaseURL: "http://roster.test"}
	syncer := NewSyncer(d, api, log)
	syncer.Now = clock.Now
	syncer.OnEvent = svc.AccountEffects()
	f := &policyFx{t: t, ctx: ctx, clock: clock, sb: sb, srv: srv, d: d, svc: svc, syncer: syncer, api: api}
	f.sync()
	st := sb.State()
	f.org, f.dir = st.Directories[0].OrganizationID, st.Directories[0].ID
	auth := NewAuth(d)
	auth.BcryptCost = bcrypt.MinCost
	if _, err := auth.EnsureAdmin(ctx, "admin@roster.test", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	adm, err := d.AdminByEmail(ctx, "admin@roster.test")
	if err != nil {
		t.Fatal(err)
	}
	f.act = Actor{AdminID: adm.ID, Email: adm.Email}
	return f
}

// sync brings the replica up to date (the hook runs inside).
func (f *policyFx) sync() {
	f.t.Helper()
	f.clock.Add(time.Second)
	if err := f.syncer.SyncOnce(f.ctx); err != nil {
		f.t.Fatalf("sync: %v", err)
	}
}

// control calls the sandbox's change simulator and decodes the answer.
func (f *policyFx) control(method, path, body string, want int) map[string]any {
	f.t.Helper()
	f.clock.Add(time.Second)
	req, _ := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+sandbox.DefaultAPIKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		f.t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, b)
	}
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

// people returns n active directory users with an email, by id.
func (f *policyFx) people(n int) []string {
	f.t.Helper()
	var out []string
	for _, u := range f.sb.State().Users {
		if u.DirectoryID == f.dir && u.State == "active" && u.Email != nil && *u.Email != "" && !strings.ContainsAny(*u.Email, "'") {
			out = append(out, u.ID)
			if len(out) == n {
				return out
			}
		}
	}
	f.t.Fatalf("only %d suitable people", len(out))
	return nil
}

// invite onboards people through the real invite flow; roles maps user id
// → an admin's role choice (an override).
func (f *policyFx) invite(ids []string, roles map[string]string) map[string]db.Account {
	f.t.Helper()
	if _, err := f.d.SelectUsers(f.ctx, f.act.AdminID, "", ids); err != nil {
		f.t.Fatal(err)
	}
	res, err := f.svc.Invite(f.ctx, f.act, InviteInput{Key: "key-" + RandomToken(12), Overrides: roles})
	if err != nil {
		f.t.Fatal(err)
	}
	if res.Created != len(ids) {
		f.t.Fatalf("invited %d of %d: %+v", res.Created, len(ids), res)
	}
	out := map[string]db.Account{}
	for _, id := range ids {
		out[id] = f.account(id)
	}
	return out
}

func (f *policyFx) account(userID string) db.Account {
	f.t.Helper()
	var a db.Account
	err := f.d.Tx(f.ctx, func(tx db.Tx) error {
		var err error
		a, err = db.AccountByDirectoryUserTx(f.ctx, tx, userID)
		return err
	})
	if err != nil {
		f.t.Fatalf("account of %s: %v", userID, err)
	}
	return a
}

func (f *policyFx) hasAccount(userID string) bool {
	f.t.Helper()
	err := f.d.Tx(f.ctx, func(tx db.Tx) error {
		_, err := db.AccountByDirectoryUserTx(f.ctx, tx, userID)
		return err
	})
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		f.t.Fatal(err)
	}
	return err == nil
}

func (f *policyFx) sessionVersion(id int64) int64 {
	f.t.Helper()
	var v int64
	if err := f.d.Tx(f.ctx, func(tx db.Tx) error {
		var err error
		v, err = db.AccountSessionVersionTx(f.ctx, tx, id)
		return err
	}); err != nil {
		f.t.Fatal(err)
	}
	return v
}

func (f *policyFx) history(id int64) []db.HistoryEntry {
	f.t.Helper()
	h, err := f.d.AccountHistory(f.ctx, id, 500)
	if err != nil {
		f.t.Fatal(err)
	}
	return h
}

// historyOf returns the history lines of one field, oldest first.
func (f *policyFx) historyOf(id int64, field string) []db.HistoryEntry {
	var out []db.HistoryEntry
	h := f.history(id)
	for i := len(h) - 1; i >= 0; i-- {
		if h[i].Field == field {
			out = append(out, h[i])
		}
	}
	return out
}

func (f *policyFx) setPolicy(deprov string, grace int, react string, auto ...string) {
	f.t.Helper()
	if err := f.svc.SavePolicy(f.ctx, f.act, f.org, PolicyInput{Deprovision: deprov, GraceDays: grace, Reactivation: react, AutoInviteGroups: auto}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *policyFx) openItems() []db.ReviewItem {
	f.t.Helper()
	q, err := f.svc.ReviewItems(f.ctx, f.act, "", 0)
	if err != nil {
		f.t.Fatal(err)
	}
	return q.Items
}

func (f *policyFx) invitationStatus(accountID int64) string {
	f.t.Helper()
	inv, err := f.d.InvitationByAccount(f.ctx, accountID, f.clock.Now())
	if err != nil {
		f.t.Fatal(err)
	}
	return inv.Status
}

func (f *policyFx) groups() []string {
	var out []string
	for _, g := range f.sb.State().Groups {
		if g.DirectoryID == f.dir {
			out = append(out, g.ID)
		}
	}
	return out
}

func TestAccountSync_UserUpdatedMapsFieldsWithHistory(t *testing.T) {
	f := newPolicyFx(t)
	uid := f.people(1)[0]
	a := f.invite([]string{uid}, nil)[uid]

	f.control("PATCH", "/_sandbox/users/"+uid, `{"first_name":"Ada","job_title":"Chief <Engineer>","department":"R&D 🚀"}`, 200)
	f.sync()

	got := f.account(uid)
	if got.FirstName != "Ada" || got.JobTitle != "Chief <Engineer>" || got.Department != "R&D 🚀" {
		t.Fatalf("account after update = %+v", got)
	}
	for field, want := range map[string][2]string{"first_name": {a.FirstName, "Ada"}, "job_title": {a.JobTitle, "Chief <Engineer>"}, "department": {a.Department, "R&D 🚀"}} {
		h := f.historyOf(a.ID, field)
		if len(h) != 1 {
			t.Fatalf("%s history = %+v, want one line", field, h)
		}
		if h[0].OldValue != want[0] || h[0].NewValue != want[1] || h[0].Source != SourceDirectory || !strings.HasPrefix(h[0].EventID, "event_") {
			t.Errorf("%s history = %+v, want %q → %q from an event", field, h[0], want[0], want[1])
		}
	}
	// The audit log names the event too.
	entries, err := f.d.SearchAudit(f.ctx, db.AuditSearch{AllOrgs: true, Action: "account.updated"})
	if err != nil || len(entries) != 1 || !strings.Contains(entries[0].Detail, "event_") {
		t.Errorf("audit = %+v, %v", entries, err)
	}
	// A second poll applies nothing again.
	f.sync()
	if h := f.historyOf(a.ID, "first_name"); len(h) != 1 {
		t.Errorf("first_name history after a second poll = %d lines", len(h))
	}
}

func TestAccountSync_OldValueFromPreviousAttributes(t *testing.T) {
	f := newPolicyFx(t)
	uid := f.people(1)[0]
	a := f.invite([]string{uid}, nil)[uid]
	// Roster's copy drifted (e.g. an earlier mapping); the event's
	// previous_attributes still say what the directory had.
	if err := f.d.Tx(f.ctx, func(tx db.Tx) error {
		return db.UpdateAccountFieldsTx(f.ctx, tx, a.ID, map[string]string{"job_title": "drifted"}, f.clock.Now())
	}); err != nil {
		t.Fatal(err)
	}
	before := ""
	for _, u := range f.sb.State().Users {
		if u.ID == uid {
			if v, ok := u.CustomAttributes["job_title"].(string); ok {
				before = v
			}
		}
	}
	f.control("PATCH", "/_sandbox/users/"+uid, `{"job_title":"Head of Things"}`, 200)
	f.sync()
	h := f.historyOf(a.ID, "job_title")
	if len(h) != 1 || h[0].OldValue != before || h[0].NewValue != "Head of Things" {
		t.Fatalf("job_title history = %+v, want old %q from previous_attributes", h, before)
	}
}

func TestAccountSync_DeprovisionPolicies(t *testing.T) {
	for _, tc := range []struct {
		policy    string
		how       string // deactivate | delete
		state     string
		sessions  bool // sessions ended
		revoked   bool
		item      bool
		scheduled bool
	}{
		{db.DeprovisionSuspend, "deactivate", "suspended", true, true, false, false},
		{db.DeprovisionSuspend, "delete", "suspended", true, true, false, false},
		{db.DeprovisionSuspendGrace, "deactivate", "invited", false, false, false, true},
		{db.DeprovisionDelete, "deactivate", "deprovisioned", true, true, false, false},
		{db.DeprovisionDelete, "delete", "deprovisioned", true, true, false, false},
		{db.DeprovisionFlag, "deactivate", "invited", false, false, true, false},
		{db.DeprovisionFlag, "delete", "invited", false, false, true, false},
	} {
		t.Run(tc.policy+"/"+tc.how, func(t *testing.T) {
			f := newPolicyFx(t)
			f.setPolicy(tc.policy, 5, db.ReactivateRestore)
			uid := f.people(1)[0]
			a := f.invite([]string{uid}, nil)[uid]
			sv := f.sessionVersion(a.ID)
			if tc.how == "delete" {
				f.control("DELETE", "/_sandbox/users/"+uid, "", 200)
			} else {
				f.control("POST", "/_sandbox/users/"+uid+"/deactivate", "", 200)
			}
			f.sync()
			got := f.account(uid)
			if got.State != tc.state {
				t.Fatalf("state = %s, want %s", got.State, tc.state)
			}
			if ended := f.sessionVersion(a.ID) > sv; ended != tc.sessions {
				t.Errorf("sessions ended = %v, want %v", ended, tc.sessions)
			}
			wantInv := db.InvitationPending
			if tc.revoked {
				wantInv = db.InvitationRevoked
			}
			if st := f.invitationStatus(a.ID); st != wantInv {
				t.Errorf("invitation = %s, want %s", st, wantInv)
			}
			items := f.openItems()
			if (len(items) == 1) != tc.item || (tc.item && (items[0].AccountID != a.ID || items[0].Action != db.ReviewActionSuspend || items[0].Kind != db.ReviewFlag)) {
				t.Errorf("review items = %+v, want flag %v", items, tc.item)
			}
			_, err := f.d.PendingActionFor(f.ctx, a.ID)
			if (err == nil) != tc.scheduled {
				t.Errorf("scheduled suspension = %v, want %v", err == nil, tc.scheduled)
			}
			// Repeating the poll (and any later event) changes nothing more.
			n := len(f.history(a.ID))
			f.sync()
			if len(f.history(a.ID)) != n || len(f.openItems()) != len(items) {
				t.Errorf("a second poll changed the account again")
			}
		})
	}
}

func TestAccountSync_GracePeriodExpiresWithClock(t *testing.T) {
	f := newPolicyFx(t)
	f.setPolicy(db.DeprovisionSuspendGrace, 3, db.ReactivateRestore)
	ids := f.people(2)
	accts := f.invite(ids, nil)
	leaver, rehire := ids[0], ids[1]
	f.control("POST", "/_sandbox/users/"+leaver+"/deactivate", "", 200)
	f.control("POST", "/_sandbox/users/"+rehire+"/deactivate", "", 200)
	f.sync()

	f.clock.Add(2 * 24 * time.Hour)
	if n, err := f.svc.ApplyDuePolicies(f.ctx); err != nil || n != 0 {
		t.Fatalf("before the grace period ends: %d, %v", n, err)
	}
	// One of them comes back before the end: the suspension is cancelled.
	f.control("POST", "/_sandbox/users/"+rehire+"/reactivate", "", 200)
	f.sync()
	if h := f.historyOf(accts[rehire].ID, "scheduled_suspension"); len(h) != 2 || h[1].NewValue != "cancelled" {
		t.Fatalf("re-hire history = %+v", h)
	}

	f.clock.Add(24*time.Hour + time.Minute)
	n, err := f.svc.ApplyDuePolicies(f.ctx)
	if err != nil || n != 1 {
		t.Fatalf("after the grace period: suspended %d, %v; want 1", n, err)
	}
	if st := f.account(leaver).State; st != "suspended" {
		t.Errorf("leaver state = %s", st)
	}
	if st := f.account(rehire).State; st != "invited" {
		t.Errorf("re-hire state = %s", st)
	}
	h := f.historyOf(accts[leaver].ID, "state")
	last := h[len(h)-1]
	if last.NewValue != "suspended" || last.Source != SourcePolicy || !strings.HasPrefix(last.EventID, "event_") {
		t.Errorf("suspension history = %+v, want source policy with the event id", last)
	}
	if n, _ := f.svc.ApplyDuePolicies(f.ctx); n != 0 {
		t.Errorf("a second run suspended %d more", n)
	}
}

func TestAccountSync_Rehire(t *testing.T) {
	for _, tc := range []struct {
		react string
		state string
		item  bool
	}{
		{db.ReactivateRestore, "invited", false},
		{db.ReactivateFlag, "suspended", true},
		{db.ReactivateNone, "suspended", false},
	} {
		t.Run(tc.react, func(t *testing.T) {
			f := newPolicyFx(t)
			f.setPolicy(db.DeprovisionSuspend, 7, tc.react)
			uid := f.people(1)[0]
			a := f.invite([]string{uid}, nil)[uid]
			f.control("POST", "/_sandbox/users/"+uid+"/deactivate", "", 200)
			f.sync()
			f.control("POST", "/_sandbox/users/"+uid+"/reactivate", "", 200)
			f.sync()
			if st := f.account(uid).State; st != tc.state {
				t.Fatalf("state = %s, want %s", st, tc.state)
			}
			items := f.openItems()
			if (len(items) == 1) != tc.item {
				t.Fatalf("items = %+v", items)
			}
			if tc.react == db.ReactivateRestore {
				// An invited account gets a fresh invitation (and its email).
				if st := f.invitationStatus(a.ID); st != db.InvitationPending {
					t.Errorf("invitation after restore = %s", st)
				}
			}
			if tc.item {
				d, err := f.svc.DecideReview(f.ctx, f.act, items[0].ID, true)
				if err != nil || d.Already {
					t.Fatalf("approve: %+v, %v", d, err)
				}
				if st := f.account(uid).State; st != "invited" {
					t.Errorf("state after approving = %s", st)
				}
			}
		})
	}
}

// events reads every event of the sandbox after a cursor.
func (f *policyFx) events(after string) []dirsync.Event {
	f.t.Helper()
	var out []dirsync.Event
	for {
		p, err := f.api.ListEvents(f.ctx, dirsync.ListEventsOptions{After: after, Limit: 100, OrganizationID: f.org,
			RangeStart: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			f.t.Fatal(err)
		}
		out = append(out, p.Data...)
		if len(p.Data) < 100 {
			return out
		}
		after = p.Data[len(p.Data)-1].ID
	}
}

func TestAccountSync_DuplicatesAndOutOfOrderAreSkippedVisibly(t *testing.T) {
	f := newPolicyFx(t)
	uid := f.people(1)[0]
	a := f.invite([]string{uid}, nil)[uid]
	all := f.events("")
	mark := all[len(all)-1].ID
	f.control("PATCH", "/_sandbox/users/"+uid, `{"job_title":"First"}`, 200)
	f.control("PATCH", "/_sandbox/users/"+uid, `{"job_title":"Second"}`, 200)
	evs := f.events(mark)
	if len(evs) != 2 {
		t.Fatalf("events = %d", len(evs))
	}
	// Delivered out of order: the newer first, then the older (stale), then
	// the newer again (duplicate).
	if err := f.syncer.ApplyEvents(f.ctx, f.dir, []dirsync.Event{evs[1], evs[0], evs[1]}); err != nil {
		t.Fatal(err)
	}
	if got := f.account(uid).JobTitle; got != "Second" {
		t.Fatalf("job title = %q, want Second", got)
	}
	if h := f.historyOf(a.ID, "job_title"); len(h) != 1 || h[0].NewValue != "Second" || h[0].EventID != evs[1].ID {
		t.Errorf("job_title history = %+v", h)
	}
	skipped := f.historyOf(a.ID, "event")
	if len(skipped) != 2 {
		t.Fatalf("skipped lines = %+v, want the stale and the duplicate", skipped)
	}
	if skipped[0].EventID != evs[0].ID || !strings.HasPrefix(skipped[0].NewValue, "stale") || skipped[0].Source != SourceSkipped {
		t.Errorf("stale line = %+v", skipped[0])
	}
	if skipped[1].EventID != evs[1].ID || !strings.HasPrefix(skipped[1].NewValue, "duplicate") {
		t.Errorf("duplicate line = %+v", skipped[1])
	}
	// The regular poll later reads both again: duplicates, already shown once.
	f.sync()
	if n := len(f.historyOf(a.ID, "event")); n != 2 {
		t.Errorf("skipped lines after the poll = %d, want still 2", n)
	}
}

func TestAccountSync_CrashMidPageCommitsNothingThenAppliesOnce(t *testing.T) {
	f := newPolicyFx(t)
	ids := f.people(2)
	accts := f.invite(ids, nil)
	f.control("PATCH", "/_sandbox/users/"+ids[0], `{"job_title":"Applied once"}`, 200)
	f.control("POST", "/_sandbox/users/"+ids[1]+"/deactivate", "", 200)
	evs := f.events("")
	failOn := evs[len(evs)-1].ID // the deactivation, after the title change in the same page
	before, _ := f.d.SyncState(f.ctx, f.dir)

	calls := 0
	effectFault = func(stage string) error {
		if stage == "event "+failOn {
			calls++
			return errors.New("crash before commit")
		}
		return nil
	}
	t.Cleanup(func() { effectFault = nil })
	f.clock.Add(time.Second)
	if err := f.syncer.SyncOnce(f.ctx); err == nil {
		t.Fatal("sync with a failing hook succeeded")
	}
	if calls == 0 {
		t.Fatal("the fault never fired")
	}
	after, _ := f.d.SyncState(f.ctx, f.dir)
	if after.EventsCursor != before.EventsCursor {
		t.Errorf("cursor moved from %q to %q despite the failure", before.EventsCursor, after.EventsCursor)
	}
	if got := f.account(ids[0]); got.JobTitle == "Applied once" || len(f.historyOf(got.ID, "job_title")) != 0 {
		t.Errorf("the first event of the failed page was committed: %+v", got)
	}
	if st := f.account(ids[1]).State; st != "invited" {
		t.Errorf("state after the failed page = %s", st)
	}

	effectFault = nil
	f.sync()
	if got := f.account(ids[0]); got.JobTitle != "Applied once" || len(f.historyOf(accts[ids[0]].ID, "job_title")) != 1 {
		t.Errorf("after the retry: %+v, history %+v", got, f.historyOf(accts[ids[0]].ID, "job_title"))
	}
	if st := f.account(ids[1]).State; st != "suspended" {
		t.Errorf("state after the retry = %s", st)
	}
	if h := f.historyOf(accts[ids[1]].ID, "state"); len(h) != 2 { // invited, suspended
		t.Errorf("state history = %+v", h)
	}
}

func TestAccountSync_EmailCollisionBecomesConflict(t *testing.T) {
	f := newPolicyFx(t)
	ids := f.people(2)
	accts := f.invite(ids, nil)
	taken := accts[ids[1]].Email
	f.control("PATCH", "/_sandbox/users/"+ids[0], `{"email":"`+strings.ToUpper(taken)+`","job_title":"Still updated"}`, 200)
	f.sync() // must not fail the page

	got := f.account(ids[0])
	if got.Email != accts[ids[0]].Email || got.JobTitle != "Still updated" {
		t.Fatalf("account = %+v; want the old email kept and the title updated", got)
	}
	items := f.openItems()
	if len(items) != 1 || items[0].Kind != db.ReviewConflict || items[0].Action != db.ReviewActionSetEmail || items[0].Proposed != taken {
		t.Fatalf("items = %+v", items)
	}
	// Approving while the email is still taken is refused and changes nothing.
	if _, err := f.svc.DecideReview(f.ctx, f.act, items[0].ID, true); !errors.Is(err, ErrInvalid) {
		t.Fatalf("approve while taken: %v", err)
	}
	if len(f.openItems()) != 1 {
		t.Fatal("the refused approval closed the item")
	}
	d, err := f.svc.DecideReview(f.ctx, f.act, items[0].ID, false)
	if err != nil || d.Item.Status != db.ReviewDismissed {
		t.Fatalf("dismiss: %+v, %v", d, err)
	}
	// A double submit is harmless.
	d, err = f.svc.DecideReview(f.ctx, f.act, items[0].ID, true)
	if err != nil || !d.Already || d.Item.Status != db.ReviewDismissed {
		t.Fatalf("second decision: %+v, %v", d, err)
	}
	audit, _ := f.d.SearchAudit(f.ctx, db.AuditSearch{AllOrgs: true, Action: "review."})
	var dismissed int
	for _, e := range audit {
		if e.Action == "review.dismissed" {
			dismissed++
		}
	}
	if dismissed != 1 {
		t.Errorf("review.dismissed audit entries = %d, want 1", dismissed)
	}
}

func TestAccountSync_RoleRecomputeHighestWinsAndOverride(t *testing.T) {
	f := newPolicyFx(t)
	gs := f.groups()
	adminGroup := f.control("POST", "/_sandbox/directories/"+f.dir+"/groups", `{"name":"Admins"}`, 201)["id"].(string)
	viewGroup := f.control("POST", "/_sandbox/directories/"+f.dir+"/groups", `{"name":"Viewers"}`, 201)["id"].(string)
	f.sync()
	src := map[string]string{}
	for k, v := range DefaultSources {
		src[k] = v
	}
	if err := f.svc.SaveSettings(f.ctx, f.act, f.org, SettingsInput{Sources: src, DefaultRole: "member", InviteTTLDays: 7,
		RoleMappings: []db.RoleMapping{{GroupID: adminGroup, RoleSlug: "admin"}, {GroupID: viewGroup, RoleSlug: "viewer"}}}); err != nil {
		t.Fatal(err)
	}
	_ = gs
	ids := f.people(2)
	accts := f.invite(ids, map[string]string{ids[1]: "viewer"}) // ids[1]: an admin's choice
	plain, overridden := ids[0], ids[1]
	if accts[plain].Role != "member" || !accts[overridden].RoleOverridden {
		t.Fatalf("start roles: %+v / %+v", accts[plain], accts[overridden])
	}
	steps := []struct {
		method, path string
		want         string
	}{
		{"POST", "/_sandbox/groups/" + viewGroup + "/members", "viewer"},
		{"POST", "/_sandbox/groups/" + adminGroup + "/members", "admin"},
		{"DELETE", "/_sandbox/groups/" + adminGroup + "/members/" + plain, "viewer"},
		{"DELETE", "/_sandbox/groups/" + viewGroup, "member"},
	}
	for _, s := range steps {
		body := ""
		if s.method == "POST" {
			body = `{"user_id":"` + plain + `"}`
		}
		f.control(s.method, s.path, body, 200)
		f.sync()
		if got := f.account(plain).Role; got != s.want {
			t.Fatalf("after %s %s: role %s, want %s", s.method, s.path, got, s.want)
		}
	}
	if h := f.historyOf(accts[plain].ID, "role"); len(h) != 4 {
		t.Errorf("role history = %+v", h)
	}

	// The overridden account keeps the admin's choice; the mapping's wish
	// becomes a conflict to review.
	f.control("POST", "/_sandbox/groups/"+adminGroup+"/members", `{"user_id":"`+overridden+`"}`, 200)
	f.sync()
	if got := f.account(overridden); got.Role != "viewer" || !got.RoleOverridden {
		t.Fatalf("overridden account = %+v", got)
	}
	items := f.openItems()
	if len(items) != 1 || items[0].Action != db.ReviewActionSetRole || items[0].Proposed != "admin" {
		t.Fatalf("items = %+v", items)
	}
	if _, err := f.svc.DecideReview(f.ctx, f.act, items[0].ID, true); err != nil {
		t.Fatal(err)
	}
	if got := f.account(overridden); got.Role != "admin" || got.RoleOverridden {
		t.Errorf("after approval = %+v", got)
	}
}

func TestAccountSync_DirectoryDeletedSuspendsAndFlags(t *testing.T) {
	f := newPolicyFx(t)
	f.setPolicy(db.DeprovisionDelete, 7, db.ReactivateRestore) // even "delete" must not delete here
	ids := f.people(3)
	f.invite(ids, nil)
	f.control("DELETE", "/_sandbox/directories/"+f.dir, "", 200)
	// The poll reads dsync.deleted (before any listing notices).
	f.clock.Add(time.Second)
	if err := f.syncer.SyncDirectory(f.ctx, f.dir); err != nil && !errors.Is(err, errDirectoryGone) {
		t.Fatal(err)
	}
	for _, id := range ids {
		if st := f.account(id).State; st != "suspended" {
			t.Errorf("%s: state %s, want suspended", id, st)
		}
	}
	items := f.openItems()
	if len(items) != 3 {
		t.Fatalf("items = %d, want 3", len(items))
	}
	for _, it := range items {
		if it.Kind != db.ReviewFlag || it.Action != db.ReviewActionDelete {
			t.Errorf("item = %+v", it)
		}
	}
	// Dismissing keeps the account suspended and it is not asked again.
	if _, err := f.svc.DecideReview(f.ctx, f.act, items[0].ID, false); err != nil {
		t.Fatal(err)
	}
	f.sync()
	if _, err := f.svc.ApplyDuePolicies(f.ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(f.openItems()); n != 2 {
		t.Errorf("open items after one dismissal = %d, want 2", n)
	}
}

func TestAccountSync_DirectoryGoneFromListingIsSweptByTheWorker(t *testing.T) {
	f := newPolicyFx(t)
	ids := f.people(2)
	f.invite(ids, nil)
	f.control("DELETE", "/_sandbox/directories/"+f.dir, "", 200)
	f.sync() // discovery marks it deleted before its events are polled
	if _, err := f.svc.ApplyDuePolicies(f.ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if st := f.account(id).State; st != "suspended" {
			t.Errorf("%s: state %s, want suspended", id, st)
		}
	}
	if n := len(f.openItems()); n != 2 {
		t.Errorf("open items = %d, want 2", n)
	}
	if _, err := f.svc.ApplyDuePolicies(f.ctx); err != nil || len(f.openItems()) != 2 {
		t.Errorf("a second sweep changed things: %v", err)
	}
}

// newAutoInviteFx is a policy fixture whose group auto auto-invites its
// new members and whose group manual does not.
func newAutoInviteFx(t *testing.T) (f *policyFx, auto, manual string) {
	t.Helper()
	f = newPolicyFx(t)
	gs := f.groups()
	auto, manual = gs[0], gs[1]
	f.setPolicy(db.DeprovisionSuspend, 7, db.ReactivateRestore, auto)
	return f, auto, manual
}

func TestAccountSync_AutoInviteThroughPreviewRules(t *testing.T) {
	f, auto, manual := newAutoInviteFx(t)
	hired := f.control("POST", "/_sandbox/directories/"+f.dir+"/users", `{"first_name":"Grace","last_name":"Auto","group_ids":["`+auto+`"]}`, 201)["id"].(string)
	noEmail := f.control("POST", "/_sandbox/directories/"+f.dir+"/users", `{"first_name":"No","last_name":"Mail","email":"","group_ids":["`+auto+`"]}`, 201)["id"].(string)
	other := f.control("POST", "/_sandbox/directories/"+f.dir+"/users", `{"first_name":"Not","last_name":"Auto","group_ids":["`+manual+`"]}`, 201)["id"].(string)
	f.sync()

	a := f.account(hired)
	if a.State != "invited" || f.invitationStatus(a.ID) != db.InvitationPending {
		t.Fatalf("auto-invited account = %+v", a)
	}
	if h := f.historyOf(a.ID, "auto_invite"); len(h) != 1 || !strings.HasPrefix(h[0].EventID, "event_") {
		t.Errorf("auto-invite history = %+v", h)
	}
	mails, err := f.d.ListEmails(f.ctx, db.EmailFilter{AllOrgs: true, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, m := range mails {
		found = found || m.To == a.Email
	}
	if !found {
		t.Errorf("no invitation email to %s", a.Email)
	}
	if f.hasAccount(noEmail) || f.hasAccount(other) {
		t.Errorf("accounts for the person without email (%v) or outside the rule (%v)", f.hasAccount(noEmail), f.hasAccount(other))
	}
	refused, _ := f.d.SearchAudit(f.ctx, db.AuditSearch{AllOrgs: true, Action: "invite.auto_refused"})
	if len(refused) != 1 {
		t.Errorf("refusals audited = %+v", refused)
	}
	// Joining a second auto group later does not invite twice.
	f.setPolicy(db.DeprovisionSuspend, 7, db.ReactivateRestore, auto, manual)
	f.control("POST", "/_sandbox/groups/"+manual+"/members", `{"user_id":"`+hired+`"}`, 200)
	f.sync()
	if h := f.historyOf(a.ID, "auto_invite"); len(h) != 1 {
		t.Errorf("invited twice: %+v", h)
	}
}

// Within one event page, a person first seen without an account, then
// auto-invited, then given a new title: the title reaches the new account
// (the page's memory of people without an account forgets the invited).
func TestAccountSync_AutoInvitedThenUpdatedInOnePage(t *testing.T) {
	f, auto, manual := newAutoInviteFx(t)
	id := f.control("POST", "/_sandbox/directories/"+f.dir+"/users", `{"first_name":"Page","last_name":"Turner","group_ids":["`+manual+`"]}`, 201)["id"].(string)
	f.control("POST", "/_sandbox/groups/"+auto+"/members", `{"user_id":"`+id+`"}`, 200)
	f.control("PATCH", "/_sandbox/users/"+id, `{"job_title":"Chief Page Turner"}`, 200)
	f.sync()
	a := f.account(id)
	if a.State != "invited" || a.JobTitle != "Chief Page Turner" {
		t.Fatalf("account = state %q, title %q; want invited with the new title", a.State, a.JobTitle)
	}
}

// The hook reads an organisation's rules once per event page: a policy
// changed between two polls governs the events of the second.
func TestAccountSync_PolicyChangedBetweenPollsApplies(t *testing.T) {
	f := newPolicyFx(t)
	f.setPolicy(db.DeprovisionSuspend, 5, db.ReactivateRestore)
	ids := f.people(2)
	accts := f.invite(ids, nil)
	f.control("POST", "/_sandbox/users/"+ids[0]+"/deactivate", "", 200)
	f.sync()
	if got := f.account(ids[0]).State; got != "suspended" {
		t.Fatalf("first leaver: state = %s, want suspended", got)
	}
	f.setPolicy(db.DeprovisionFlag, 5, db.ReactivateRestore)
	f.control("POST", "/_sandbox/users/"+ids[1]+"/deactivate", "", 200)
	f.sync()
	if got := f.account(ids[1]).State; got != "invited" {
		t.Fatalf("second leaver: state = %s, want invited (flagged under the new policy, not suspended under the old)", got)
	}
	items := f.openItems()
	if len(items) != 1 || items[0].AccountID != accts[ids[1]].ID || items[0].Kind != db.ReviewFlag {
		t.Fatalf("review items = %+v, want one flag for the second leaver", items)
	}
}
