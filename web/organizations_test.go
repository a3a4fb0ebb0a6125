package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"roster/internal/dirsync"
	"roster/internal/dirsync/sandbox"
)

// newOrgApp is the foundation app wired to a fresh sandbox with no
// directories, as when a new customer starts.
func newOrgApp(t *testing.T) (*authApp, *httptest.Server) {
	t.Helper()
	sb, err := sandbox.New(sandbox.Options{Preset: "empty", Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	sts := httptest.NewServer(sb.Handler())
	t.Cleanup(sts.Close)
	a := newAuthApp(t, func(s *Server) {
		s.App.WorkOS = dirsync.New(dirsync.Config{BaseURL: sts.URL, APIKey: "sk_test_sandbox"})
		s.App.BaseURL = "http://roster.test"
		s.Config.Demo = true
	})
	return a, sts
}

func TestOrganizations_CreateLinkAndAdmins(t *testing.T) {
	a, sts := newOrgApp(t)
	c := a.client()
	a.signIn(c, a.email, a.passwd)

	tok := a.csrf(c, "/organizations")
	resp, doc := a.post(c, "/organizations", url.Values{"_csrf": {tok}, "name": {"Acme"}, "domains": {"acme.test, not a domain"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(doc.Find(`[data-testid="org-error"]`).Text(), "not a domain") {
		t.Fatalf("bad domain: status %d, message %q", resp.StatusCode, doc.Find(`[data-testid="org-error"]`).Text())
	}
	if v, _ := doc.Find("#org-name").Attr("value"); v != "Acme" {
		t.Errorf("the form lost the name: %q", v)
	}

	resp, _ = a.post(c, "/organizations", url.Values{"_csrf": {tok}, "name": {"Acme"}, "domains": {"acme.test, Acme.Example"}})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/organizations/org_") {
		t.Fatalf("create: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	orgPath := resp.Header.Get("Location")
	orgID := strings.TrimPrefix(orgPath, "/organizations/")

	// WorkOS holds it too, with both domains.
	o, err := dirsync.New(dirsync.Config{BaseURL: sts.URL, APIKey: "sk_test_sandbox"}).GetOrganization(context.Background(), orgID)
	if err != nil || o.Name != "Acme" || len(o.Domains) != 2 {
		t.Fatalf("WorkOS organisation = %+v, %v", o, err)
	}

	_, doc = a.get(c, "/organizations")
	if row := doc.Find(`[data-testid="orgs"] tbody tr`).Text(); !strings.Contains(row, "Acme") || !strings.Contains(row, "acme.example") || !strings.Contains(row, "No directory") {
		t.Errorf("list row = %q", row)
	}

	_, doc = a.get(c, orgPath)
	if doc.Find(`[data-testid="org-empty"]`).Length() != 1 {
		t.Fatal("an organisation without a directory does not say what to do")
	}
	if _, ok := doc.Find(`[data-testid="org-directories"]`).Attr("hx-get"); !ok {
		t.Error("the empty state does not refresh itself")
	}
	tok = a.csrf(c, orgPath)
	resp, _ = a.post(c, orgPath+"/setup-link", url.Values{"_csrf": {tok}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("setup link: %d", resp.StatusCode)
	}
	_, doc = a.get(c, orgPath)
	link, _ := doc.Find(`[data-testid="setup-link"]`).Attr("value")
	if !strings.HasPrefix(link, "http") {
		t.Fatalf("setup link shown = %q", link)
	}
	if href, _ := doc.Find(`[data-testid="open-setup"]`).Attr("href"); href != link {
		t.Errorf("demo 'Open setup' = %q, want the link", href)
	}
	if resp, err := http.Get(link); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("the portal link does not open: %v %v", resp, err)
	}

	// An organisation admin, invited by link, sees only that organisation.
	resp, doc = a.post(c, orgPath+"/admins", url.Values{"_csrf": {tok}, "email": {"it@acme.test"}})
	adminLink, _ := doc.Find("#admin-link").Attr("value")
	if resp.StatusCode != http.StatusOK || !strings.Contains(adminLink, "/setup/") {
		t.Fatalf("admin invitation: %d, link %q", resp.StatusCode, adminLink)
	}
	setupPath := adminLink[strings.Index(adminLink, "/setup/"):]
	orgAdmin := a.client()
	f := url.Values{"_csrf": {a.csrf(orgAdmin, setupPath)}, "email": {"someone-else@acme.test"}, "password": {"org admin password"}}
	if resp, _ := a.post(orgAdmin, setupPath, f); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("org admin setup: %d", resp.StatusCode)
	}
	if resp, _ := a.get(orgAdmin, orgPath); resp.StatusCode != http.StatusOK {
		t.Errorf("org admin on its organisation: %d", resp.StatusCode)
	}
	if resp, _ := a.get(orgAdmin, "/organizations"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("org admin on the platform list: %d, want 404", resp.StatusCode)
	}
	_, doc = a.get(c, orgPath)
	if got := doc.Find(`[data-testid="org-admins"]`).Text(); !strings.Contains(got, "it@acme.test") {
		t.Errorf("admins list = %q (the link fixes the invited email)", got)
	}

	// Another organisation's page is a 404 for that admin.
	tok = a.csrf(c, "/organizations")
	resp, _ = a.post(c, "/organizations", url.Values{"_csrf": {tok}, "name": {"Other Co"}})
	other := resp.Header.Get("Location")
	for _, p := range []string{other, other + "/directories"} {
		if resp, _ := a.get(orgAdmin, p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("org admin on %s: %d, want 404", p, resp.StatusCode)
		}
	}
	otk := a.csrf(orgAdmin, orgPath)
	if resp, _ := a.post(orgAdmin, other+"/setup-link", url.Values{"_csrf": {otk}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("org admin making another organisation's link: %d, want 404", resp.StatusCode)
	}
	if resp, _ := a.get(c, "/organizations/org_nope"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown organisation: %d", resp.StatusCode)
	}

	entries, _ := a.db.SearchAudit(context.Background(), dbAllAudit())
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
	}
	for _, want := range []string{"organization.created", "organization.setup_link_generated", "admin.setup_link_created"} {
		if !strings.Contains(strings.Join(actions, " "), want) {
			t.Errorf("audit lacks %s: %v", want, actions)
		}
	}
}
