package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/crypto/bcrypt"

	"roster/internal/db"
	"roster/internal/dirsync"
	"roster/internal/dirsync/sandbox"
	"roster/internal/onboarding"
)

// policyApp is Roster's web layer over a temp database that the real
// Syncer filled from the sandbox (small preset), with the account hook
// wired as main wires it.
type policyApp struct {
	t      *testing.T
	ctx    context.Context
	d      *db.DB
	app    *onboarding.Service
	syncer *onboarding.Syncer
	ts     *httptest.Server
	sbURL  string
	org    string
	dir    string
	act    onboarding.Actor
	users  []string // active directory users with an email
	emails map[string]string
	groups []string
}

const policyAdminEmail, policyAdminPass = "root@roster.test", "correct horse battery"

func newPolicyApp(t *testing.T) *policyApp {
	t.Helper()
	ctx := context.Background()
	sb, err := sandbox.New(sandbox.Options{Preset: sandbox.PresetSmall})
	if err != nil {
		t.Fatal(err)
	}
	sbSrv := httptest.NewServer(sb.Handler())
	t.Cleanup(func() { sbSrv.Close(); _ = sb.Close() })
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	api := dirsync.New(dirsync.Config{BaseURL: sbSrv.URL, APIKey: sandbox.DefaultAPIKey, UsersRatePerDirectory: -1, KeyRequestsPerMinute: -1, MaxAttempts: 1})
	app := &onboarding.Service{DB: d, Log: log, BaseURL: "http://example.test"}
	syncer := onboarding.NewSyncer(d, api, log)
	syncer.OnEvent = app.AccountEffects()
	if err := syncer.SyncOnce(ctx); err != nil {
		t.Fatal(err)
	}
	auth := onboarding.NewAuth(d)
	auth.BcryptCost = bcrypt.MinCost
	if _, err := auth.EnsureAdmin(ctx, policyAdminEmail, policyAdminPass); err != nil {
		t.Fatal(err)
	}
	hk, bk, err := auth.SessionKeys(ctx, "test-secret")
	if err != nil {
		t.Fatal(err)
	}
	srv := &Server{
		Config: Config{BaseURL: "http://example.test", SessionHashKey: hk, SessionBlock: bk, SessionIdle: time.Hour, SessionMaxAge: 24 * time.Hour},
		Log:    log, Auth: auth, App: app, Ready: d.Ping,
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	adm, err := d.AdminByEmail(ctx, policyAdminEmail)
	if err != nil {
		t.Fatal(err)
	}
	st := sb.State()
	a := &policyApp{t: t, ctx: ctx, d: d, app: app, syncer: syncer, ts: ts, sbURL: sbSrv.URL,
		org: st.Directories[0].OrganizationID, dir: st.Directories[0].ID, act: onboarding.Actor{AdminID: adm.ID, Email: adm.Email},
		emails: map[string]string{}}
	for _, u := range st.Users {
		if u.State == "active" && u.Email != nil && *u.Email != "" && !strings.Contains(*u.Email, "'") {
			a.users = append(a.users, u.ID)
			a.emails[u.ID] = *u.Email
		}
	}
	for _, g := range st.Groups {
		a.groups = append(a.groups, g.ID)
	}
	return a
}

// invite onboards people through the real invite flow.
func (a *policyApp) invite(ids ...string) {
	a.t.Helper()
	if _, err := a.d.SelectUsers(a.ctx, a.act.AdminID, "", ids); err != nil {
		a.t.Fatal(err)
	}
	if _, err := a.app.Invite(a.ctx, a.act, onboarding.InviteInput{Key: "policy-test-key-" + onboarding.RandomToken(8)}); err != nil {
		a.t.Fatal(err)
	}
}

func (a *policyApp) sandbox(method, path string) {
	a.t.Helper()
	req, _ := http.NewRequest(method, a.sbURL+path, nil)
	req.Header.Set("Authorization", "Bearer "+sandbox.DefaultAPIKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		a.t.Fatalf("%s %s: %d", method, path, resp.StatusCode)
	}
	if err := a.syncer.SyncOnce(a.ctx); err != nil {
		a.t.Fatal(err)
	}
}

func (a *policyApp) accountState(userID string) (int64, string) {
	a.t.Helper()
	var acct db.Account
	if err := a.d.Tx(a.ctx, func(tx db.Tx) error {
		var err error
		acct, err = db.AccountByDirectoryUserTx(a.ctx, tx, userID)
		return err
	}); err != nil {
		a.t.Fatal(err)
	}
	return acct.ID, acct.State
}

func (a *policyApp) client() *http.Client {
	return browserClient()
}

func (a *policyApp) get(c *http.Client, path string) (*http.Response, *goquery.Document) {
	a.t.Helper()
	resp, err := c.Get(a.ts.URL + path)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	return resp, doc
}

func (a *policyApp) post(c *http.Client, path string, form url.Values) *http.Response {
	a.t.Helper()
	resp, err := c.PostForm(a.ts.URL+path, form)
	if err != nil {
		a.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func (a *policyApp) token(c *http.Client, path string) string {
	a.t.Helper()
	_, doc := a.get(c, path)
	tok, ok := doc.Find(`input[name="_csrf"]`).First().Attr("value")
	if !ok || tok == "" {
		a.t.Fatalf("no CSRF token on %s", path)
	}
	return tok
}

func (a *policyApp) signIn(email, pw string) *http.Client {
	a.t.Helper()
	c := a.client()
	tok := a.token(c, "/login")
	if resp := a.post(c, "/login", url.Values{"_csrf": {tok}, "email": {email}, "password": {pw}}); resp.StatusCode != http.StatusSeeOther {
		a.t.Fatalf("sign-in: %d", resp.StatusCode)
	}
	return c
}

func (a *policyApp) count(table string) int {
	a.t.Helper()
	var n int
	if err := a.d.Tx(a.ctx, func(tx db.Tx) error {
		return tx.QueryRowContext(a.ctx, `SELECT count(*) FROM `+table).Scan(&n)
	}); err != nil {
		a.t.Fatal(err)
	}
	return n
}

func TestPolicies_FormSavesAndRefusesBadInput(t *testing.T) {
	a := newPolicyApp(t)
	c := a.signIn(policyAdminEmail, policyAdminPass)

	resp, doc := a.get(c, "/settings/policies")
	if resp.StatusCode != 200 {
		t.Fatalf("GET: %d", resp.StatusCode)
	}
	if v, _ := doc.Find(`input[name=deprovision]:checked`).Attr("value"); v != "suspend" {
		t.Errorf("default leaver action = %q, want suspend", v)
	}
	if doc.Find(`nav a[href="/review"]`).Length() != 1 {
		t.Error("the nav has no Review queue link")
	}
	doc.Find(`form[data-testid=policy-form] input:not([type=hidden])`).Each(func(_ int, s *goquery.Selection) {
		id, _ := s.Attr("id")
		if id == "" || doc.Find(`label[for="`+id+`"]`).Length() == 0 {
			if s.ParentFiltered("label").Length() == 0 {
				t.Errorf("control %v has no label", s.Nodes[0].Attr)
			}
		}
	})

	tok := a.token(c, "/settings/policies")
	form := url.Values{"_csrf": {tok}, "org": {a.org}, "deprovision": {"suspend_after_grace"}, "grace_days": {"abc"},
		"reactivation": {"flag"}, "auto_invite": {a.groups[0]}}
	resp, err := c.PostForm(a.ts.URL+"/settings/policies", form)
	if err != nil {
		t.Fatal(err)
	}
	doc, _ = goquery.NewDocumentFromReader(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(doc.Find(`[data-testid=policy-error]`).Text(), "grace period") {
		t.Fatalf("bad grace days: %d %q", resp.StatusCode, doc.Find(`[data-testid=policy-error]`).Text())
	}
	// The refused edit is shown again, not lost.
	if v, _ := doc.Find(`input[name=deprovision]:checked`).Attr("value"); v != "suspend_after_grace" {
		t.Errorf("refused form lost the choice: %q", v)
	}
	if p, _ := a.d.PolicyFor(a.ctx, a.org); !p.UpdatedAt.IsZero() {
		t.Error("a refused form saved a policy")
	}

	form.Set("grace_days", "10")
	if resp := a.post(c, "/settings/policies", form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d", resp.StatusCode)
	}
	p, _ := a.d.PolicyFor(a.ctx, a.org)
	if p.Deprovision != "suspend_after_grace" || p.GraceDays != 10 || p.Reactivation != "flag" || p.UpdatedBy != policyAdminEmail {
		t.Errorf("saved policy = %+v", p)
	}
	_, doc = a.get(c, "/settings/policies?org="+url.QueryEscape(a.org))
	if !doc.Find(`input[name=auto_invite][value="` + a.groups[0] + `"]`).Is(":checked") {
		t.Error("the auto-invite rule is not shown as on")
	}
	if doc.Find(`.flash.ok`).Length() != 1 {
		t.Error("no confirmation after saving")
	}
	audit, _ := a.d.SearchAudit(a.ctx, db.AuditSearch{AllOrgs: true, Action: "policy.updated"})
	if len(audit) != 1 {
		t.Errorf("policy.updated audit entries = %d", len(audit))
	}

	// Unknown values and a forged group are refused; no CSRF token is 403.
	for _, bad := range []url.Values{
		{"_csrf": {tok}, "org": {a.org}, "deprovision": {"explode"}, "grace_days": {"7"}, "reactivation": {"restore"}},
		{"_csrf": {tok}, "org": {a.org}, "deprovision": {"suspend"}, "grace_days": {"7"}, "reactivation": {"restore"}, "auto_invite": {"directory_group_forged"}},
	} {
		if resp := a.post(c, "/settings/policies", bad); resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("bad form %v: %d, want 422", bad, resp.StatusCode)
		}
	}
	if resp := a.post(c, "/settings/policies", url.Values{"org": {a.org}, "deprovision": {"suspend"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("no CSRF token: %d", resp.StatusCode)
	}
	if resp, _ := a.get(c, "/settings/policies?org=org_unknown"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown org: %d", resp.StatusCode)
	}
}

func TestPolicies_SimulatorShowsEffectAndChangesNothing(t *testing.T) {
	a := newPolicyApp(t)
	uid := a.users[0]
	a.invite(uid)
	c := a.signIn(policyAdminEmail, policyAdminPass)
	before := map[string]int{}
	tables := []string{"account_history", "audit_log", "review_items", "account_effects", "scheduled_actions", "invitations"}
	for _, tb := range tables {
		before[tb] = a.count(tb)
	}
	id, state := a.accountState(uid)

	q := url.Values{"org": {a.org}, "simulate": {"1"}, "user": {strings.ToUpper(a.emails[uid])}, "event": {"deactivated"}}
	resp, doc := a.get(c, "/settings/policies?"+q.Encode())
	if resp.StatusCode != 200 {
		t.Fatalf("simulate: %d %s", resp.StatusCode, doc.Find(`[data-testid=sim-error]`).Text())
	}
	table := doc.Find(`[data-testid=sim-effects]`)
	if !strings.Contains(table.Text(), "Suspended") || !strings.Contains(table.Text(), "Invitation revoked") {
		t.Errorf("simulation table = %q", table.Text())
	}
	if href, _ := doc.Find(`[data-testid=sim-result] a`).Attr("href"); href == "" {
		t.Error("no link to the account")
	}

	// A hostile title is shown escaped and intact.
	q.Set("event", "title_changed")
	q.Set("title", `<script>alert(1)</script> Ω`)
	resp, err := c.Get(a.ts.URL + "/settings/policies?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(raw), "<script>alert(1)</script>") || !strings.Contains(string(raw), "&lt;script&gt;alert(1)&lt;/script&gt; Ω") {
		t.Error("the title is not escaped intact")
	}

	for _, tb := range tables {
		if n := a.count(tb); n != before[tb] {
			t.Errorf("%s: %d rows after simulating, %d before", tb, n, before[tb])
		}
	}
	if _, st := a.accountState(uid); st != state {
		t.Errorf("account %d state %s → %s", id, state, st)
	}

	// Bad input: a clear 422, not a 500.
	for _, bad := range []url.Values{
		{"org": {a.org}, "simulate": {"1"}, "user": {"nobody@nowhere.example"}, "event": {"deleted"}},
		{"org": {a.org}, "simulate": {"1"}, "user": {a.emails[uid]}, "event": {"explode"}},
		{"org": {a.org}, "simulate": {"1"}, "user": {a.emails[uid]}, "event": {"added_to_group"}, "group": {"directory_group_forged"}},
		{"org": {a.org}, "simulate": {"1"}, "user": {a.emails[uid]}, "event": {"title_changed"}},
	} {
		resp, doc := a.get(c, "/settings/policies?"+bad.Encode())
		if resp.StatusCode != http.StatusUnprocessableEntity || strings.TrimSpace(doc.Find(`[data-testid=sim-error]`).Text()) == "" {
			t.Errorf("%v: %d %q", bad, resp.StatusCode, doc.Find(`[data-testid=sim-error]`).Text())
		}
	}
}

func TestReviewQueue_ApproveDismissAndScope(t *testing.T) {
	a := newPolicyApp(t)
	if err := a.app.SavePolicy(a.ctx, a.act, a.org, onboarding.PolicyInput{Deprovision: "flag", GraceDays: 7, Reactivation: "restore"}); err != nil {
		t.Fatal(err)
	}
	flagged, kept := a.users[0], a.users[1]
	a.invite(flagged, kept)
	a.sandbox("POST", "/_sandbox/users/"+flagged+"/deactivate")
	a.sandbox("POST", "/_sandbox/users/"+kept+"/deactivate")
	c := a.signIn(policyAdminEmail, policyAdminPass)

	resp, doc := a.get(c, "/review")
	if resp.StatusCode != 200 {
		t.Fatalf("GET /review: %d", resp.StatusCode)
	}
	rows := doc.Find(`[data-testid=review-table] tbody tr`)
	if rows.Length() != 2 {
		t.Fatalf("rows = %d, want 2", rows.Length())
	}
	if doc.Find(`[data-testid=review-table] caption`).Length() != 1 || doc.Find(`th[scope=col]`).Length() < 5 {
		t.Error("the queue table lacks a caption or column headers")
	}
	itemOf := func(email string) string {
		var id string
		rows.Each(func(_ int, s *goquery.Selection) {
			if strings.Contains(s.Text(), email) {
				id, _ = s.Attr("data-testid")
			}
		})
		return strings.TrimPrefix(id, "review-")
	}
	fid, kid := itemOf(a.emails[flagged]), itemOf(a.emails[kept])
	if fid == "" || kid == "" {
		t.Fatal("items not found by email")
	}
	tok := a.token(c, "/review")
	if resp := a.post(c, "/review/"+fid+"/approve", url.Values{"_csrf": {tok}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve: %d", resp.StatusCode)
	}
	if _, st := a.accountState(flagged); st != "suspended" {
		t.Errorf("approved account state = %s", st)
	}
	if resp := a.post(c, "/review/"+kid+"/dismiss", url.Values{"_csrf": {tok}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("dismiss: %d", resp.StatusCode)
	}
	if _, st := a.accountState(kept); st != "invited" {
		t.Errorf("dismissed account state = %s", st)
	}
	// Double submit: harmless, says so.
	a.post(c, "/review/"+fid+"/approve", url.Values{"_csrf": {tok}})
	_, doc = a.get(c, "/review")
	if !strings.Contains(doc.Find(`.flash`).Text(), "already approved") {
		t.Errorf("double submit flash = %q", doc.Find(`.flash`).Text())
	}
	if doc.Find(`[data-testid=review-empty]`).Length() != 1 {
		t.Error("the open queue is not empty")
	}
	for _, want := range []string{"review.approved", "review.dismissed"} {
		if e, _ := a.d.SearchAudit(a.ctx, db.AuditSearch{AllOrgs: true, Action: want}); len(e) != 1 {
			t.Errorf("%s audit entries = %d, want 1", want, len(e))
		}
	}
	_, doc = a.get(c, "/review?status=approved")
	if !strings.Contains(doc.Find(`[data-testid=review-table]`).Text(), policyAdminEmail) {
		t.Error("the approved tab does not show who decided")
	}

	// Bad input.
	if resp, _ := a.get(c, "/review?status=bogus"); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("bad status: %d", resp.StatusCode)
	}
	if resp, _ := a.get(c, "/review?before=x"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad cursor: %d", resp.StatusCode)
	}
	for _, p := range []string{"/review/abc/approve", "/review/99999/dismiss"} {
		if resp := a.post(c, p, url.Values{"_csrf": {tok}}); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, resp.StatusCode)
		}
	}

	// An admin of another organisation neither sees nor decides the items.
	if err := a.d.Tx(a.ctx, func(tx db.Tx) error {
		return db.UpsertOrganization(a.ctx, tx, db.Organization{ID: "org_other", Name: "Other"}, time.Now())
	}); err != nil {
		t.Fatal(err)
	}
	h, _ := bcrypt.GenerateFromPassword([]byte(policyAdminPass), bcrypt.MinCost)
	if _, _, err := a.d.UpsertAdmin(a.ctx, "other@roster.test", string(h), "org_other", db.AuditEntry{Actor: "test", Action: "admin.created"}); err != nil {
		t.Fatal(err)
	}
	a.sandbox("POST", "/_sandbox/users/"+a.users[2]+"/deactivate") // no account: nothing queued
	oc := a.signIn("other@roster.test", policyAdminPass)
	_, doc = a.get(oc, "/review?status=approved")
	if doc.Find(`[data-testid=review-table]`).Length() != 0 {
		t.Error("another organisation's admin sees the items")
	}
	otok := a.token(oc, "/review")
	if resp := a.post(oc, "/review/"+kid+"/approve", url.Values{"_csrf": {otok}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("cross-organisation approve: %d, want 404", resp.StatusCode)
	}
}
