package views

import (
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

func TestInvitationEmail_EscapesAndLinks(t *testing.T) {
	html, err := RenderInvitationEmail(InvitationEmailVM{Greeting: "Hello Zoë <b>", Inviter: "ada@example.com",
		Org: "R&D <script>alert(1)</script>", Link: "http://roster.test/invite/tok123", Expires: "7 December 2026, 10:00 UTC"})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(html))
	if err != nil {
		t.Fatal(err)
	}
	if doc.Find("script").Length() != 0 || doc.Find("b").Length() != 0 {
		t.Fatalf("directory data became markup: %s", html)
	}
	if got := doc.Find("strong").Text(); got != "R&D <script>alert(1)</script>" {
		t.Errorf("organisation = %q", got)
	}
	if href, _ := doc.Find("a").Attr("href"); href != "http://roster.test/invite/tok123" {
		t.Errorf("link = %q", href)
	}
	if !strings.Contains(doc.Text(), "Hello Zoë <b>,") {
		t.Errorf("greeting lost: %q", doc.Text())
	}
}
