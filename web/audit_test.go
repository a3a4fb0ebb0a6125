package web

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/crypto/bcrypt"

	"roster/internal/db"
	"roster/internal/onboarding"
)

// maApp is a running web layer for the Mailbox and Audit tests: a platform
// admin, and one admin for each of two organisations.
type maApp struct {
	t   *testing.T
	db  *db.DB
	srv *Server
	ts  *httptest.Server
}

const maPassword = "correct horse battery"

const (
	maRoot = "root@example.test" // platform admin
	maAdmA = "ada@alpha.example" // org_alpha
	maAdmB = "bob@bravo.example" // org_bravo
	maOrgA = "org_alpha"
	maOrgB = "org_bravo"
)

func newMAApp(t *testing.T, demo bool) *maApp {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "roster.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	auth := onboarding.NewAuth(d)
	auth.BcryptCost = bcrypt.MinCost
	if _, err := auth.EnsureAdmin(ctx, maRoot, maPassword); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := d.Tx(ctx, func(tx db.Tx) error {
		for id, name := range map[string]string{maOrgA: "Alpha Ltd", maOrgB: "Bravo GmbH"} {
			if err := db.UpsertOrganization(ctx, tx, db.Organization{ID: id, Name: name}, now); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	hash, err := auth.HashPassword(maPassword)
	if err != nil {
		t.Fatal(err)
	}
	for email, org := range map[string]string{maAdmA: maOrgA, maAdmB: maOrgB} {
		if _, _, err := d.UpsertAdmin(ctx, email, hash, org, db.AuditEntry{}); err != nil {
			t.Fatal(err)
		}
	}
	hk, bk, err := auth.SessionKeys(ctx, "test-secret")
	if err != nil {
		t.Fatal(err)
	}
	a := &maApp{t: t, db: d}
	a.srv = &Server{
		Config: Config{BaseURL: "http://example.test", Demo: demo, SessionHashKey: hk, SessionBlock: bk,
			SessionIdle: time.Hour, SessionMaxAge: 24 * time.Hour},
		Log:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		Auth:  auth,
		App:   &onboarding.Service{DB: d, Demo: demo},
		Ready: d.Ping,
	}
	a.ts = httptest.NewServer(a.srv.Handler())
	t.Cleanup(a.ts.Close)
	return a
}

// signIn returns a client signed in as email, like a browser: cookie jar,
// CSRF token scraped from the sign-in form, no redirect following.
func (a *maApp) signIn(email string) *http.Client {
	a.t.Helper()
	c := browserClient()
	_, doc := a.get(c, "/login")
	tok, _ := doc.Find(`input[name="_csrf"]`).First().Attr("value")
	resp, err := c.PostForm(a.ts.URL+"/login", url.Values{"_csrf": {tok}, "email": {email}, "password": {maPassword}})
	if err != nil {
		a.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		a.t.Fatalf("sign in as %s: status %d", email, resp.StatusCode)
	}
	return c
}

func (a *maApp) get(c *http.Client, path string) (*http.Response, *goquery.Document) {
	a.t.Helper()
	return getDoc(a.t, c, a.ts.URL+path)
}

func (a *maApp) getRaw(c *http.Client, path string) (*http.Response, string) {
	a.t.Helper()
	resp, err := c.Get(a.ts.URL + path)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// audit writes entries directly, as the flows that own them would.
func (a *maApp) audit(entries ...db.AuditEntry) {
	a.t.Helper()
	ctx := context.Background()
	if err := a.db.Tx(ctx, func(tx db.Tx) error {
		for _, e := range entries {
			if err := db.InsertAudit(ctx, tx, e); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		a.t.Fatal(err)
	}
}

// auditIDs reads the ids of the rows on an audit page, and the page's
// Older/Newer links.
func auditIDs(t *testing.T, doc *goquery.Document) (ids []int64, older, newer string) {
	t.Helper()
	doc.Find(`[data-testid="audit-row"]`).Each(func(_ int, s *goquery.Selection) {
		v, _ := s.Attr("data-id")
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("row id %q", v)
		}
		ids = append(ids, n)
	})
	older, _ = doc.Find(`[data-testid="audit-older"]`).Attr("href")
	newer, _ = doc.Find(`[data-testid="audit-newer"]`).Attr("href")
	return ids, older, newer
}

var maDay = time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)

// seedAudit: 60 org_alpha entries over three days (ids ascending in time),
// some org_bravo and platform entries, and one hostile entry.
func (a *maApp) seedAudit() {
	var es []db.AuditEntry
	for i := range 60 {
		action := []string{"invite.created", "sync.user_updated", "settings.saved"}[i%3]
		es = append(es, db.AuditEntry{At: maDay.Add(time.Duration(i) * time.Hour), Actor: []string{maAdmA, "sync", maAdmA}[i%3],
			OrganizationID: maOrgA, Action: action, Target: fmt.Sprintf("alpha-target-%02d", i), Detail: "detail " + strconv.Itoa(i)})
	}
	for i := range 5 {
		es = append(es, db.AuditEntry{At: maDay, Actor: maAdmB, OrganizationID: maOrgB, Action: "invite.created", Target: fmt.Sprintf("bravo-secret-%d", i)})
	}
	es = append(es, db.AuditEntry{At: maDay, Actor: "system", Action: "admin.ensured", Target: "platform-only"})
	a.audit(es...)
}

func TestAuditScopedToOrganisation(t *testing.T) {
	a := newMAApp(t, false)
	a.seedAudit()
	ca := a.signIn(maAdmA)
	for _, path := range []string{"/audit?limit=100", "/audit?limit=100&org=" + maOrgB, "/audit?limit=100&q=secret"} {
		resp, doc := a.get(ca, path)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d", path, resp.StatusCode)
		}
		text := doc.Find(`[data-testid="audit-table"]`).Text()
		if strings.Contains(text, "bravo-secret") || strings.Contains(text, "platform-only") {
			t.Errorf("%s: org_alpha admin sees other entries", path)
		}
		if doc.Find(`#audit-org`).Length() != 0 {
			t.Errorf("%s: org admin is offered an organisation filter", path)
		}
	}
	_, doc := a.get(ca, "/audit?limit=100")
	ids, _, _ := auditIDs(t, doc)
	if len(ids) != 61 { // 60 seeded + this admin's sign-in
		t.Errorf("org_alpha admin sees %d entries, want 61", len(ids))
	}

	// The platform admin sees everything, and can narrow to one org.
	cr := a.signIn(maRoot)
	_, doc = a.get(cr, "/audit?limit=100")
	text := doc.Find(`[data-testid="audit-table"]`).Text()
	for _, want := range []string{"bravo-secret-4", "platform-only", "alpha-target-59"} {
		if !strings.Contains(text, want) {
			t.Errorf("platform admin does not see %q", want)
		}
	}
	_, doc = a.get(cr, "/audit?limit=100&org="+maOrgB)
	if ids, _, _ := auditIDs(t, doc); len(ids) != 5 {
		t.Errorf("platform admin filtered to org_bravo sees %d entries, want 5", len(ids))
	}
	if doc.Find(`#audit-org option[selected]`).AttrOr("value", "") != maOrgB {
		t.Error("organisation filter not kept on the form")
	}
}

func TestAuditKeysetPaging(t *testing.T) {
	a := newMAApp(t, false)
	a.seedAudit()
	ca := a.signIn(maAdmA)
	seen := map[int64]bool{}
	var pages [][]int64
	path := "/audit?limit=25"
	for path != "" {
		resp, doc := a.get(ca, path)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		ids, older, _ := auditIDs(t, doc)
		for i, id := range ids {
			if seen[id] {
				t.Fatalf("id %d on two pages", id)
			}
			seen[id] = true
			if i > 0 && id >= ids[i-1] {
				t.Fatalf("page %s not newest first: %v", path, ids)
			}
		}
		pages = append(pages, ids)
		path = older
		if len(pages) > 5 {
			t.Fatal("paging does not end")
		}
	}
	if len(pages) != 3 || len(pages[0]) != 25 || len(pages[1]) != 25 || len(pages[2]) != 11 || len(seen) != 61 {
		t.Fatalf("pages = %d (%d, %d, …), seen %d; want 25+25+11 = 61", len(pages), len(pages[0]), len(pages[1]), len(seen))
	}
	// From page 2, Newer leads back to exactly page 1, which has no Newer.
	_, doc := a.get(ca, "/audit?limit=25&before="+strconv.FormatInt(pages[0][24], 10))
	_, _, newer := auditIDs(t, doc)
	if newer == "" {
		t.Fatal("page 2 has no Newer link")
	}
	_, doc = a.get(ca, newer)
	back, _, newer2 := auditIDs(t, doc)
	if fmt.Sprint(back) != fmt.Sprint(pages[0]) || newer2 != "" {
		t.Errorf("Newer from page 2 = %v (newer link %q); want page 1 %v and no Newer", back, newer2, pages[0])
	}
	// Filters survive paging.
	_, doc = a.get(ca, "/audit?limit=10&action=sync.")
	_, older, _ := auditIDs(t, doc)
	if u, _ := url.Parse(older); u == nil || u.Query().Get("action") != "sync." || u.Query().Get("limit") != "10" {
		t.Errorf("Older link %q lost the filters", older)
	}
}

func TestAuditFilters(t *testing.T) {
	a := newMAApp(t, false)
	a.seedAudit()
	ca := a.signIn(maAdmA)
	count := func(path string) (int, *goquery.Document) {
		t.Helper()
		resp, doc := a.get(ca, path)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d", path, resp.StatusCode)
		}
		ids, _, _ := auditIDs(t, doc)
		return len(ids), doc
	}
	n, doc := count("/audit?limit=100&action=sync.")
	if n != 20 {
		t.Errorf("action=sync.: %d rows, want 20", n)
	}
	doc.Find(`[data-testid="audit-row"] td.mono`).Each(func(_ int, s *goquery.Selection) {
		if !strings.HasPrefix(s.Text(), "sync.") {
			t.Errorf("action filter let through %q", s.Text())
		}
	})
	if v := doc.Find(`#audit-action option[selected]`).AttrOr("value", ""); v != "sync." {
		t.Errorf("selected action = %q", v)
	}
	if n, _ := count("/audit?limit=100&action=admin."); n != 1 { // the sign-in
		t.Errorf("action=admin.: %d rows, want 1", n)
	}
	if n, _ := count("/audit?limit=100&actor=SYNC"); n != 20 {
		t.Errorf("actor=SYNC: %d rows, want 20 (case-insensitive)", n)
	}
	if n, _ := count("/audit?limit=100&q=alpha-target-0"); n != 10 {
		t.Errorf("q=alpha-target-0: %d rows, want 10", n)
	}
	// Entry i is at maDay + i hours: 2 Nov 12:00 … 5 Nov 11:00.
	if n, _ := count("/audit?limit=100&from=2026-11-03&to=2026-11-03"); n != 24 {
		t.Errorf("one day: %d rows, want 24", n)
	}
	if n, _ := count("/audit?limit=100&to=2026-11-02"); n != 12 {
		t.Errorf("to 2 Nov: %d rows, want 12", n)
	}
	if n, doc := count("/audit?limit=100&q=nothing-matches"); n != 0 || doc.Find(`[data-testid="audit-empty"]`).Length() != 1 {
		t.Errorf("no match: %d rows, and an empty-state row is expected", n)
	}
	// The actor suggestions come from the org's own log.
	var actors []string
	doc.Find(`#audit-actors option`).Each(func(_ int, s *goquery.Selection) { actors = append(actors, s.AttrOr("value", "")) })
	if strings.Contains(strings.Join(actors, ","), maAdmB) || !strings.Contains(strings.Join(actors, ","), "sync") {
		t.Errorf("actor suggestions = %v", actors)
	}
}

func TestAuditBadInput(t *testing.T) {
	a := newMAApp(t, false)
	a.seedAudit()
	ca := a.signIn(maAdmA)
	for _, path := range []string{"/audit?before=abc", "/audit?after=-3", "/audit?before=1", "/audit?after=999999"} {
		resp, doc := a.get(ca, path)
		ids, _, _ := auditIDs(t, doc)
		if resp.StatusCode != http.StatusOK || len(ids) != 25 || doc.Find(`[data-testid="audit-notice"]`).Length() != 1 {
			t.Errorf("%s: status %d, %d rows, notice %d; want the first page with a notice", path, resp.StatusCode, len(ids),
				doc.Find(`[data-testid="audit-notice"]`).Length())
		}
	}
	resp, doc := a.get(ca, "/audit?from=yesterday&q=alpha")
	if resp.StatusCode != http.StatusOK || !strings.Contains(doc.Find(`[data-testid="audit-notice"]`).Text(), "yesterday") {
		t.Errorf("bad date: status %d, notice %q", resp.StatusCode, doc.Find(`[data-testid="audit-notice"]`).Text())
	}
	if v, _ := doc.Find(`#audit-q`).Attr("value"); v != "alpha" {
		t.Errorf("text filter lost: %q", v)
	}
	for _, path := range []string{"/audit?action=bogus.&actor=x", "/audit?from=2026-11-05&to=2026-11-01&actor=x"} {
		resp, doc := a.get(ca, path)
		if resp.StatusCode != http.StatusUnprocessableEntity || doc.Find(`[data-testid="audit-error"]`).Length() != 1 {
			t.Errorf("%s: status %d; want 422 with a message", path, resp.StatusCode)
		}
		if v, _ := doc.Find(`#audit-actor`).Attr("value"); v != "x" {
			t.Errorf("%s: actor filter lost on the error page", path)
		}
		resp, _ = a.getRaw(ca, strings.Replace(path, "/audit?", "/audit.csv?", 1))
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("csv %s: status %d, want 422", path, resp.StatusCode)
		}
	}
	// Signed out: sent to sign in, not shown anything.
	resp, _ = a.getRaw(&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, "/audit.csv")
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("anonymous /audit.csv: %d", resp.StatusCode)
	}
}

func TestAuditHostileDataEscaped(t *testing.T) {
	a := newMAApp(t, false)
	hostile := `<script>alert("x")</script> مرحبا 👋`
	a.audit(db.AuditEntry{At: maDay, Actor: "sync", OrganizationID: maOrgA, Action: "sync.user_updated", Target: hostile, Detail: `job_title: "<img src=x onerror=alert(1)>"`})
	ca := a.signIn(maAdmA)
	_, body := a.getRaw(ca, "/audit?action=sync.")
	if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") {
		t.Error("hostile audit data rendered unescaped")
	}
	_, doc := a.get(ca, "/audit?action=sync.")
	if got := doc.Find(`[data-testid="audit-row"] td`).Eq(3).Text(); got != hostile {
		t.Errorf("target cell = %q, want it intact", got)
	}
}

func TestAuditCSV(t *testing.T) {
	a := newMAApp(t, false)
	a.seedAudit()
	a.audit(
		db.AuditEntry{At: maDay, Actor: "sync", OrganizationID: maOrgA, Action: "sync.user_updated", Target: "=HYPERLINK(\"http://evil\")", Detail: "+1 -2 @3"},
		db.AuditEntry{At: maDay, Actor: "sync", OrganizationID: maOrgA, Action: "sync.user_updated", Target: "-danger", Detail: "@cmd, \"quoted\"\nnext line"},
	)
	ca := a.signIn(maAdmA)
	read := func(path string) (*http.Response, [][]string) {
		t.Helper()
		resp, body := a.getRaw(ca, path)
		recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatalf("%s: not CSV: %v\n%s", path, err, body)
		}
		return resp, recs
	}
	resp, recs := read("/audit.csv")
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Errorf("Content-Type = %q", ct)
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") {
		t.Errorf("Content-Disposition = %q", cd)
	}
	if got := strings.Join(recs[0], ","); got != "id,at,actor,organization_id,action,target,detail" {
		t.Errorf("header = %q", got)
	}
	if len(recs)-1 != 63 { // 60 seeded + 2 + sign-in; the whole set, not one page
		t.Errorf("%d rows, want 63", len(recs)-1)
	}
	var last int64 = 1 << 62
	for _, r := range recs[1:] {
		id, _ := strconv.ParseInt(r[0], 10, 64)
		if id >= last {
			t.Errorf("not newest first at id %d", id)
		}
		last = id
		if r[3] != maOrgA {
			t.Errorf("row of another organisation: %v", r)
		}
		if _, err := time.Parse(time.RFC3339, r[1]); err != nil {
			t.Errorf("at %q: %v", r[1], err)
		}
	}
	// Formula injection is defused; the rest of the cell is intact.
	byTarget := map[string][]string{}
	for _, r := range recs[1:] {
		byTarget[r[5]] = r
	}
	if r, ok := byTarget[`'=HYPERLINK("http://evil")`]; !ok || r[6] != "'+1 -2 @3" {
		t.Errorf("formula cells not prefixed: %v", r)
	}
	if r, ok := byTarget["'-danger"]; !ok || r[6] != "'@cmd, \"quoted\"\nnext line" {
		t.Errorf("formula cells not prefixed or quoting lost: %v", r)
	}

	_, recs = read("/audit.csv?action=settings.&q=alpha")
	if len(recs)-1 != 20 {
		t.Errorf("filtered export: %d rows, want 20", len(recs)-1)
	}
	for _, r := range recs[1:] {
		if r[4] != "settings.saved" {
			t.Errorf("filter not applied: %v", r)
		}
	}
	// Cursors do not truncate an export.
	if _, recs = read("/audit.csv?before=10&limit=10"); len(recs)-1 != 63 {
		t.Errorf("export with a cursor: %d rows, want 63", len(recs)-1)
	}
	// The platform admin's export covers every organisation.
	cr := a.signIn(maRoot)
	resp, body := a.getRaw(cr, "/audit.csv")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "bravo-secret-0") || !strings.Contains(body, "platform-only") {
		t.Errorf("platform export misses entries (status %d)", resp.StatusCode)
	}
}

func TestAuditCSVCell(t *testing.T) {
	for in, want := range map[string]string{"": "", "plain": "plain", "=1+1": "'=1+1", "+x": "'+x", "-x": "'-x", "@x": "'@x",
		"\tx": "'\tx", "a=b": "a=b", "ünïcode": "ünïcode"} {
		if got := auditCSVCell(in); got != want {
			t.Errorf("auditCSVCell(%q) = %q, want %q", in, got, want)
		}
	}
}
