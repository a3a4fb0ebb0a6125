package web

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/crypto/bcrypt"

	"roster/internal/db"
	"roster/internal/onboarding"
)

// inviteApp is a running web layer over a temp database with two
// organisations, for the review/invite/accounts/settings tests.
type inviteApp struct {
	t   *testing.T
	ctx context.Context
	d   *db.DB
	ts  *httptest.Server
	mu  sync.Mutex
	now time.Time
}

const invitePW = "correct horse battery"

func (a *inviteApp) clock() time.Time { a.mu.Lock(); defer a.mu.Unlock(); return a.now }
func (a *inviteApp) advance(d time.Duration) {
	a.mu.Lock()
	a.now = a.now.Add(d)
	a.mu.Unlock()
}

func newInviteApp(t *testing.T) *inviteApp {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "roster.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	a := &inviteApp{t: t, ctx: ctx, d: d, now: time.Now().UTC()}
	onboarding.InviteeBcryptCost = bcrypt.MinCost
	auth := onboarding.NewAuth(d)
	auth.BcryptCost = bcrypt.MinCost
	err = d.Tx(ctx, func(tx db.Tx) error {
		for _, o := range []db.Organization{{ID: "org_a", Name: "Acme", AllowedDomains: []string{"acme.test"}}, {ID: "org_b", Name: "Globex"}} {
			if err := db.UpsertOrganization(ctx, tx, o, a.now); err != nil {
				return err
			}
		}
		w := d.Replica(ctx, tx)
		for _, dir := range []db.Directory{{ID: "dir_a", OrganizationID: "org_a", Name: "Acme AD"}, {ID: "dir_b", OrganizationID: "org_b", Name: "Globex GW"}} {
			if err := w.UpsertDirectory(dir); err != nil {
				return err
			}
		}
		users := []db.DirectoryUser{
			{ID: "u_ada", FirstName: "Ada", LastName: "Lovelace", Email: "ada@acme.test", State: "active",
				CustomAttributes: json.RawMessage(`{"job_title":"<script>alert(1)</script>","department":"R&D 🚀"}`)},
			{ID: "u_noor", FirstName: "نور", LastName: "الهدى", Email: "noor@acme.test", State: "active",
				CustomAttributes: json.RawMessage(`{"job_title":"مهندسة"}`)},
			{ID: "u_eve", FirstName: "=HYPERLINK(1)", LastName: "Evil", Email: "eve@acme.test", State: "active"},
			{ID: "u_bob", FirstName: "Bob", LastName: "Gone", Email: "bob@acme.test", State: "inactive"},
			{ID: "u_dee", FirstName: "Dee", LastName: "Out", Email: "dee@elsewhere.test", State: "active"},
		}
		for _, u := range users {
			u.DirectoryID, u.OrganizationID = "dir_a", "org_a"
			if err := w.ListUser(u, 1); err != nil {
				return err
			}
		}
		if err := w.ListUser(db.DirectoryUser{ID: "u_zoe", DirectoryID: "dir_b", OrganizationID: "org_b", FirstName: "Zoe",
			Email: "zoe@globex.test", State: "active"}, 1); err != nil {
			return err
		}
		if err := w.ListGroup(db.DirectoryGroup{ID: "g_eng", DirectoryID: "dir_a", OrganizationID: "org_a", Name: "Engineering"}, 1); err != nil {
			return err
		}
		for _, m := range []string{"u_ada", "u_bob"} {
			if _, err := w.ListMembership(db.Membership{DirectoryID: "dir_a", GroupID: "g_eng", UserID: m}, 1); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for email, org := range map[string]string{"root@roster.test": "", "a@acme.test": "org_a", "b@globex.test": "org_b"} {
		h, _ := auth.HashPassword(invitePW)
		if _, _, err := d.UpsertAdmin(ctx, email, h, org, db.AuditEntry{Actor: "test", Action: "admin.test"}); err != nil {
			t.Fatal(err)
		}
	}
	hk, bk, err := auth.SessionKeys(ctx, "test-secret")
	if err != nil {
		t.Fatal(err)
	}
	srv := &Server{
		Config: Config{BaseURL: "http://roster.test", SessionHashKey: hk, SessionBlock: bk},
		Log:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Auth:   auth,
		App:    &onboarding.Service{DB: d, Now: a.clock, BaseURL: "http://roster.test"},
		Ready:  d.Ping,
	}
	a.ts = httptest.NewServer(srv.Handler())
	t.Cleanup(a.ts.Close)
	return a
}

// browser is one cookie jar, optionally signed in.
type browser struct {
	a *inviteApp
	c *http.Client
}

func (a *inviteApp) browser() *browser {
	return &browser{a: a, c: browserClient()}
}

func (a *inviteApp) signIn(email string) *browser {
	a.t.Helper()
	b := a.browser()
	resp, _ := b.post("/login", "/login", url.Values{"email": {email}, "password": {invitePW}})
	if resp.StatusCode != http.StatusSeeOther {
		a.t.Fatalf("sign-in of %s: %d", email, resp.StatusCode)
	}
	return b
}

func (b *browser) get(path string) (*http.Response, *goquery.Document) {
	b.a.t.Helper()
	return getDoc(b.a.t, b.c, b.a.ts.URL+path)
}

// post submits form to path with the CSRF token taken from page.
func (b *browser) post(page, path string, form url.Values) (*http.Response, *goquery.Document) {
	b.a.t.Helper()
	_, doc := b.get(page)
	tok, ok := doc.Find(`input[name="_csrf"]`).First().Attr("value")
	if !ok {
		b.a.t.Fatalf("no CSRF token on %s", page)
	}
	form.Set("_csrf", tok)
	resp, err := b.c.PostForm(b.a.ts.URL+path, form)
	if err != nil {
		b.a.t.Fatal(err)
	}
	defer resp.Body.Close()
	doc, _ = goquery.NewDocumentFromReader(resp.Body)
	return resp, doc
}

func (a *inviteApp) selectFor(email string, items ...string) {
	a.t.Helper()
	adm, err := a.d.AdminByEmail(a.ctx, email)
	if err != nil {
		a.t.Fatal(err)
	}
	err = a.d.Tx(a.ctx, func(tx db.Tx) error {
		for _, it := range items {
			kind, id, _ := strings.Cut(it, ":")
			if _, err := tx.ExecContext(context.Background(), `INSERT OR IGNORE INTO selections (admin_id, kind, item_id, directory_id, added_at) VALUES (?, ?, ?, 'dir_a', '')`,
				adm.ID, kind, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		a.t.Fatal(err)
	}
}

var tokenRE = regexp.MustCompile(`/invite/([A-Za-z0-9_-]+)`)

// token returns the newest invitation token emailed to addr.
func (a *inviteApp) token(addr string) string {
	a.t.Helper()
	mails, err := a.d.ListEmails(a.ctx, db.EmailFilter{AllOrgs: true})
	if err != nil {
		a.t.Fatal(err)
	}
	for _, m := range mails {
		if m.To == addr {
			if t := tokenRE.FindStringSubmatch(m.Text); t != nil {
				return t[1]
			}
		}
	}
	a.t.Fatalf("no invitation email to %s", addr)
	return ""
}

func (a *inviteApp) count(q string, args ...any) int {
	a.t.Helper()
	var n int
	if err := a.d.Tx(a.ctx, func(tx db.Tx) error { return tx.QueryRowContext(context.Background(), q, args...).Scan(&n) }); err != nil {
		a.t.Fatal(err)
	}
	return n
}

// invite runs review → confirm for an admin and returns the result path.
func (a *inviteApp) invite(b *browser, extra url.Values) string {
	a.t.Helper()
	_, doc := b.get("/selection/review")
	key, _ := doc.Find(`input[name="key"]`).Attr("value")
	form := url.Values{"key": {key}}
	for k, v := range extra {
		form[k] = v
	}
	resp, _ := b.post("/selection/review", "/selection/invite", form)
	if resp.StatusCode != http.StatusSeeOther {
		a.t.Fatalf("invite: %d", resp.StatusCode)
	}
	return resp.Header.Get("Location")
}

func text(doc *goquery.Document, sel string) string {
	return strings.TrimSpace(doc.Find(sel).First().Text())
}

func TestReviewPage_Buckets(t *testing.T) {
	a := newInviteApp(t)
	a.selectFor("a@acme.test", "user:u_ada", "group:g_eng", "user:u_noor", "user:u_dee")
	b := a.signIn("a@acme.test")
	resp, doc := b.get("/selection/review")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for sel, want := range map[string]string{
		`[data-testid="count-new"]`:             "2",
		`[data-testid="count-inactive"]`:        "1",
		`[data-testid="count-domain"]`:          "1",
		`[data-testid="count-existing"]`:        "0",
		`[data-testid="count-duplicates"]`:      "1",
		`[data-testid="bucket-inactive"] th a`:  "Bob Gone",
		`[data-testid="bucket-domain"] td + td`: "elsewhere.test is not an allowed domain of Acme (allowed: acme.test)",
	} {
		if got := text(doc, sel); got != want {
			t.Errorf("%s = %q, want %q", sel, got, want)
		}
	}
	rows := doc.Find(`[data-testid="new-row"]`)
	if rows.Length() != 2 {
		t.Fatalf("%d new rows", rows.Length())
	}
	ada := doc.Find(`[data-testid="new-row"][data-id="u_ada"]`)
	if !strings.Contains(ada.Text(), "<script>alert(1)</script>") || !strings.Contains(ada.Text(), "R&D 🚀") {
		t.Errorf("Ada's row does not show her hostile title intact: %q", ada.Text())
	}
	if doc.Find(`[data-testid="bucket-new"] script`).Length() != 0 {
		t.Error("a directory value became a script element")
	}
	if !strings.Contains(doc.Find(`[data-testid="new-row"][data-id="u_noor"]`).Text(), "نور الهدى") {
		t.Error("RTL name not intact")
	}
	if l := doc.Find(`label[for="role-u_ada"]`).Text(); l != "Role for Ada Lovelace" {
		t.Errorf("role select label = %q", l)
	}
	if v, _ := doc.Find(`select[name="role:u_ada"] option[selected]`).Attr("value"); v != "member" {
		t.Errorf("Ada's preselected role = %q", v)
	}
	if k, _ := doc.Find(`input[name="key"]`).Attr("value"); len(k) < 22 {
		t.Errorf("idempotency key %q", k)
	}
}

func TestInvite_SubmitTwiceSameResult(t *testing.T) {
	a := newInviteApp(t)
	a.selectFor("a@acme.test", "user:u_ada", "user:u_noor", "user:u_bob")
	b := a.signIn("a@acme.test")
	_, doc := b.get("/selection/review")
	key, _ := doc.Find(`input[name="key"]`).Attr("value")
	form := url.Values{"key": {key}, "role:u_ada": {"admin"}}
	r1, _ := b.post("/selection/review", "/selection/invite", form)
	r2, _ := b.post("/selection/review", "/selection/invite", url.Values{"key": {key}, "role:u_ada": {"admin"}})
	if r1.StatusCode != http.StatusSeeOther || r2.StatusCode != http.StatusSeeOther {
		t.Fatalf("statuses %d, %d", r1.StatusCode, r2.StatusCode)
	}
	if l1, l2 := r1.Header.Get("Location"), r2.Header.Get("Location"); l1 != l2 || !strings.HasPrefix(l1, "/selection/invite/") {
		t.Fatalf("locations %q, %q", l1, l2)
	}
	if n := a.count(`SELECT count(*) FROM accounts`); n != 2 {
		t.Errorf("%d accounts after a double submit, want 2", n)
	}
	if n := a.count(`SELECT count(*) FROM outbox`); n != 2 {
		t.Errorf("%d emails after a double submit, want 2", n)
	}
	if n := a.count(`SELECT count(*) FROM accounts WHERE email = 'ada@acme.test' AND role = 'admin'`); n != 1 {
		t.Error("the role override was not applied")
	}
	resp, res := b.get(r1.Header.Get("Location"))
	if resp.StatusCode != http.StatusOK || text(res, `[data-testid="created"]`) != "2" {
		t.Errorf("result page: %d, created %q", resp.StatusCode, text(res, `[data-testid="created"]`))
	}
	if !strings.Contains(res.Find(`[data-testid="refused"]`).Text(), "inactive in the directory: 1") {
		t.Errorf("refusals: %q", res.Find(`[data-testid="refused"]`).Text())
	}
	// Another admin cannot see the result page.
	other := a.signIn("b@globex.test")
	if resp, _ := other.get(r1.Header.Get("Location")); resp.StatusCode != http.StatusNotFound {
		t.Errorf("other admin's result page: %d", resp.StatusCode)
	}
	// A form without a key, and an unknown role.
	a.selectFor("a@acme.test", "user:u_eve")
	if resp, doc := b.post("/selection/review", "/selection/invite", url.Values{}); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("no key: %d %s", resp.StatusCode, text(doc, "h1"))
	}
	_, doc = b.get("/selection/review")
	key, _ = doc.Find(`input[name="key"]`).Attr("value")
	if resp, doc := b.post("/selection/review", "/selection/invite", url.Values{"key": {key}, "role:u_eve": {"pharaoh"}}); resp.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(doc.Text(), "pharaoh") {
		t.Errorf("unknown role: %d", resp.StatusCode)
	}
}

func TestInvitePublic_AcceptAndBadTokens(t *testing.T) {
	a := newInviteApp(t)
	a.selectFor("a@acme.test", "user:u_ada", "user:u_noor", "user:u_eve")
	admin := a.signIn("a@acme.test")
	a.invite(admin, nil)
	invitee := a.browser() // a fresh browser, no admin session
	tok := a.token("ada@acme.test")
	resp, doc := invitee.get("/invite/" + tok)
	if resp.StatusCode != http.StatusOK || text(doc, `[data-testid="invite-email"]`) != "ada@acme.test" ||
		text(doc, `[data-testid="invite-title"]`) != "<script>alert(1)</script>" {
		t.Fatalf("invite page: %d %q", resp.StatusCode, doc.Find(`[data-testid="invite-profile"]`).Text())
	}
	if resp, doc := invitee.post("/invite/"+tok, "/invite/"+tok, url.Values{"password": {"short"}}); resp.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(text(doc, `[data-testid="invite-error"]`), "at least 10") {
		t.Errorf("short password: %d", resp.StatusCode)
	}
	if resp, doc := invitee.post("/invite/"+tok, "/invite/"+tok, url.Values{"password": {"a long enough secret"}}); resp.StatusCode != http.StatusOK ||
		text(doc, "h1") != "Your account is active" {
		t.Fatalf("accept: %d %q", resp.StatusCode, text(doc, "h1"))
	}
	if n := a.count(`SELECT count(*) FROM accounts WHERE email = 'ada@acme.test' AND state = 'active' AND password_hash <> ''`); n != 1 {
		t.Error("account not active after accept")
	}
	// Used.
	if resp, doc := invitee.get("/invite/" + tok); resp.StatusCode != http.StatusGone || !strings.Contains(text(doc, "h1"), "already accepted") {
		t.Errorf("used token: %d %q", resp.StatusCode, text(doc, "h1"))
	}
	// A double submit of the accept form.
	resp, err := invitee.c.PostForm(a.ts.URL+"/invite/"+tok, url.Values{"password": {"a long enough secret"}})
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Errorf("second accept without token: %d", resp.StatusCode)
		}
	}
	// Unknown.
	if resp, doc := invitee.get("/invite/not-a-real-token"); resp.StatusCode != http.StatusNotFound || !strings.Contains(doc.Text(), "resend") {
		t.Errorf("unknown token: %d", resp.StatusCode)
	}
	// Revoked (through the invitations page).
	noor := a.token("noor@acme.test")
	var id string
	_, list := admin.get("/invitations?q=noor")
	id, _ = list.Find(`[data-testid="invitation-row"]`).Attr("data-id")
	if resp, _ := admin.post("/invitations", "/invitations/"+id+"/revoke", url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	if resp, doc := invitee.get("/invite/" + noor); resp.StatusCode != http.StatusGone || !strings.Contains(text(doc, "h1"), "withdrawn") {
		t.Errorf("revoked token: %d %q", resp.StatusCode, text(doc, "h1"))
	}
	// Resend gives a new link; the revoked one stays dead.
	if resp, _ := admin.post("/invitations", "/invitations/"+id+"/resend", url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("resend: %d", resp.StatusCode)
	}
	if fresh := a.token("noor@acme.test"); fresh == noor {
		t.Error("resend reused the token")
	} else if resp, _ := invitee.get("/invite/" + fresh); resp.StatusCode != http.StatusOK {
		t.Errorf("resent token: %d", resp.StatusCode)
	}
	// Expired.
	eve := a.token("eve@acme.test")
	a.advance(8 * 24 * time.Hour)
	if resp, doc := invitee.get("/invite/" + eve); resp.StatusCode != http.StatusGone || !strings.Contains(text(doc, "h1"), "expired") {
		t.Errorf("expired token: %d %q", resp.StatusCode, text(doc, "h1"))
	}
	// Eve's, and Noor's resent one (also a week old now).
	if _, doc := admin.get("/invitations?status=expired"); doc.Find(`[data-testid="invitation-row"]`).Length() != 2 {
		t.Errorf("expired filter shows %d", doc.Find(`[data-testid="invitation-row"]`).Length())
	}
	if resp, _ := admin.get("/invitations?status=bogus&before=xyz"); resp.StatusCode != http.StatusOK {
		t.Errorf("bad filter and cursor: %d", resp.StatusCode)
	}
}

func TestAccountsCSV(t *testing.T) {
	a := newInviteApp(t)
	a.selectFor("a@acme.test", "user:u_ada", "user:u_eve")
	admin := a.signIn("a@acme.test")
	a.invite(admin, nil)
	a.selectFor("b@globex.test", "user:u_zoe")
	a.invite(a.signIn("b@globex.test"), nil)
	read := func(b *browser, path string) [][]string {
		t.Helper()
		resp, err := b.c.Get(a.ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		recs, err := csv.NewReader(resp.Body).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		return recs
	}
	recs := read(admin, "/accounts.csv")
	if got := strings.Join(recs[0], ","); got != "id,email,first_name,last_name,job_title,department,role,state,directory_id,directory_user_id,created_at,updated_at" {
		t.Fatalf("header %q", got)
	}
	if len(recs) != 3 {
		t.Fatalf("%d rows, want header + 2 (org_a only)", len(recs))
	}
	byEmail := map[string][]string{}
	for _, r := range recs[1:] {
		byEmail[r[1]] = r
	}
	if r := byEmail["ada@acme.test"]; r == nil || r[4] != "<script>alert(1)</script>" || r[5] != "R&D 🚀" || r[8] != "dir_a" || r[9] != "u_ada" || r[7] != "invited" {
		t.Errorf("Ada's row %q", r)
	}
	if r := byEmail["eve@acme.test"]; r == nil || r[2] != "'=HYPERLINK(1)" {
		t.Errorf("formula not neutralised: %q", r)
	}
	if recs := read(admin, "/accounts.csv?q=eve"); len(recs) != 2 || recs[1][1] != "eve@acme.test" {
		t.Errorf("filtered CSV: %q", recs)
	}
	if recs := read(admin, "/accounts.csv?state=active"); len(recs) != 1 {
		t.Errorf("state filter: %d rows", len(recs)-1)
	}
	if recs := read(a.signIn("root@roster.test"), "/accounts.csv"); len(recs) != 4 {
		t.Errorf("platform admin sees %d accounts, want 3", len(recs)-1)
	}
	// The page agrees with the CSV.
	_, doc := admin.get("/accounts?q=ada")
	if doc.Find(`[data-testid="account-row"]`).Length() != 1 || text(doc, `[data-testid="accounts-total"]`) != "1 account" {
		t.Errorf("accounts page: %q", text(doc, `[data-testid="accounts-total"]`))
	}
	href, _ := doc.Find(`[data-testid="account-row"] a`).Attr("href")
	resp, det := admin.get(href)
	if resp.StatusCode != http.StatusOK || text(det, `[data-testid="account-state"]`) != "invited" ||
		det.Find(`[data-testid="history-row"]`).Length() != 1 || det.Find(`[data-testid="account-invitation"]`).Length() != 1 {
		t.Errorf("account page: %d", resp.StatusCode)
	}
}

func TestInviteRoutes_Tenancy404(t *testing.T) {
	a := newInviteApp(t)
	a.selectFor("a@acme.test", "user:u_ada")
	admin := a.signIn("a@acme.test")
	result := a.invite(admin, nil)
	var accountID, invitationID string
	a.d.Tx(a.ctx, func(tx db.Tx) error {
		return tx.QueryRowContext(context.Background(), `SELECT CAST(a.id AS TEXT), CAST(i.id AS TEXT) FROM accounts a JOIN invitations i ON i.account_id = a.id`).Scan(&accountID, &invitationID)
	})
	other := a.signIn("b@globex.test")
	for _, path := range []string{"/accounts/" + accountID, result, "/settings?org=org_a", "/accounts/999999", "/accounts/abc", "/selection/invite/abc"} {
		if resp, _ := other.get(path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s as another org: %d, want 404", path, resp.StatusCode)
		}
	}
	for _, path := range []string{"/invitations/" + invitationID + "/resend", "/invitations/" + invitationID + "/revoke", "/invitations/x/revoke"} {
		if resp, _ := other.post("/invitations", path, url.Values{}); resp.StatusCode != http.StatusNotFound {
			t.Errorf("POST %s as another org: %d, want 404", path, resp.StatusCode)
		}
	}
	if resp, _ := other.post("/settings", "/settings", url.Values{"org": {"org_a"}, "default_role": {"member"}, "ttl_days": {"7"}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("POST /settings for another org: %d", resp.StatusCode)
	}
	if _, doc := other.get("/invitations"); doc.Find(`[data-testid="invitation-row"]`).Length() != 0 {
		t.Error("another org's invitations are listed")
	}
	if _, doc := other.get("/accounts"); doc.Find(`[data-testid="account-row"]`).Length() != 0 {
		t.Error("another org's accounts are listed")
	}
	// The owner and the platform admin see them.
	for _, b := range []*browser{admin, a.signIn("root@roster.test")} {
		if resp, _ := b.get("/accounts/" + accountID); resp.StatusCode != http.StatusOK {
			t.Errorf("owner/platform account page: %d", resp.StatusCode)
		}
	}
	// Signed out: to the sign-in page.
	if resp, _ := a.browser().get("/accounts"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("signed out: %d", resp.StatusCode)
	}
}

func TestSettingsPage(t *testing.T) {
	a := newInviteApp(t)
	admin := a.signIn("a@acme.test")
	resp, doc := admin.get("/settings")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	jt := doc.Find(`[data-testid="mapping-row"][data-field="job_title"]`)
	if !strings.Contains(jt.Text(), "<script>alert(1)</script>") || !strings.Contains(jt.Text(), "مهندسة") {
		t.Errorf("job title preview: %q", jt.Text())
	}
	if w := doc.Find(`[data-testid="mapping-row"][data-field="phone"] [data-testid="empty-warning"]`).Text(); !strings.Contains(w, "100% of 5 people") {
		t.Errorf("phone warning %q", w)
	}
	// A bad source: refused with the reason, what was typed kept.
	resp, doc = admin.post("/settings", "/settings", url.Values{"src:job_title": {"custom_attributes.a\"b"}, "default_role": {"member"}, "ttl_days": {"7"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || text(doc, `[data-testid="settings-error"]`) == "" {
		t.Errorf("bad source: %d", resp.StatusCode)
	}
	if v, _ := doc.Find(`input[name="src:job_title"]`).Attr("value"); v != "custom_attributes.a\"b" {
		t.Errorf("typed source lost: %q", v)
	}
	// Preview without saving.
	resp, doc = admin.post("/settings", "/settings", url.Values{"action": {"preview"}, "src:location": {"custom_attributes.department"},
		"default_role": {"member"}, "ttl_days": {"7"}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(doc.Find(`[data-testid="mapping-row"][data-field="location"]`).Text(), "R&D 🚀") {
		t.Errorf("preview: %d", resp.StatusCode)
	}
	if n := a.count(`SELECT count(*) FROM attribute_mappings`); n != 0 {
		t.Error("preview saved")
	}
	// Save a role mapping and a source.
	resp, _ = admin.post("/settings", "/settings", url.Values{"src:location": {"custom_attributes.department"}, "default_role": {"viewer"},
		"ttl_days": {"10"}, "map_group": {"g_eng"}, "map_role": {"admin"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d", resp.StatusCode)
	}
	if n := a.count(`SELECT count(*) FROM role_mappings WHERE group_id = 'g_eng' AND role_slug = 'admin'`); n != 1 {
		t.Error("role mapping not saved")
	}
	a.selectFor("a@acme.test", "user:u_ada", "user:u_noor")
	_, doc = admin.get("/selection/review")
	if v, _ := doc.Find(`select[name="role:u_ada"] option[selected]`).Attr("value"); v != "admin" {
		t.Errorf("Ada (Engineering → admin) preselected %q", v)
	}
	if v, _ := doc.Find(`select[name="role:u_noor"] option[selected]`).Attr("value"); v != "viewer" {
		t.Errorf("Noor (default viewer) preselected %q", v)
	}
}

func FuzzParseRoleOverrides(f *testing.F) {
	for _, seed := range []string{
		"role:u_1=admin&role:u_2=viewer",
		"role:=admin&role:u_3=&key=abc",
		"role:u_1=admin&role:u_1=viewer",
		"role%3Au%20x=%00&_csrf=t",
		"role:" + strings.Repeat("x", 300) + "=admin",
		"",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		form, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		got := parseRoleOverrides(form)
		for id, role := range got {
			if id == "" || role == "" || len(id) > 200 || len(role) > 100 || strings.TrimSpace(role) != role {
				t.Fatalf("bad override %q → %q", id, role)
			}
			if vs := form["role:"+id]; len(vs) == 0 || strings.TrimSpace(vs[0]) != role {
				t.Fatalf("override %q → %q not the first value %q", id, role, vs)
			}
		}
	})
}
