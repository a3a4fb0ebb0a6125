package views

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

func usersVM(n int) UsersVM {
	vm := UsersVM{
		Header:     DirectoryHeader{Name: "Acme", OrgName: "Acme Ltd", UsersHref: "/directories/d/users", GroupsHref: "/directories/d/groups", Active: "users"},
		TotalLabel: "1,204 people",
		Table:      PeopleTableVM{Caption: "People of Acme", Return: "/directories/d/users?limit=100"},
		Pager:      Pager{PrevHref: "/directories/d/users?before=x", NextHref: "/directories/d/users?after=y", Summary: "100 per page"},
		Filter:     ListFilter{Action: "/directories/d/users", Limits: []Option{{Value: "25", Label: "25", Selected: true}}},
		SelectAll:  "Select all 1,204 matching",
	}
	for i := 0; i < n; i++ {
		vm.Table.Rows = append(vm.Table.Rows, PersonRow{ID: fmt.Sprintf("u%03d", i), Name: fmt.Sprintf("Person %03d", i),
			Href: "/users/u", Email: fmt.Sprintf("p%03d@example.com", i), JobTitle: "Engineer", Department: "R&D",
			StateLabel: "Active", StateClass: "badge ok"})
	}
	return vm
}

func TestUsersPage_Structure(t *testing.T) {
	vm := usersVM(3)
	vm.Table.Rows[1].JobTitle = `<script>alert(1)</script>`
	vm.Table.Rows[1].Name = "مريم حداد 🚀"
	vm.Table.Rows[2].Email = ""
	vm.Table.Rows[2].Selected = true
	vm.Notices = []string{"That page link is out of date"}
	var buf bytes.Buffer
	if err := UsersPage(Page{Title: "People", CSRF: "tok", Admin: &AdminBadge{Email: "a@x"}}, vm).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "<script>alert") {
		t.Error("hostile job title rendered as markup")
	}
	doc, err := goquery.NewDocumentFromReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	rows := doc.Find(`[data-testid="person-row"]`)
	if rows.Length() != 3 {
		t.Fatalf("%d rows", rows.Length())
	}
	if got := rows.Eq(1).Find("td").Eq(2).Text(); got != `<script>alert(1)</script>` {
		t.Errorf("job title cell = %q", got)
	}
	if got := rows.Eq(1).Find("label").Text(); got != "Select مريم حداد 🚀" {
		t.Errorf("label = %q", got)
	}
	if rows.Eq(2).Find("td.muted").First().Text() != "no email" || rows.Eq(2).Find(`[data-testid="in-selection"]`).Length() != 1 {
		t.Error("no-email or selected mark missing")
	}
	if doc.Find(`th[scope="col"]`).Length() != 7 || doc.Find("caption").Text() != "People of Acme" {
		t.Error("table headers or caption missing")
	}
	if doc.Find(`[data-testid="prev"]`).AttrOr("rel", "") != "prev" || doc.Find(`[data-testid="next"]`).AttrOr("rel", "") != "next" {
		t.Error("pager links not labelled")
	}
	if doc.Find(`form[data-testid="people-form"] input[name="_csrf"]`).AttrOr("value", "") != "tok" {
		t.Error("selection form lacks the CSRF token")
	}
	if doc.Find(`[data-testid="notice"]`).Length() != 1 || doc.Find(`[data-testid="select-all"]`).Text() != "Select all 1,204 matching" {
		t.Error("notice or select-all missing")
	}
	// Every control is labelled.
	doc.Find("input:not([type=hidden]), select").Each(func(_ int, s *goquery.Selection) {
		id := s.AttrOr("id", "")
		if _, ok := s.Attr("aria-label"); ok {
			return
		}
		if id == "" || doc.Find(`label[for="`+id+`"]`).Length() == 0 {
			h, _ := goquery.OuterHtml(s)
			t.Errorf("unlabelled control %s", h)
		}
	})
}

func TestPager_FirstAndLastPage(t *testing.T) {
	var buf bytes.Buffer
	if err := pager(Pager{}).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	doc, _ := goquery.NewDocumentFromReader(&buf)
	if doc.Find("a").Length() != 0 || doc.Find(`[aria-disabled="true"]`).Length() != 2 {
		t.Error("a single page shows live links")
	}
}

func TestSelectionPage_EmptyAndFull(t *testing.T) {
	var buf bytes.Buffer
	p := Page{Title: "Selection", CSRF: "tok", Admin: &AdminBadge{Email: "a@x"}}
	if err := SelectionPage(p, SelectionVM{Empty: true}).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	doc, _ := goquery.NewDocumentFromReader(&buf)
	if doc.Find(`[data-testid="empty-selection"]`).Length() != 1 || doc.Find(`[data-testid="review"]`).Length() != 0 {
		t.Error("empty selection shows a review button")
	}
	buf.Reset()
	vm := SelectionVM{Headcount: 31, ReviewHref: "/selection/review", PeopleTotal: "1 person selected one by one",
		Groups: []SelectedGroupRow{{ID: "g", Name: "Eng", Href: "/groups/g", Members: "30"}},
		People: []SelectedPersonRow{{ID: "u", Name: "Ada", Href: "/users/u", Email: "ada@x", State: "Active"}, {ID: "v", Name: "Gone", Gone: true}}}
	if err := SelectionPage(p, vm).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	doc, _ = goquery.NewDocumentFromReader(&buf)
	if got := doc.Find(`h1 + [data-testid="headcount"]`).Text(); got != "31 people selected" {
		t.Errorf("headcount = %q", got)
	}
	if doc.Find(`[data-testid="remove-one"]`).Length() != 3 || doc.Find(`[data-testid="clear"]`).Length() != 1 {
		t.Error("remove/clear buttons missing")
	}
	if doc.Find(`[data-testid="review"]`).AttrOr("href", "") != "/selection/review" {
		t.Error("review link wrong")
	}
	if !strings.Contains(doc.Find(`[data-testid="selected-person"][data-id="v"]`).Text(), "deleted in the directory") {
		t.Error("gone person not marked")
	}
}

// BenchmarkRenderUsersTable renders a users page of 100 rows into a
// reused buffer.
func BenchmarkRenderUsersTable(b *testing.B) {
	vm := usersVM(100)
	p := Page{Title: "People", CSRF: "tok", Admin: &AdminBadge{Email: "a@x"}}
	var buf bytes.Buffer
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		buf.Reset()
		if err := UsersPage(p, vm).Render(ctx, &buf); err != nil {
			b.Fatal(err)
		}
	}
}

// personRows is hand-written markup: every value must come out escaped, in
// the same cells and attributes the templ version had.
func TestPersonRows_Markup(t *testing.T) {
	hostile := `Ada "<script>alert(1)</script>" O'Neil & co`
	rows := []PersonRow{
		{ID: `u1"><b>`, Name: hostile, Href: "/users/u1", Email: "a@x.example", JobTitle: "<i>Eng</i>", Department: "R&D",
			StateLabel: "Active", StateClass: "badge ok", AccountHref: "/accounts/3", AccountLabel: "invited", Selected: true},
		{ID: "u2", Name: "Bob", Href: "/users/u2", StateLabel: "Inactive", StateClass: "badge muted"},
	}
	var buf bytes.Buffer
	if err := personRows(rows).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "<script>") || strings.Contains(buf.String(), "<i>") || strings.Contains(buf.String(), `"><b>`) {
		t.Fatalf("unescaped value in %s", buf.String())
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader("<table><tbody>" + buf.String() + "</tbody></table>"))
	if err != nil {
		t.Fatal(err)
	}
	tr := doc.Find(`tr[data-testid="person-row"]`)
	if tr.Length() != 2 {
		t.Fatalf("%d rows", tr.Length())
	}
	first := tr.First()
	if id, _ := first.Attr("data-id"); id != rows[0].ID {
		t.Errorf("data-id = %q", id)
	}
	box := first.Find(`input[type=checkbox][name=ids]`)
	if v, _ := box.Attr("value"); v != rows[0].ID {
		t.Errorf("checkbox value = %q", v)
	}
	if label := first.Find("label"); label.AttrOr("for", "") != box.AttrOr("id", "-") || label.Text() != "Select "+hostile {
		t.Errorf("label for %q: %q", label.AttrOr("for", ""), label.Text())
	}
	if a := first.Find(`th a`); a.Text() != hostile || a.AttrOr("href", "") != "/users/u1" {
		t.Errorf("name link %q -> %q", a.Text(), a.AttrOr("href", ""))
	}
	cells := first.Find("td")
	want := []string{"Select " + hostile, "a@x.example", "<i>Eng</i>", "R&D", "Active", "invited"}
	for i, w := range want {
		if got := strings.TrimSpace(cells.Eq(i).Text()); got != w {
			t.Errorf("cell %d = %q, want %q", i, got, w)
		}
	}
	if first.Find(`[data-testid="in-selection"]`).Length() != 1 || first.Find(`span.badge.ok`).Length() != 2 {
		t.Error("selected badge or state class missing")
	}
	second := tr.Eq(1)
	if second.Find(`[data-testid="in-selection"]`).Length() != 0 || second.Find("td.muted").Length() != 2 ||
		second.Find(`span.badge.muted`).Text() != "Inactive" {
		t.Errorf("second row: %s", must(second.Html()))
	}
}

func must(s string, _ error) string { return s }
