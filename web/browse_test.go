package web

import (
	"context"
	"fmt"
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
	"roster/internal/onboarding"
)

// browseApp is a running web layer over a temp database holding two
// organisations' directories, a platform admin and an admin of each
// organisation.
type browseApp struct {
	t  *testing.T
	db *db.DB
	ts *httptest.Server
}

const browsePassword = "correct horse battery"

func newBrowseApp(t *testing.T, seed bool) *browseApp {
	t.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "roster.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	auth := onboarding.NewAuth(d)
	auth.BcryptCost = bcrypt.MinCost
	if _, err := auth.EnsureAdmin(ctx, "root@example.com", browsePassword); err != nil {
		t.Fatal(err)
	}
	if seed {
		browseSeed(t, d)
		hash, err := auth.HashPassword(browsePassword)
		if err != nil {
			t.Fatal(err)
		}
		for _, org := range []string{"org_a", "org_b"} {
			if _, _, err := d.UpsertAdmin(ctx, "admin@"+org+".example", hash, org, db.AuditEntry{Actor: "system", Action: "test"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	hk, bk, err := auth.SessionKeys(ctx, "test-secret")
	if err != nil {
		t.Fatal(err)
	}
	srv := &Server{
		Config: Config{BaseURL: "http://example.test", SessionHashKey: hk, SessionBlock: bk},
		Log:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Auth:   auth,
		App:    &onboarding.Service{DB: d},
		Ready:  d.Ping,
	}
	a := &browseApp{t: t, db: d, ts: httptest.NewServer(srv.Handler())}
	t.Cleanup(a.ts.Close)
	return a
}

// browseSeed: dir_a (org_a, indexed) has 60 people, every even one in
// "Engineering", plus some hostile data; dir_b (org_b) has 3 people and a
// group.
func browseSeed(t *testing.T, d *db.DB) {
	t.Helper()
	ctx := context.Background()
	err := d.Tx(ctx, func(tx db.Tx) error {
		w := d.Replica(ctx, tx)
		if err := db.UpsertOrganization(ctx, tx, db.Organization{ID: "org_a", Name: "Acme Ltd"}, time.Now()); err != nil {
			return err
		}
		for _, dir := range []struct{ id, org, typ string }{{"dir_a", "org_a", "okta scim v2.0"}, {"dir_b", "org_b", "azure scim v2.0"}} {
			if err := w.UpsertDirectory(db.Directory{ID: dir.id, OrganizationID: dir.org, Name: "Directory " + dir.id, Type: dir.typ,
				State: "linked", Domain: dir.org + ".example"}); err != nil {
				return err
			}
			if err := w.PutSyncState(db.SyncState{DirectoryID: dir.id, OrganizationID: dir.org, Phase: db.PhaseLive, Mode: db.ModeBackfill,
				Generation: 1, LastSuccessAt: time.Now().Add(-2 * time.Minute)}); err != nil {
				return err
			}
			if err := w.ListGroup(db.DirectoryGroup{ID: dir.id + "_eng", DirectoryID: dir.id, OrganizationID: dir.org, Name: "Engineering"}, 1); err != nil {
				return err
			}
			if err := w.ListGroup(db.DirectoryGroup{ID: dir.id + "_sales", DirectoryID: dir.id, OrganizationID: dir.org, Name: "Sales <EMEA>"}, 1); err != nil {
				return err
			}
		}
		add := func(u db.DirectoryUser, groups ...string) error {
			if u.State == "" {
				u.State = "active"
			}
			if err := w.ListUser(u, 1); err != nil {
				return err
			}
			for _, g := range groups {
				if _, err := w.ListMembership(db.Membership{DirectoryID: u.DirectoryID, GroupID: g, UserID: u.ID,
					UserSortKey: db.UserSortKey(u.FirstName, u.LastName, u.Name, u.Email)}, 1); err != nil {
					return err
				}
			}
			return nil
		}
		for i := 0; i < 60; i++ {
			u := db.DirectoryUser{ID: fmt.Sprintf("a_%02d", i), DirectoryID: "dir_a", OrganizationID: "org_a",
				FirstName: fmt.Sprintf("Person%02d", i), LastName: "Example", Email: fmt.Sprintf("p%02d@org_a.example", i),
				JobTitle: "Engineer", Department: "R&D", CustomAttributes: []byte(`{"job_title":"Engineer","location":{"city":"Oslo"}}`)}
			var groups []string
			if i%2 == 0 {
				groups = append(groups, "dir_a_eng")
			}
			if err := add(u, groups...); err != nil {
				return err
			}
		}
		hostile := []db.DirectoryUser{
			{ID: "a_script", FirstName: "Mallory", LastName: "Zz", Email: "mallory@org_a.example", JobTitle: `<script>alert("x")</script>`},
			{ID: "a_rtl", FirstName: "مريم", LastName: "حداد", Email: "maryam@org_a.example", Department: "مبيعات 🚀"},
			{ID: "a_noemail", FirstName: "Nobody", LastName: "Zzz", State: "inactive"},
		}
		for _, u := range hostile {
			u.DirectoryID, u.OrganizationID = "dir_a", "org_a"
			if err := add(u, "dir_a_sales"); err != nil {
				return err
			}
		}
		for i := 0; i < 3; i++ {
			if err := add(db.DirectoryUser{ID: fmt.Sprintf("b_%d", i), DirectoryID: "dir_b", OrganizationID: "org_b",
				FirstName: fmt.Sprintf("Bee%d", i), LastName: "Other", Email: fmt.Sprintf("b%d@org_b.example", i)}, "dir_b_eng"); err != nil {
				return err
			}
		}
		return w.BuildSearchIndex("dir_a")
	})
	if err != nil {
		t.Fatal(err)
	}
}

// client signs in and returns a browser-like client (cookie jar, no
// redirect following).
func (a *browseApp) client(email string) *http.Client {
	a.t.Helper()
	c := browserClient()
	_, doc := a.get(c, "/login")
	tok := doc.Find(`input[name="_csrf"]`).AttrOr("value", "")
	resp := a.post(c, "/login", url.Values{"_csrf": {tok}, "email": {email}, "password": {browsePassword}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		a.t.Fatalf("sign in as %s: %d", email, resp.StatusCode)
	}
	return c
}

func (a *browseApp) get(c *http.Client, path string) (*http.Response, *goquery.Document) {
	a.t.Helper()
	return getDoc(a.t, c, a.ts.URL+path)
}

// post sends a form with the CSRF token of the client's session.
func (a *browseApp) post(c *http.Client, path string, form url.Values, header http.Header) *http.Response {
	a.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, a.ts.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	return resp
}

// csrf returns the client's form token (from a page it may see).
func (a *browseApp) csrf(c *http.Client) string {
	a.t.Helper()
	_, doc := a.get(c, "/selection")
	tok := doc.Find(`input[name="_csrf"]`).AttrOr("value", "")
	if tok == "" {
		a.t.Fatal("no CSRF token")
	}
	return tok
}

func rowIDs(doc *goquery.Document, sel string) []string {
	var out []string
	doc.Find(sel).Each(func(_ int, s *goquery.Selection) { out = append(out, s.AttrOr("data-id", "")) })
	return out
}

func TestBrowse_Directories(t *testing.T) {
	a := newBrowseApp(t, true)
	resp, doc := a.get(a.client("root@example.com"), "/")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	rows := doc.Find(`[data-testid="directory-row"]`)
	if rows.Length() != 2 {
		t.Fatalf("platform sees %d directories", rows.Length())
	}
	first := rows.First().Text()
	for _, want := range []string{"Directory dir_a", "Okta (SCIM)", "Linked", "Acme Ltd", "63", "Up to date", "as of 2 min ago", "org_a.example"} {
		if !strings.Contains(first, want) {
			t.Errorf("directory row lacks %q: %s", want, first)
		}
	}
	if !strings.Contains(rows.Eq(1).Text(), "Microsoft Entra ID (SCIM)") || !strings.Contains(rows.Eq(1).Text(), "org_b") {
		t.Errorf("second row: %s", rows.Eq(1).Text())
	}
	_, doc = a.get(a.client("admin@org_b.example"), "/")
	if n := doc.Find(`[data-testid="directory-row"]`).Length(); n != 1 || !strings.Contains(doc.Find("tbody").Text(), "dir_b") {
		t.Errorf("org B admin sees %d rows", n)
	}

	empty := newBrowseApp(t, false)
	_, doc = empty.get(empty.client("root@example.com"), "/")
	if doc.Find(`[data-testid="no-directories"]`).Length() != 1 {
		t.Error("no empty state without directories")
	}
}

func TestBrowse_UsersPagingAndNotices(t *testing.T) {
	a := newBrowseApp(t, true)
	c := a.client("admin@org_a.example")
	resp, doc := a.get(c, "/directories/dir_a/users?limit=10")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	page1 := rowIDs(doc, `[data-testid="person-row"]`)
	if len(page1) != 10 || page1[0] != "a_00" {
		t.Fatalf("page 1 = %v", page1)
	}
	if got := doc.Find(`[data-testid="total"]`).Text(); !strings.Contains(got, "63 people") {
		t.Errorf("total = %q", got)
	}
	if doc.Find(`[data-testid="prev"]`).Length() != 0 {
		t.Error("first page has a Previous link")
	}
	next, ok := doc.Find(`[data-testid="next"]`).Attr("href")
	if !ok || !strings.Contains(next, "after=") || !strings.Contains(next, "limit=10") {
		t.Fatalf("next link = %q", next)
	}
	_, doc = a.get(c, next)
	page2 := rowIDs(doc, `[data-testid="person-row"]`)
	if len(page2) != 10 || page2[0] != "a_10" {
		t.Fatalf("page 2 = %v", page2)
	}
	prev, ok := doc.Find(`[data-testid="prev"]`).Attr("href")
	if !ok || !strings.Contains(prev, "before=") || doc.Find(`[data-testid="prev"]`).Text() != "← Previous" {
		t.Fatalf("prev link = %q", prev)
	}
	_, doc = a.get(c, prev)
	if back := rowIDs(doc, `[data-testid="person-row"]`); strings.Join(back, ",") != strings.Join(page1, ",") {
		t.Errorf("Previous from page 2 = %v, want %v", back, page1)
	}
	// A bookmarked page URL works in another session too.
	_, doc = a.get(a.client("root@example.com"), next)
	if got := rowIDs(doc, `[data-testid="person-row"]`); len(got) == 0 || got[0] != "a_10" {
		t.Errorf("bookmarked page 2 = %v", got)
	}

	for _, bad := range []string{"after=garbage!!", "before=" + url.QueryEscape(onboarding.EncodeCursor(db.Cursor{SortKey: "x", ID: "y"}, "other")),
		"after=" + url.QueryEscape(onboarding.EncodeCursor(db.Cursor{SortKey: "\U0010FFFF", ID: "z"}, "x"))} {
		resp, doc := a.get(c, "/directories/dir_a/users?limit=10&"+bad)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: status %d", bad, resp.StatusCode)
		}
		if got := doc.Find(`[data-testid="notice"]`).Text(); got != onboarding.NoticeBadCursor {
			t.Errorf("%s: notice %q", bad, got)
		}
		if got := rowIDs(doc, `[data-testid="person-row"]`); len(got) != 10 || got[0] != "a_00" {
			t.Errorf("%s: rows %v", bad, got)
		}
	}
	_, doc = a.get(c, "/directories/dir_a/users?limit=7")
	if got := doc.Find(`[data-testid="notice"]`).Text(); got != onboarding.NoticeBadLimit {
		t.Errorf("bad limit notice %q", got)
	}
	if n := doc.Find(`[data-testid="person-row"]`).Length(); n != 25 {
		t.Errorf("bad limit shows %d rows", n)
	}
	// Filters: group and state; search with non-Latin text.
	_, doc = a.get(c, "/directories/dir_a/users?group=dir_a_eng&limit=100")
	if n := doc.Find(`[data-testid="person-row"]`).Length(); n != 30 {
		t.Errorf("group filter: %d rows", n)
	}
	if !strings.Contains(doc.Find(`[data-testid="total"]`).Text(), "Engineering") {
		t.Errorf("group filter not named")
	}
	_, doc = a.get(c, "/directories/dir_a/users?state=inactive")
	if got := rowIDs(doc, `[data-testid="person-row"]`); strings.Join(got, ",") != "a_noemail" {
		t.Errorf("inactive = %v", got)
	}
	if doc.Find(`[data-testid="person-row"] td.muted`).First().Text() != "no email" {
		t.Error("missing email not shown as such")
	}
	_, doc = a.get(c, "/directories/dir_a/users?q="+url.QueryEscape("حداد"))
	if got := rowIDs(doc, `[data-testid="person-row"]`); strings.Join(got, ",") != "a_rtl" {
		t.Errorf("RTL search = %v", got)
	}
	_, doc = a.get(c, "/directories/dir_a/users?q="+url.QueryEscape(`"OR" NEAR -*`))
	if doc.Find(`[data-testid="empty"]`).Length() != 1 {
		t.Error("FTS-hostile search did not render an empty result")
	}
	// Labelled row checkboxes.
	_, doc = a.get(c, "/directories/dir_a/users?limit=10")
	box := doc.Find(`input[name="ids"][value="a_00"]`)
	label := doc.Find(`label[for="` + box.AttrOr("id", "?") + `"]`).Text()
	if label != "Select Person00 Example" {
		t.Errorf("checkbox label = %q", label)
	}
	if doc.Find(`table[data-range-select] input[data-select-all]`).Length() != 1 || doc.Find(`input[data-row]`).Length() != 10 {
		t.Error("range-select hooks missing")
	}
}

func TestBrowse_HostileDataEscaped(t *testing.T) {
	a := newBrowseApp(t, true)
	c := a.client("root@example.com")
	for _, path := range []string{"/directories/dir_a/users?q=mallory", "/users/a_script", "/groups/dir_a_sales"} {
		resp, err := c.Get(a.ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(body), `<script>alert`) {
			t.Errorf("%s: raw script tag in the page", path)
		}
		doc, _ := goquery.NewDocumentFromReader(strings.NewReader(string(body)))
		if !strings.Contains(doc.Find("main").Text(), `<script>alert("x")</script>`) {
			t.Errorf("%s: hostile title not shown intact", path)
		}
	}
	_, doc := a.get(c, "/users/a_rtl")
	if !strings.Contains(doc.Find("main").Text(), "مبيعات 🚀") || doc.Find("h1").Text() == "" {
		t.Error("RTL/emoji department not intact")
	}
}

func TestBrowse_GroupsGroupAndPerson(t *testing.T) {
	a := newBrowseApp(t, true)
	c := a.client("admin@org_a.example")
	_, doc := a.get(c, "/directories/dir_a/groups")
	rows := doc.Find(`[data-testid="group-row"]`)
	if rows.Length() != 2 || !strings.Contains(rows.First().Text(), "30") || !strings.Contains(rows.Eq(1).Text(), "Sales <EMEA>") {
		t.Fatalf("groups: %d rows: %s", rows.Length(), rows.Text())
	}
	_, doc = a.get(c, "/directories/dir_a/groups?q=emea")
	if got := rowIDs(doc, `[data-testid="group-row"]`); strings.Join(got, ",") != "dir_a_sales" {
		t.Errorf("group search = %v", got)
	}
	_, doc = a.get(c, "/groups/dir_a_eng?limit=10")
	if got := doc.Find(`[data-testid="select-group"]`).Text(); got != "Select all 30 members" {
		t.Errorf("select button = %q", got)
	}
	if got := rowIDs(doc, `[data-testid="person-row"]`); len(got) != 10 || got[0] != "a_00" || got[1] != "a_02" {
		t.Errorf("members = %v", got)
	}
	next := doc.Find(`[data-testid="next"]`).AttrOr("href", "")
	_, doc = a.get(c, next)
	if got := rowIDs(doc, `[data-testid="person-row"]`); len(got) != 10 || got[0] != "a_20" {
		t.Errorf("members page 2 = %v", got)
	}
	_, doc = a.get(c, "/users/a_04")
	text := doc.Find("main").Text()
	for _, want := range []string{"Person04 Example", "p04@org_a.example", "Engineer", `{"city":"Oslo"}`, "Engineering", "No account yet"} {
		if !strings.Contains(text, want) {
			t.Errorf("person page lacks %q", want)
		}
	}
	if href := doc.Find(`[data-testid="person-groups"] a`).AttrOr("href", ""); href != "/groups/dir_a_eng" {
		t.Errorf("group link = %q", href)
	}
	if doc.Find(`[data-testid="custom"] dt`).Length() != 2 {
		t.Error("custom attributes not listed one by one")
	}
}

func TestBrowse_NotFoundAndTenancy(t *testing.T) {
	a := newBrowseApp(t, true)
	orgA := a.client("admin@org_a.example")
	root := a.client("root@example.com")
	foreign := []string{"/directories/dir_b/users", "/directories/dir_b/groups", "/groups/dir_b_eng", "/users/b_0",
		"/directories/dir_b/users?limit=10&after=abc"}
	for _, p := range foreign {
		if resp, _ := a.get(orgA, p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("org A GET %s = %d, want 404", p, resp.StatusCode)
		}
		if resp, _ := a.get(root, p); resp.StatusCode != http.StatusOK {
			t.Errorf("platform GET %s = %d, want 200", p, resp.StatusCode)
		}
	}
	for _, p := range []string{"/directories/nope/users", "/directories/nope/groups", "/groups/nope", "/users/nope"} {
		if resp, _ := a.get(root, p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", p, resp.StatusCode)
		}
	}
	// Selecting another organisation's things adds nothing; "select all"
	// on its directory is a 404.
	tok := a.csrf(orgA)
	resp := a.post(orgA, "/selection/users", url.Values{"_csrf": {tok}, "ids": {"b_0", "b_1"}, "return": {"/"}}, nil)
	resp.Body.Close()
	resp = a.post(orgA, "/selection/groups", url.Values{"_csrf": {tok}, "ids": {"dir_b_eng"}, "return": {"/"}}, nil)
	resp.Body.Close()
	resp = a.post(orgA, "/selection/users/all", url.Values{"_csrf": {tok}, "directory": {"dir_b"}}, nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("select all in a foreign directory = %d", resp.StatusCode)
	}
	_, doc := a.get(orgA, "/selection")
	if got := doc.Find(`[data-testid="headcount"]`).Text(); got != "0 people selected" {
		t.Errorf("org A selection after foreign ids = %q", got)
	}
	// Signed out: sent to sign in.
	anon := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if resp, _ := a.get(anon, "/directories/dir_a/users"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("anonymous = %d", resp.StatusCode)
	}
}
