package web

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"roster/internal/db"
	"roster/internal/dirsync"
	"roster/internal/dirsync/sandbox"
	"roster/internal/onboarding"
)

const testWebhookSecret = "whsec_test_0123456789"

// syncApp is the web layer with a Syncer wired to a sandbox.
type syncApp struct {
	*authApp
	sb     *sandbox.Sandbox
	sbURL  string
	syncer *onboarding.Syncer
}

func newSyncApp(t *testing.T) *syncApp {
	t.Helper()
	sb, err := sandbox.New(sandbox.Options{Preset: sandbox.PresetSmall})
	if err != nil {
		t.Fatal(err)
	}
	sbSrv := httptest.NewServer(sb.Handler())
	t.Cleanup(func() { sbSrv.Close(); sb.Close() })
	a := &syncApp{sb: sb, sbURL: sbSrv.URL}
	a.authApp = newAuthApp(t, func(s *Server) {
		api := dirsync.New(dirsync.Config{BaseURL: sbSrv.URL, APIKey: sandbox.DefaultAPIKey,
			UsersRatePerDirectory: -1, KeyRequestsPerMinute: -1})
		a.syncer = onboarding.NewSyncer(s.App.DB, api, slog.New(slog.NewTextHandler(io.Discard, nil)))
		s.Syncer = a.syncer
		s.Config.WebhookSecret = testWebhookSecret
	})
	if err := a.syncer.SyncOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	return a
}

func (a *syncApp) dirID() string { return a.sb.State().Directories[0].ID }

func (a *syncApp) signedIn() *http.Client {
	c := a.client()
	if resp := a.signIn(c, a.email, a.passwd); resp.StatusCode != http.StatusSeeOther {
		a.t.Fatalf("sign in: %d", resp.StatusCode)
	}
	return c
}

func TestSyncPages(t *testing.T) {
	a := newSyncApp(t)
	c := a.signedIn()
	dir := a.dirID()
	users := 0
	for _, u := range a.sb.State().Users {
		if u.DirectoryID == dir {
			users++
		}
	}

	resp, doc := a.get(c, "/sync")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /sync: %d", resp.StatusCode)
	}
	row := doc.Find(`[data-testid="sync-row"]`)
	if row.Length() != 1 {
		t.Fatalf("rows = %d, want 1", row.Length())
	}
	if got := strings.TrimSpace(row.Find(".badge").First().Text()); got != "Live" {
		t.Errorf("state = %q, want Live", got)
	}
	if got := strings.TrimSpace(row.Find("td.num").First().Text()); got != strconv.Itoa(users) {
		t.Errorf("people = %q, want %d", got, users)
	}
	if v, _ := doc.Find(`[data-testid="sync-table"]`).Attr("hx-trigger"); v != "every 2s" {
		t.Errorf("table hx-trigger = %q", v)
	}

	// The table fragment alone, for htmx.
	resp, body := a.getBody(c, "/sync?fragment=table")
	if resp.StatusCode != http.StatusOK || strings.Contains(body, "<html") || !strings.Contains(body, `data-testid="sync-table"`) {
		t.Errorf("fragment: status %d, body starts %.80q", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("fragment content type %q", ct)
	}

	// The directory page.
	resp, doc = a.get(c, "/sync/"+dir)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /sync/%s: %d", dir, resp.StatusCode)
	}
	if doc.Find(`[data-testid="sync-now"]`).Length() != 1 || doc.Find(`[data-testid="reconcile-now"]`).Length() != 1 {
		t.Errorf("buttons missing")
	}
	if doc.Find(`form input[name="_csrf"]`).Length() < 2 {
		t.Errorf("forms lack the CSRF field")
	}
	status := doc.Find(`[data-testid="sync-status"]`)
	if v, _ := status.Attr("hx-get"); v != "/sync/"+dir+"?fragment=status" {
		t.Errorf("status hx-get = %q", v)
	}
	if doc.Find(`[data-testid="sync-progress"]`).Length() != 0 {
		t.Errorf("progress shown for a live directory")
	}
	if cur := strings.TrimSpace(doc.Find(`[data-testid="sync-cursor"]`).Text()); cur == "" {
		t.Errorf("no cursor shown")
	}

	resp, body = a.getBody(c, "/sync/"+dir+"?fragment=status")
	if resp.StatusCode != http.StatusOK || strings.Contains(body, "<html") || !strings.Contains(body, `id="sync-status"`) {
		t.Errorf("status fragment: %d %.80q", resp.StatusCode, body)
	}

	// An unknown directory.
	if resp, _ := a.get(c, "/sync/directory_nope"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown directory: %d, want 404", resp.StatusCode)
	}
}

func TestSyncPage_ProgressWhileImporting(t *testing.T) {
	a := newSyncApp(t)
	dir := a.dirID()
	ctx := context.Background()
	store := a.srv.App.DB
	// Put the directory back mid-import, as a restart would find it.
	err := store.Tx(ctx, func(tx db.Tx) error {
		w := store.Replica(ctx, tx)
		st, err := w.SyncState(dir)
		if err != nil {
			return err
		}
		st.Phase, st.UsersDone, st.UsersTotal, st.GroupsDone, st.GroupsTotal = db.PhaseUsers, 50, 100, 4, 4
		st.LastError, st.LastErrorKind, st.LastErrorAt = "WorkOS rejected the API key", "auth", time.Now().Add(time.Hour)
		return w.PutSyncState(st)
	})
	if err != nil {
		t.Fatal(err)
	}
	c := a.signedIn()
	_, doc := a.get(c, "/sync/"+dir)
	p := doc.Find(`[data-testid="sync-progress"] progress`)
	if p.Length() != 1 {
		t.Fatalf("no progress bar while importing")
	}
	if v, _ := p.Attr("value"); v != "40" { // groups 10% + half of the users' 60%
		t.Errorf("progress = %s, want 40", v)
	}
	if got := doc.Find(`[data-testid="sync-progress"]`).Text(); !strings.Contains(got, "people 50 of 100") {
		t.Errorf("progress text %q", got)
	}
	if got := strings.TrimSpace(doc.Find(`[data-testid="sync-problem"]`).Text()); got != "WorkOS rejected the API key" {
		t.Errorf("problem = %q", got)
	}
	_, doc = a.get(c, "/sync")
	if got := doc.Find(`[data-testid="sync-row"] .badge`).First().Text(); got != "Importing 40%" {
		t.Errorf("list state = %q", got)
	}
}

func TestSyncButtons(t *testing.T) {
	a := newSyncApp(t)
	c := a.signedIn()
	dir := a.dirID()
	tok := a.csrf(c, "/sync/"+dir)

	resp, _ := a.post(c, "/sync/"+dir+"/now", url.Values{"_csrf": {tok}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/sync/"+dir {
		t.Errorf("sync now: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = a.post(c, "/sync/"+dir+"/reconcile", url.Values{"_csrf": {tok}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("reconcile: %d", resp.StatusCode)
	}
	// Without a running worker, the reconcile ran at once.
	st, err := a.srv.App.DB.SyncState(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.LastReconcileAt.IsZero() || st.Mode != db.ModeReconcile {
		t.Errorf("no reconcile recorded: %+v", st)
	}
	// Without the token: refused.
	if resp, _ := a.post(c, "/sync/"+dir+"/reconcile", url.Values{}); resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusBadRequest {
		t.Errorf("no CSRF token: %d, want 400/403", resp.StatusCode)
	}
	if resp, _ := a.post(c, "/sync/directory_nope/now", url.Values{"_csrf": {tok}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown directory: %d, want 404", resp.StatusCode)
	}
}

func TestSyncPages_OtherOrganisationSeesNothing(t *testing.T) {
	a := newSyncApp(t)
	ctx := context.Background()
	hash, err := a.auth.HashPassword(a.passwd)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.db.Tx(ctx, func(tx db.Tx) error {
		return db.UpsertOrganization(ctx, tx, db.Organization{ID: "org_other", Name: "Other"}, time.Now())
	}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.db.UpsertAdmin(ctx, "eve@other.example", hash, "org_other", db.AuditEntry{}); err != nil {
		t.Fatal(err)
	}
	c := a.client()
	if resp := a.signIn(c, "eve@other.example", a.passwd); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: %d", resp.StatusCode)
	}
	_, doc := a.get(c, "/sync")
	if n := doc.Find(`[data-testid="sync-row"]`).Length(); n != 0 {
		t.Errorf("other org sees %d directories", n)
	}
	if resp, _ := a.get(c, "/sync/"+a.dirID()); resp.StatusCode != http.StatusNotFound {
		t.Errorf("other org detail: %d, want 404", resp.StatusCode)
	}
	tok := a.csrf(c, "/sync")
	if resp, _ := a.post(c, "/sync/"+a.dirID()+"/reconcile", url.Values{"_csrf": {tok}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("other org reconcile: %d, want 404", resp.StatusCode)
	}
}

func (a *syncApp) getBody(c *http.Client, path string) (*http.Response, string) {
	a.t.Helper()
	resp, err := c.Get(a.ts.URL + path)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// postWebhook sends a webhook request with the given signature header.
func (a *syncApp) postWebhook(body []byte, sig string) int {
	a.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, a.ts.URL+"/webhooks/workos", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set("WorkOS-Signature", sig)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
