package web

import (
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"roster/internal/db"
	"roster/internal/dirsync"
	"roster/internal/dirsync/sandbox"
	"roster/internal/onboarding"
	"roster/views"
)

// The tenancy sweep (issue 6): an organisation's admin reaches nothing of
// another organisation through any route. The test walks the routes the
// real router registers, so a route added later is covered or makes the
// test fail until someone says how to cover it.

const tenPW = "tenancy horse battery"

// tenEnv is the whole app over a temp database, its replica loaded from
// the sandbox's demo company (two organisations, three directories).
type tenEnv struct {
	t      *testing.T
	ctx    context.Context
	d      *db.DB
	sb     *sandbox.Sandbox
	sbURL  string
	app    *onboarding.Service
	syncer *onboarding.Syncer
	srv    *Server
	ts     *httptest.Server
}

func newTenEnv(t *testing.T) *tenEnv {
	t.Helper()
	ctx := context.Background()
	sb, err := sandbox.New(sandbox.Options{Preset: sandbox.PresetDemo})
	if err != nil {
		t.Fatal(err)
	}
	sbSrv := httptest.NewServer(sb.Handler())
	t.Cleanup(func() { sbSrv.Close(); sb.Close() })
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	api := dirsync.New(dirsync.Config{BaseURL: sbSrv.URL, APIKey: sandbox.DefaultAPIKey, UsersRatePerDirectory: -1, KeyRequestsPerMinute: -1})
	e := &tenEnv{t: t, ctx: ctx, d: d, sb: sb, sbURL: sbSrv.URL}
	e.app = &onboarding.Service{DB: d, Log: log, BaseURL: "http://roster.test", Demo: true, WorkOS: api,
		InvitationHTML: func(m onboarding.InvitationEmail) (string, error) {
			return views.RenderInvitationEmail(views.InvitationEmailVM(m))
		}}
	e.syncer = onboarding.NewSyncer(d, api, log)
	e.syncer.OnEvent = e.app.AccountEffects() // as main wires it: directory events reach accounts
	if err := e.app.SyncOrganizations(ctx); err != nil {
		t.Fatal(err)
	}
	e.syncAll()

	onboarding.InviteeBcryptCost = bcrypt.MinCost
	auth := onboarding.NewAuth(d)
	auth.BcryptCost = bcrypt.MinCost
	hk, bk, err := auth.SessionKeys(ctx, "test-secret")
	if err != nil {
		t.Fatal(err)
	}
	e.srv = &Server{
		Config: Config{BaseURL: "http://roster.test", Demo: true, SandboxURL: sbSrv.URL, WebhookSecret: "whsec_tenancy_0123456789",
			SessionHashKey: hk, SessionBlock: bk},
		Log: log, Auth: auth, App: e.app, Syncer: e.syncer, Registry: prometheus.NewRegistry(), Ready: d.Ping,
	}
	e.ts = httptest.NewServer(e.srv.Handler())
	t.Cleanup(e.ts.Close)
	return e
}

// syncAll runs the sync until every directory's load is done and its
// events are applied.
func (e *tenEnv) syncAll() {
	e.t.Helper()
	for round := 0; ; round++ {
		if err := e.syncer.SyncOnce(e.ctx); err != nil {
			e.t.Fatal(err)
		}
		states, err := e.d.SyncStates(e.ctx)
		if err != nil {
			e.t.Fatal(err)
		}
		done := len(states) > 0
		var phases []string
		for _, st := range states {
			phases = append(phases, st.DirectoryID+"="+st.Phase)
			done = done && (st.Phase == db.PhaseLive || st.Phase == db.PhaseDeleted)
		}
		if done {
			return
		}
		if round == 20 {
			e.t.Fatalf("directories still loading after %d sync rounds: %v", round, phases)
		}
	}
}

// query runs one SQL query in the test (plain SQL: the test reads what the
// flows wrote) and returns its rows as strings.
func (e *tenEnv) query(q string, args ...any) [][]string {
	e.t.Helper()
	var out [][]string
	err := e.d.Tx(e.ctx, func(tx db.Tx) error {
		rows, err := tx.QueryContext(e.ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		cols, err := rows.Columns()
		if err != nil {
			return err
		}
		for rows.Next() {
			vals := make([]sql.NullString, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
			row := make([]string, len(cols))
			for i, v := range vals {
				row[i] = v.String
				if !v.Valid {
					row[i] = "NULL"
				}
			}
			out = append(out, row)
		}
		return rows.Err()
	})
	if err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
	return out
}

// column returns the first column of a query's rows.
func (e *tenEnv) column(q string, args ...any) []string {
	e.t.Helper()
	var out []string
	for _, r := range e.query(q, args...) {
		out = append(out, r[0])
	}
	return out
}

// snapshot is everything of organisation org, and the other admin's
// selection, as sorted rows per table: the cross-organisation attempts
// must change none of it.
func (e *tenEnv) snapshot(org string, otherAdmin string) map[string][]string {
	e.t.Helper()
	tables := e.column(`SELECT m.name FROM sqlite_master m WHERE m.type = 'table'
		AND EXISTS (SELECT 1 FROM pragma_table_info(m.name) WHERE name = 'organization_id') ORDER BY m.name`)
	out := map[string][]string{}
	dump := func(label, q string, args ...any) {
		lines := []string{}
		for _, r := range e.query(q, args...) {
			lines = append(lines, strings.Join(r, "|"))
		}
		sort.Strings(lines)
		out[label] = lines
	}
	for _, tbl := range tables {
		dump(tbl, fmt.Sprintf(`SELECT * FROM %q WHERE organization_id = ?`, tbl), org)
	}
	dump("audit_log (platform-wide)", `SELECT * FROM audit_log WHERE organization_id IS NULL OR organization_id = ''`)
	dump("organizations", `SELECT * FROM organizations`)
	dump("the platform admin's selection", `SELECT s.* FROM selections s JOIN admins a ON a.id = s.admin_id WHERE a.email = ?`, otherAdmin)
	return out
}

// tenDiff says which tables of a snapshot changed, with a few rows of each
// (cut short: a replica row is long).
func tenDiff(before, after map[string][]string) string {
	var out []string
	for tbl, b := range before {
		a := after[tbl]
		if slices.Equal(a, b) {
			continue
		}
		var rows []string
		for _, l := range b {
			if _, found := slices.BinarySearch(a, l); !found {
				rows = append(rows, "    - "+tenCut(l))
			}
		}
		for _, l := range a {
			if _, found := slices.BinarySearch(b, l); !found {
				rows = append(rows, "    + "+tenCut(l))
			}
		}
		n := len(rows)
		if n > 6 {
			rows = append(rows[:6], "    …")
		}
		out = append(out, fmt.Sprintf("  %s: %d rows before, %d after, %d lines differ\n%s", tbl, len(b), len(a), n, strings.Join(rows, "\n")))
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

func tenCut(s string) string {
	if len(s) > 160 {
		return s[:160] + "…"
	}
	return s
}

// tenClient is one browser: a cookie jar, no redirect following, the CSRF
// token of its session.
type tenClient struct {
	e    *tenEnv
	who  string
	c    *http.Client
	csrf string
}

type tenResp struct {
	status   int
	body     string
	location string
}

func (e *tenEnv) signIn(email string) *tenClient {
	e.t.Helper()
	cl := &tenClient{e: e, who: email, c: browserClient()}
	cl.csrf = cl.token("/login")
	if r := cl.post("/login", url.Values{"email": {email}, "password": {tenPW}}); r.status != http.StatusSeeOther {
		e.t.Fatalf("sign-in of %s: %d", email, r.status)
	}
	cl.csrf = cl.token("/account")
	return cl
}

func (cl *tenClient) token(path string) string {
	cl.e.t.Helper()
	r := cl.get(path)
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(r.body))
	if err != nil {
		cl.e.t.Fatal(err)
	}
	tok, _ := doc.Find(`input[name="_csrf"]`).First().Attr("value")
	if tok == "" {
		cl.e.t.Fatalf("%s: no CSRF token on %s (status %d)", cl.who, path, r.status)
	}
	return tok
}

func (cl *tenClient) do(req *http.Request) tenResp {
	cl.e.t.Helper()
	resp, err := cl.c.Do(req)
	if err != nil {
		cl.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		cl.e.t.Fatal(err)
	}
	return tenResp{status: resp.StatusCode, body: string(body), location: resp.Header.Get("Location")}
}

func (cl *tenClient) get(path string) tenResp {
	cl.e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, cl.e.ts.URL+path, nil)
	if err != nil {
		cl.e.t.Fatal(err)
	}
	return cl.do(req)
}

// post submits a form with the session's CSRF token.
func (cl *tenClient) post(path string, form url.Values) tenResp {
	cl.e.t.Helper()
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	f.Set("_csrf", cl.csrf)
	req, err := http.NewRequest(http.MethodPost, cl.e.ts.URL+path, strings.NewReader(f.Encode()))
	if err != nil {
		cl.e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return cl.do(req)
}

// tenOrg is what the test knows of one organisation's data.
type tenOrg struct {
	id, name string
	dirs     []string
	dirNames []string
	users    []sandbox.DirectoryUser // the people invited in the test
	group    sandbox.DirectoryGroup  // a group with members
}

func sval(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// tenPickOrg finds an organisation of the sandbox by name, and in its
// directory dirName (listed first) n active people on the organisation's
// domain and a group with members.
func tenPickOrg(t *testing.T, st sandbox.State, name, dirName, domain string, n int) tenOrg {
	t.Helper()
	var o tenOrg
	for _, org := range st.Organizations {
		if org.Name == name {
			o.id, o.name = org.ID, org.Name
		}
	}
	if o.id == "" {
		t.Fatalf("the demo sandbox has no organisation %q", name)
	}
	for _, d := range st.Directories {
		switch {
		case d.OrganizationID == o.id && d.Name == dirName:
			o.dirs, o.dirNames = append([]string{d.ID}, o.dirs...), append([]string{d.Name}, o.dirNames...)
		case d.OrganizationID == o.id:
			o.dirs, o.dirNames = append(o.dirs, d.ID), append(o.dirNames, d.Name)
		}
	}
	if len(o.dirNames) == 0 || o.dirNames[0] != dirName {
		t.Fatalf("the demo sandbox has no directory %q in %q", dirName, name)
	}
	for _, u := range st.Users {
		if len(o.users) < n && u.DirectoryID == o.dirs[0] && u.State == "active" && strings.HasSuffix(sval(u.Email), "@"+domain) {
			o.users = append(o.users, u)
		}
	}
	members := map[string]bool{}
	for _, m := range st.Memberships {
		members[m.GroupID] = true
	}
	for _, g := range st.Groups {
		if g.DirectoryID == o.dirs[0] && members[g.ID] {
			o.group = g
			break
		}
	}
	if len(o.users) < n || o.group.ID == "" {
		t.Fatalf("%s: %d usable people, group %q", name, len(o.users), o.group.ID)
	}
	return o
}

func userIDs(us []sandbox.DirectoryUser) []string {
	var out []string
	for _, u := range us {
		out = append(out, u.ID)
	}
	return out
}

// invite selects people and confirms the review, as the signed-in admin,
// and returns the batch id.
func (cl *tenClient) invite(ids []string) string {
	cl.e.t.Helper()
	if r := cl.post("/selection/users", url.Values{"ids": ids, "return": {"/selection"}}); r.status != http.StatusSeeOther {
		cl.e.t.Fatalf("%s: select: %d", cl.who, r.status)
	}
	rv := cl.get("/selection/review")
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(rv.body))
	key, _ := doc.Find(`input[name="key"]`).Attr("value")
	if rv.status != http.StatusOK || key == "" {
		cl.e.t.Fatalf("%s: review page %d without key", cl.who, rv.status)
	}
	r := cl.post("/selection/invite", url.Values{"key": {key}})
	batch, ok := strings.CutPrefix(r.location, "/selection/invite/")
	if r.status != http.StatusSeeOther || !ok {
		cl.e.t.Fatalf("%s: invite: %d to %q", cl.who, r.status, r.location)
	}
	return batch
}

// tenLeaks finds organisation B's data in a response: names and emails
// (words), ids, and links to B's objects.
type tenLeaks struct {
	words []string        // names and emails of B
	ids   []string        // B's string ids (directories, users, groups, organisation)
	paths map[string]bool // local paths of B's objects
}

var tenLinkRE = regexp.MustCompile(`(?:href|action|hx-get|hx-post|src)="([^"]*)"`)

// find lists what of B the body shows. withIDs false skips bare ids (a 404
// page may repeat the path it was asked for); typed are the values the
// request itself carried, which a page may show back (a search box, a
// filter, "nobody has the email …") without telling anything.
func (l *tenLeaks) find(body string, withIDs bool, typed ...string) []string {
	var out []string
	echoed := func(w string) bool {
		return slices.ContainsFunc(typed, func(v string) bool { return strings.Contains(v, w) })
	}
	for _, w := range l.words {
		if strings.Contains(body, w) && !echoed(w) {
			out = append(out, w)
		}
	}
	if withIDs {
		for _, id := range l.ids {
			if strings.Contains(body, id) && !echoed(id) {
				out = append(out, id)
			}
		}
	}
	for _, m := range tenLinkRE.FindAllStringSubmatch(body, -1) {
		p, _, _ := strings.Cut(m[1], "?")
		for bp := range l.paths {
			if p == bp || strings.HasPrefix(p, bp+"/") {
				out = append(out, "link "+m[1])
			}
		}
	}
	return out
}

// tenPublic are the routes outside the tenancy sweep, each with why. Every
// other route is requested as org A's admin.
var tenPublic = map[string]string{
	"GET /static/*":          "static assets, the same for everyone",
	"GET /healthz":           "liveness probe, no data",
	"GET /readyz":            "readiness probe, no data",
	"GET /metrics":           "operator endpoint, not behind an admin session",
	"POST /webhooks/workos":  "WorkOS webhook, authenticated by its signature, not a session",
	"GET /login":             "the sign-in page",
	"POST /login":            "sign-in",
	"GET /setup/:token":      "admin setup link: the one-time secret token is the credential",
	"POST /setup/:token":     "admin setup link: the one-time secret token is the credential",
	"GET /invite/:token":     "the invitee's page: the secret token is the credential, public by design",
	"POST /invite/:token":    "the invitee's page: the secret token is the credential, public by design",
	"POST /logout":           "ends the caller's own session; takes no id",
	"POST /account/password": "changes the caller's own password; takes no id",
}

func TestTenancy_EveryRoute(t *testing.T) {
	e := newTenEnv(t)
	ctx := e.ctx
	st := e.sb.State()
	// B's objects come from its smallest directory, so that the platform
	// admin's sanity reconcile of it is quick.
	A := tenPickOrg(t, st, "Contoso Health", "Contoso Entra ID", "contoso.example", 2)
	B := tenPickOrg(t, st, "Northwind Traders", "Tailspin Google Workspace", "tailspin.example", 3)

	// The admins: a platform admin, and org A's admin made through a
	// setup link as the Organisations page does.
	const rootEmail, aEmail = "root@roster.test", "it@contoso.example"
	if _, err := e.srv.Auth.EnsureAdmin(ctx, rootEmail, tenPW); err != nil {
		t.Fatal(err)
	}
	tok, _, err := e.srv.Auth.CreateSetupLink(ctx, onboarding.Actor{Email: rootEmail}, aEmail, A.id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.srv.Auth.CompleteSetup(ctx, tok, "", tenPW); err != nil {
		t.Fatal(err)
	}
	root, a := e.signIn(rootEmail), e.signIn(aEmail)

	// Org A's own onboarding, so its pages have data to show (positive
	// control: an empty page proves nothing).
	batchA := a.invite(userIDs(A.users))

	// Org B's objects, through the real flows as the platform admin:
	// invitations (accounts, outbox mail, a batch), a policy that flags
	// leavers, a leaver (a review item), setup links, and the audit trail
	// all of that writes.
	batchB := root.invite(userIDs(B.users))
	if r := root.post("/settings/policies", url.Values{"org": {B.id}, "deprovision": {"flag"}, "reactivation": {"restore"},
		"grace_days": {"7"}}); r.status != http.StatusSeeOther {
		t.Fatalf("policy for B: %d", r.status)
	}
	leaver := B.users[2]
	resp, err := http.Post(e.sbURL+"/_sandbox/users/"+leaver.ID+"/deactivate", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		t.Fatalf("sandbox deactivate: %d", resp.StatusCode)
	}
	e.syncAll()
	if r := root.post("/organizations/"+B.id+"/setup-link", nil); r.status != http.StatusSeeOther {
		t.Fatalf("B setup link: %d", r.status)
	}
	if r := root.post("/organizations/"+B.id+"/admins", url.Values{"email": {"it@tailspin.example"}}); r.status != http.StatusOK {
		t.Fatalf("B admin invitation: %d", r.status)
	}
	// The platform admin keeps B items selected: A must not remove them.
	if r := root.post("/selection/users", url.Values{"ids": {B.users[0].ID}}); r.status != http.StatusSeeOther {
		t.Fatalf("root select: %d", r.status)
	}
	if r := root.post("/selection/groups", url.Values{"ids": {B.group.ID}}); r.status != http.StatusSeeOther {
		t.Fatalf("root select group: %d", r.status)
	}

	accountsB := e.column(`SELECT id FROM accounts WHERE organization_id = ? ORDER BY id`, B.id)
	invitationsB := e.column(`SELECT id FROM invitations WHERE organization_id = ? AND status = 'pending' ORDER BY id`, B.id)
	reviewB := e.column(`SELECT id FROM review_items WHERE organization_id = ? ORDER BY id`, B.id)
	mailsB := e.column(`SELECT id FROM outbox WHERE organization_id = ? ORDER BY id`, B.id)
	htmlMailB := e.column(`SELECT id FROM outbox WHERE organization_id = ? AND html_body != '' ORDER BY id`, B.id)
	auditB := e.column(`SELECT id FROM audit_log WHERE organization_id = ?`, B.id)
	if len(accountsB) != len(B.users) || len(invitationsB) == 0 || len(reviewB) == 0 || len(htmlMailB) == 0 || len(auditB) == 0 {
		t.Fatalf("org B setup: accounts %v, pending invitations %v, review items %v, html mails %v, %d audit entries",
			accountsB, invitationsB, reviewB, htmlMailB, len(auditB))
	}
	if n := len(e.column(`SELECT id FROM accounts WHERE organization_id = ?`, A.id)); n != len(A.users) {
		t.Fatalf("org A has %d accounts, want %d", n, len(A.users))
	}

	// What of B must never show to A. Words that also occur in A's own
	// data (a common name, say) are left out: they would prove nothing.
	var aText strings.Builder
	for _, u := range st.Users {
		if slices.Contains(A.dirs, u.DirectoryID) {
			fmt.Fprintln(&aText, sval(u.Email), sval(u.FirstName), sval(u.LastName), sval(u.Name), sval(u.JobTitle))
		}
	}
	for _, g := range st.Groups {
		if slices.Contains(A.dirs, g.DirectoryID) {
			fmt.Fprintln(&aText, g.Name)
		}
	}
	fmt.Fprintln(&aText, A.name, strings.Join(A.dirNames, "\n"), aEmail)
	leaks := &tenLeaks{paths: map[string]bool{}}
	words := []string{B.name, "it@tailspin.example", B.group.Name}
	words = append(words, B.dirNames...)
	for _, u := range B.users {
		words = append(words, sval(u.Email), strings.TrimSpace(sval(u.FirstName)+" "+sval(u.LastName)))
	}
	for _, w := range words {
		if w != "" && !strings.Contains(aText.String(), w) {
			leaks.words = append(leaks.words, w)
		}
	}
	leaks.ids = append([]string{B.id, B.group.ID}, B.dirs...)
	leaks.ids = append(leaks.ids, userIDs(B.users)...)
	addPaths := func(prefix string, ids ...string) {
		for _, id := range ids {
			leaks.paths[prefix+id] = true
		}
	}
	addPaths("/accounts/", accountsB...)
	addPaths("/invitations/", invitationsB...)
	addPaths("/review/", reviewB...)
	addPaths("/mailbox/", mailsB...)
	addPaths("/selection/invite/", batchB)
	addPaths("/directories/", B.dirs...)
	addPaths("/sync/", B.dirs...)
	addPaths("/groups/", B.group.ID)
	addPaths("/users/", userIDs(B.users)...)
	addPaths("/organizations/", B.id)
	t.Logf("org A %s (%s), org B %s (%s): %d B words, %d B ids, %d B paths", A.id, A.name, B.id, B.name,
		len(leaks.words), len(leaks.ids), len(leaks.paths))

	// Path parameters → B's object of that kind. A route whose parameter
	// matches no rule fails the test: add its rule here.
	rules := []struct{ prefix, param, id string }{
		{"/directories/", "id", B.dirs[0]},
		{"/groups/", "id", B.group.ID},
		{"/users/", "id", B.users[0].ID},
		{"/accounts/", "id", accountsB[0]},
		{"/invitations/", "id", invitationsB[0]},
		{"/review/", "id", reviewB[0]},
		{"/organizations/", "id", B.id},
		{"/mailbox/", "id", htmlMailB[0]},
		{"/sync/", "id", B.dirs[0]},
		{"/selection/invite/", "batch", batchB},
	}
	substitute := func(path string) (string, []string) {
		var missing []string
		segs := strings.Split(path, "/")
		for i, s := range segs {
			name, isParam := strings.CutPrefix(s, ":")
			if !isParam && s != "*" {
				continue
			}
			found := false
			for _, r := range rules {
				if r.param == name && strings.HasPrefix(path, r.prefix) {
					segs[i], found = url.PathEscape(r.id), true
					break
				}
			}
			if !found {
				missing = append(missing, s)
			}
		}
		return strings.Join(segs, "/"), missing
	}

	// Pages without a path parameter: what A gets, and a word of A's own
	// data the page must show (the page works, so B's absence means
	// something). Query variants carry B's ids where the page takes ids.
	aInvitee := sval(A.users[0].Email)
	type listCheck struct {
		status int
		want   string
	}
	lists := map[string]listCheck{
		"/":                  {200, A.dirNames[0]},
		"/accounts":          {200, aInvitee},
		"/accounts.csv":      {200, aInvitee},
		"/invitations":       {200, aInvitee},
		"/audit":             {200, "batch " + batchA},
		"/audit.csv":         {200, "batch " + batchA},
		"/mailbox":           {200, aInvitee},
		"/review":            {200, ""},
		"/sync":              {200, A.dirNames[0]},
		"/settings":          {200, A.name},
		"/settings/policies": {200, A.name},
		"/selection":         {200, ""},
		"/selection/review":  {200, ""},
		"/account":           {200, aEmail},
		"/organizations":     {404, ""}, // platform admins only
	}
	bEmail := sval(B.users[0].Email)
	variants := map[string]int{
		"/accounts?directory=" + B.dirs[0]:           200,
		"/accounts.csv?directory=" + B.dirs[0]:       200,
		"/accounts?q=" + url.QueryEscape(bEmail):     200,
		"/accounts.csv?q=" + url.QueryEscape(bEmail): 200,
		"/invitations?batch=" + batchB:               200,
		"/invitations?q=" + url.QueryEscape(bEmail):  200,
		"/audit?org=" + B.id:                         200,
		"/audit.csv?org=" + B.id:                     200,
		"/audit?q=" + url.QueryEscape(bEmail):        200,
		"/review?status=approved":                    200,
		"/review?status=dismissed":                   200,
		"/sync?fragment=table":                       200,
		"/settings?org=" + B.id:                      404,
		"/settings/policies?org=" + B.id:             404,
		"/settings/policies?simulate=1&event=deactivated&user=" + url.QueryEscape(bEmail): 422,
		"/settings/policies?simulate=1&event=deactivated&user=" + B.users[0].ID:           422,
		"/directories/" + A.dirs[0] + "/users?group=" + B.group.ID:                        200,
		"/directories/" + A.dirs[0] + "/users?q=" + url.QueryEscape(bEmail):               200,
	}

	// Forms without a path parameter that take ids or an organisation in
	// their body: A posts B's, and gets a refusal or nothing done.
	type formTry struct {
		form   url.Values
		status []int // allowed statuses
	}
	forms := map[string][]formTry{
		"/selection/users":         {{url.Values{"ids": append(userIDs(B.users), B.group.ID)}, []int{303}}},
		"/selection/users/remove":  {{url.Values{"ids": {B.users[0].ID}}, []int{303}}},
		"/selection/users/all":     {{url.Values{"directory": {B.dirs[0]}}, []int{404}}, {url.Values{"directory": {A.dirs[0]}, "group": {B.group.ID}}, []int{303}}},
		"/selection/groups":        {{url.Values{"ids": {B.group.ID}}, []int{303}}},
		"/selection/groups/remove": {{url.Values{"ids": {B.group.ID}}, []int{303}}},
		"/selection/remove":        {{url.Values{"kind": {"user"}, "id": {B.users[0].ID}}, []int{303}}, {url.Values{"kind": {"group"}, "id": {B.group.ID}}, []int{303}}},
		"/selection/clear":         {{nil, []int{303}}},
		"/selection/invite":        {{url.Values{"key": {onboarding.RandomToken(24)}, "role:" + B.users[0].ID: {"admin"}}, []int{303, 422}}},
		"/settings":                {{url.Values{"org": {B.id}, "default_role": {"member"}, "ttl_days": {"7"}}, []int{404}}, {url.Values{"default_role": {"member"}, "ttl_days": {"7"}, "map_group": {B.group.ID}, "map_role": {"admin"}}, []int{422}}},
		"/settings/policies":       {{url.Values{"org": {B.id}, "deprovision": {"delete"}, "reactivation": {"none"}, "grace_days": {"7"}}, []int{404}}, {url.Values{"deprovision": {"flag"}, "reactivation": {"restore"}, "grace_days": {"7"}, "auto_invite": {B.group.ID}}, []int{422}}},
		"/organizations":           {{url.Values{"name": {"Evil Corp"}, "domains": {"evil.example"}}, []int{404}}},
	}

	before := e.snapshot(B.id, rootEmail)
	routes := e.srv.echo.Routes()
	sort.Slice(routes, func(i, j int) bool { return routes[i].Path+routes[i].Method < routes[j].Path+routes[j].Method })
	seen := map[string]bool{}
	type rootCheck struct{ method, path string }
	var rootGets, rootPosts []rootCheck
	covered := 0
	for _, rt := range routes {
		key := rt.Method + " " + rt.Path
		if rt.Method == echo.RouteNotFound {
			continue // a group's catch-all for unknown paths: always 404
		}
		seen[key] = true
		if why, ok := tenPublic[key]; ok {
			t.Logf("skip %-34s %s", key, why)
			continue
		}
		if rt.Method != http.MethodGet && rt.Method != http.MethodPost {
			t.Errorf("%s: no tenancy check for method %s; add one to tenancy_test.go", key, rt.Method)
			continue
		}
		path, missing := substitute(rt.Path)
		switch {
		case len(missing) > 0:
			t.Errorf("%s: no org-B id for parameter(s) %v; add a rule to tenancy_test.go", key, missing)
			continue
		case path != rt.Path: // a route with an id: B's must answer 404
			var r tenResp
			if rt.Method == http.MethodGet {
				r = a.get(path)
				rootGets = append(rootGets, rootCheck{rt.Method, path})
			} else {
				r = a.post(path, url.Values{"email": {"someone@contoso.example"}})
				rootPosts = append(rootPosts, rootCheck{rt.Method, path})
			}
			if r.status != http.StatusNotFound {
				t.Errorf("LEAK %s %s as org A's admin: %d (Location %q), want 404", rt.Method, path, r.status, r.location)
			}
			if l := leaks.find(r.body, false); len(l) > 0 {
				t.Errorf("LEAK %s %s as org A's admin shows org B's %q", rt.Method, path, l)
			}
		case rt.Method == http.MethodGet:
			lc, ok := lists[rt.Path]
			if !ok {
				t.Errorf("%s: a page with no tenancy rule; add it to the list pages of tenancy_test.go", key)
				continue
			}
			r := a.get(rt.Path)
			if r.status != lc.status {
				t.Errorf("%s as org A's admin: %d, want %d", key, r.status, lc.status)
			}
			if lc.want != "" && !strings.Contains(r.body, lc.want) {
				t.Errorf("%s as org A's admin does not show A's own %q: the check below would prove nothing", key, lc.want)
			}
			if l := leaks.find(r.body, true); len(l) > 0 {
				t.Errorf("LEAK %s as org A's admin shows org B's %q", key, l)
			}
			if strings.HasSuffix(rt.Path, ".csv") {
				tenCheckCSV(t, key, r.body, accountsB)
			}
		default: // a form without a path id
			tries, ok := forms[rt.Path]
			if !ok {
				t.Errorf("%s: a form with no tenancy rule; add it to the forms of tenancy_test.go", key)
				continue
			}
			for _, tr := range tries {
				r := a.post(rt.Path, tr.form)
				if !slices.Contains(tr.status, r.status) {
					t.Errorf("%s %v as org A's admin: %d (Location %q), want one of %v", key, tr.form, r.status, r.location, tr.status)
				}
				var typed []string
				for _, vs := range tr.form {
					typed = append(typed, vs...)
				}
				if l := leaks.find(r.body+` href="`+r.location+`"`, true, typed...); len(l) > 0 {
					t.Errorf("LEAK %s %v as org A's admin shows org B's %q", key, tr.form, l)
				}
			}
		}
		covered++
	}
	for key := range tenPublic {
		if !seen[key] {
			t.Errorf("%s is listed as public but is not registered", key)
		}
	}
	for p := range lists {
		if !seen["GET "+p] {
			t.Errorf("list page %s is not registered (Demo and Syncer are on): the sweep missed it", p)
		}
	}
	for p := range forms {
		if !seen["POST "+p] {
			t.Errorf("form %s is not registered: the sweep missed it", p)
		}
	}

	// The query variants, after the forms (so a selection that leaked
	// would show).
	for path, want := range variants {
		r := a.get(path)
		if r.status != want {
			t.Errorf("GET %s as org A's admin: %d, want %d", path, r.status, want)
		}
		var typed []string
		if u, err := url.Parse(path); err == nil {
			for _, vs := range u.Query() {
				typed = append(typed, vs...)
			}
		}
		if l := leaks.find(r.body, true, typed...); len(l) > 0 {
			t.Errorf("LEAK GET %s as org A's admin shows org B's %q", path, l)
		}
		if strings.Contains(path, ".csv") {
			tenCheckCSV(t, path, r.body, accountsB)
		}
	}
	if n := e.column(`SELECT count(*) FROM selections s JOIN admins ad ON ad.id = s.admin_id WHERE ad.email = ? AND s.directory_id IN (SELECT id FROM directories WHERE organization_id = ?)`, aEmail, B.id); n[0] != "0" {
		t.Errorf("LEAK org A's admin has %s of org B's people or groups in their selection", n[0])
	}

	// Nothing of B changed: no invitation resent or revoked, no review
	// decided, no link made, no sync started, no setting saved, the
	// platform admin's selection intact.
	if after := e.snapshot(B.id, rootEmail); !maps.EqualFunc(before, after, slices.Equal) {
		t.Errorf("LEAK org A's requests changed org B's data:\n%s", tenDiff(before, after))
	}

	// Sanity: the ids are real. The platform admin sees every page and may
	// do every action that A was refused.
	for _, rc := range rootGets {
		r := root.get(rc.path)
		if r.status == http.StatusSeeOther && strings.HasPrefix(r.location, "/") {
			r = root.get(r.location) // e.g. /directories/:id is its people page
		}
		if r.status != http.StatusOK {
			t.Errorf("platform admin GET %s: %d, want 200 (the id is not real: the 404s above prove nothing)", rc.path, r.status)
		}
	}
	for _, rc := range rootPosts {
		r := root.post(rc.path, url.Values{"email": {"it2@tailspin.example"}})
		if r.status == http.StatusNotFound || r.status >= 500 {
			t.Errorf("platform admin POST %s: %d, want it done (the id is not real: the 404s above prove nothing)", rc.path, r.status)
		}
	}
	for _, p := range []string{"/", "/accounts", "/accounts.csv", "/invitations", "/audit", "/audit.csv", "/mailbox", "/review?status=approved", "/sync"} {
		if r := root.get(p); r.status != http.StatusOK || len(leaks.find(r.body, true)) == 0 {
			t.Errorf("platform admin GET %s: %d, shows none of org B's data (the check for A proves nothing)", p, r.status)
		}
	}
	t.Logf("%d routes swept as org A's admin (%d GET and %d POST with B's ids), %d query variants, %d public routes skipped",
		covered, len(rootGets), len(rootPosts), len(variants), len(tenPublic))
}

// tenCheckCSV asserts a CSV export parses and has no row of B's accounts.
func tenCheckCSV(t *testing.T, what, body string, accountsB []string) {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(recs) == 0 {
		t.Errorf("%s: not a CSV with a header: %v", what, err)
		return
	}
	if recs[0][0] != "id" || !strings.HasPrefix(what, "/accounts") && !strings.HasPrefix(what, "GET /accounts") {
		return
	}
	for _, rec := range recs[1:] {
		if slices.Contains(accountsB, rec[0]) {
			t.Errorf("LEAK %s lists org B's account %s (%s)", what, rec[0], strings.Join(rec, ","))
		}
	}
}
