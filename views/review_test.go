package views

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
)

func renderDoc(t *testing.T, c templ.Component) *goquery.Document {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestReviewPage_EscapesAndLabels(t *testing.T) {
	hostile := `<script>alert("x")</script>`
	vm := ReviewVM{Key: "k", Total: 3,
		Fields: []ReviewField{{Key: "job_title", Label: "Job title"}},
		New: ReviewBucket{Key: "new", Title: "New", Count: 2, Rows: []ReviewRow{
			{UserID: "u1", Name: "نور 🚀", Attrs: []string{hostile}, Role: "admin", Roles: []RoleOption{{"member", "Member"}, {"admin", "Admin"}}},
		}},
		Others:     []ReviewBucket{{Key: "inactive", Title: "Inactive", Count: 1, Rows: []ReviewRow{{UserID: "u2", Name: "Bob", Reason: "directory state is inactive"}}}},
		Duplicates: ReviewBucket{Key: "duplicates", Title: "Dups"},
	}
	doc := renderDoc(t, ReviewPage(Page{CSRF: "tok"}, vm))
	row := doc.Find(`[data-testid="new-row"][data-id="u1"]`)
	if !strings.Contains(row.Text(), hostile) || row.Find("script").Length() != 0 {
		t.Errorf("hostile value not shown as text: %q", row.Text())
	}
	if got := doc.Find(`label[for="role-u1"]`).Text(); got != "Role for نور 🚀" {
		t.Errorf("label %q", got)
	}
	if v, _ := row.Find(`select[name="role:u1"] option[selected]`).Attr("value"); v != "admin" {
		t.Errorf("selected role %q", v)
	}
	if got := doc.Find(`[data-testid="new-more"]`).Text(); !strings.Contains(got, "Showing 1 of 2") {
		t.Errorf("more note %q", got)
	}
	if doc.Find(`form[action="/selection/invite"] input[name="_csrf"][value="tok"]`).Length() != 1 {
		t.Error("invite form without CSRF token")
	}
	if got := doc.Find(`[data-testid="bucket-inactive"] [data-testid="bucket-row"] td`).Last().Text(); got != "directory state is inactive" {
		t.Errorf("reason %q", got)
	}
	// Nothing to invite: the button is disabled.
	doc = renderDoc(t, ReviewPage(Page{}, ReviewVM{New: ReviewBucket{Key: "new"}}))
	if _, ok := doc.Find(`form[action="/selection/invite"] button[type=submit]`).Attr("disabled"); !ok {
		t.Error("empty review can be confirmed")
	}
}

func TestInviteAcceptPage_Profile(t *testing.T) {
	doc := renderDoc(t, InviteAcceptPage(Page{CSRF: "c"}, InviteAcceptVM{Token: "abc", OrgName: "Acme", Name: "Ada", Email: "ada@x.test",
		JobTitle: "<b>Boss</b>", MinLength: 10}))
	if got := doc.Find(`[data-testid="invite-title"]`).Text(); got != "<b>Boss</b>" {
		t.Errorf("title %q", got)
	}
	if a, _ := doc.Find(`form[data-testid="accept-form"]`).Attr("action"); a != "/invite/abc" {
		t.Errorf("action %q", a)
	}
	if doc.Find(`label[for="password"]`).Length() != 1 {
		t.Error("password field without label")
	}
}
