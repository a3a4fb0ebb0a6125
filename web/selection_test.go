package web

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

func (a *browseApp) headcount(c *http.Client) string {
	a.t.Helper()
	_, doc := a.get(c, "/selection")
	return doc.Find(`h1 + [data-testid="headcount"]`).Text()
}

func TestSelection_AddRemoveClearAcrossPages(t *testing.T) {
	a := newBrowseApp(t, true)
	c := a.client("admin@org_a.example")
	tok := a.csrf(c)
	if got := a.headcount(c); got != "0 people selected" {
		t.Fatalf("fresh: %q", got)
	}
	// Page 1: tick two people; the answer goes back to the same page.
	ret := "/directories/dir_a/users?limit=10&q=person"
	resp := a.post(c, "/selection/users", url.Values{"_csrf": {tok}, "ids": {"a_01", "a_03"}, "return": {ret}}, nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != ret {
		t.Fatalf("add: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, doc := a.get(c, ret)
	if got := doc.Find(`[data-testid="flash"], .flash.ok`).Text(); !strings.Contains(got, "2 people added") {
		t.Errorf("flash = %q", got)
	}
	if n := doc.Find(`[data-testid="in-selection"]`).Length(); n != 2 {
		t.Errorf("%d rows marked selected, want 2", n)
	}
	if got := doc.Find(`[data-testid="tray"]`).Text(); !strings.Contains(got, "2 people selected") {
		t.Errorf("tray = %q", got)
	}
	// Another page (ids[] spelling), plus a double submit: counted once.
	for i := 0; i < 2; i++ {
		resp = a.post(c, "/selection/users", url.Values{"_csrf": {tok}, "ids[]": {"a_41"}, "return": {"/"}}, nil)
		resp.Body.Close()
	}
	if got := a.headcount(c); got != "3 people selected" {
		t.Errorf("after page 2: %q", got)
	}
	// A whole group (30 even-numbered people; none of the three above).
	resp = a.post(c, "/selection/groups", url.Values{"_csrf": {tok}, "ids": {"dir_a_eng"}, "return": {"/groups/dir_a_eng"}}, nil)
	resp.Body.Close()
	if got := a.headcount(c); got != "33 people selected" {
		t.Errorf("after the group: %q", got)
	}
	// Selecting a member directly as well does not count them twice.
	resp = a.post(c, "/selection/users", url.Values{"_csrf": {tok}, "ids": {"a_02"}, "return": {"/"}}, nil)
	resp.Body.Close()
	if got := a.headcount(c); got != "33 people selected" {
		t.Errorf("member selected twice counts: %q", got)
	}
	_, doc = a.get(c, "/groups/dir_a_eng")
	if doc.Find(`[data-testid="group-selected"]`).Length() != 1 {
		t.Error("group page does not say the group is selected")
	}
	// The tray page lists both kinds with remove buttons and links to Review.
	_, doc = a.get(c, "/selection")
	if got := rowIDs(doc, `[data-testid="selected-group"]`); strings.Join(got, ",") != "dir_a_eng" {
		t.Errorf("groups listed = %v", got)
	}
	if got := rowIDs(doc, `[data-testid="selected-person"]`); strings.Join(got, ",") != "a_01,a_02,a_03,a_41" {
		t.Errorf("people listed = %v", got)
	}
	if href := doc.Find(`[data-testid="review"]`).AttrOr("href", ""); href != "/selection/review" {
		t.Errorf("review link = %q", href)
	}
	if doc.Find(`[data-testid="remove-one"][aria-label="Remove Person01 Example"]`).Length() != 1 {
		t.Error("remove button not labelled with the person")
	}
	// Remove one group, then people via the table form.
	resp = a.post(c, "/selection/remove", url.Values{"_csrf": {tok}, "kind": {"group"}, "id": {"dir_a_eng"}, "return": {"/selection"}}, nil)
	resp.Body.Close()
	if got := a.headcount(c); got != "4 people selected" {
		t.Errorf("after removing the group: %q", got)
	}
	resp = a.post(c, "/selection/users/remove", url.Values{"_csrf": {tok}, "ids": {"a_01", "a_99"}, "return": {"/"}}, nil)
	resp.Body.Close()
	if got := a.headcount(c); got != "3 people selected" {
		t.Errorf("after removing a person: %q", got)
	}
	// Select all matching a search, across pages.
	resp = a.post(c, "/selection/users/all", url.Values{"_csrf": {tok}, "directory": {"dir_a"}, "q": {"person1"}, "return": {"/"}}, nil)
	resp.Body.Close()
	if got := a.headcount(c); got != "13 people selected" {
		t.Errorf("after select all person1*: %q", got)
	}
	resp = a.post(c, "/selection/clear", url.Values{"_csrf": {tok}, "return": {"/selection"}}, nil)
	resp.Body.Close()
	_, doc = a.get(c, "/selection")
	if doc.Find(`[data-testid="empty-selection"]`).Length() != 1 || doc.Find(`[data-testid="tray"]`).Length() != 0 {
		t.Error("cleared selection not empty")
	}
	// Another admin's selection is separate.
	if got := a.headcount(a.client("root@example.com")); got != "0 people selected" {
		t.Errorf("platform admin sees %q", got)
	}
}

func TestSelection_HtmxAndBadInput(t *testing.T) {
	a := newBrowseApp(t, true)
	c := a.client("admin@org_a.example")
	tok := a.csrf(c)
	hx := http.Header{"Hx-Request": {"true"}}
	resp := a.post(c, "/selection/groups", url.Values{"_csrf": {tok}, "ids": {"dir_a_eng"}}, hx)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("htmx answer: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(string(body)))
	if doc.Find(`#selection-status`).Length() != 1 || doc.Find(`[data-testid="headcount"]`).Text() != "30 people selected" {
		t.Errorf("htmx fragment = %s", body)
	}
	if strings.Contains(string(body), "<html") {
		t.Error("htmx answer is a whole page")
	}
	// Nothing ticked: a warning, the page comes back, nothing breaks.
	resp = a.post(c, "/selection/users", url.Values{"_csrf": {tok}, "return": {"/directories/dir_a/users"}}, nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("empty add: %d", resp.StatusCode)
	}
	_, doc = a.get(c, "/directories/dir_a/users")
	if got := doc.Find(`.flash.warn`).Text(); !strings.Contains(got, "Nothing was chosen") {
		t.Errorf("empty add flash = %q", got)
	}
	// Only local return paths are followed.
	for _, ret := range []string{"//evil.example/x", "https://evil.example/", `/\evil`, ""} {
		resp = a.post(c, "/selection/users", url.Values{"_csrf": {tok}, "ids": {"a_01"}, "return": {ret}}, nil)
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); loc != "/" {
			t.Errorf("return %q → %q", ret, loc)
		}
	}
	// An unknown kind is refused with a message, not a 500.
	resp = a.post(c, "/selection/remove", url.Values{"_csrf": {tok}, "kind": {"robot"}, "id": {"x"}, "return": {"/selection"}}, nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("bad kind: %d", resp.StatusCode)
	}
	// Without the form token: refused.
	resp = a.post(c, "/selection/clear", url.Values{}, nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("no CSRF token: %d", resp.StatusCode)
	}
	if got := a.headcount(c); got != "31 people selected" {
		t.Errorf("headcount = %q", got)
	}
}
