package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"roster/internal/db"
	"roster/internal/onboarding"
)

const maLink = "http://example.test/invite/tok_0123456789abcdef0123456789abcdef"

// sendMail queues emails and lets the demo Mailbox "deliver" them, the way
// main runs the Mailer without SMTP_URL. It returns the outbox ids.
func (a *maApp) sendMail(ms ...db.OutboxEmail) {
	a.t.Helper()
	ctx := context.Background()
	if err := a.db.Tx(ctx, func(tx db.Tx) error {
		for _, m := range ms {
			if err := db.EnqueueEmail(ctx, tx, m); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		a.t.Fatal(err)
	}
	m := &onboarding.Mailer{DB: a.db, Sender: onboarding.MailboxSender{}, Log: a.srv.Log}
	if res, err := m.SendDue(ctx); err != nil || res.Sent != len(ms) {
		a.t.Fatalf("mailbox delivery: %+v, %v", res, err)
	}
}

func maInvitationMail(to, org string) db.OutboxEmail {
	return db.OutboxEmail{
		To: to, Subject: "You are invited to Roster", Kind: "invitation", OrganizationID: org,
		Text: "Hello,\n\nAda invited you. Set your password here:\n" + maLink + ".\n\nQuestions? See https://help.example.test/faq (or reply).\n",
		HTML: `<p>Hello,</p><p><a href="` + maLink + `" style="color:#3450b8">Accept the invitation</a></p>`,
	}
}

func TestMailboxListsAndShowsMessages(t *testing.T) {
	a := newMAApp(t, true)
	a.sendMail(maInvitationMail("first@alpha.example", maOrgA), maInvitationMail("second@alpha.example", maOrgA),
		maInvitationMail("other@bravo.example", maOrgB))
	ca := a.signIn(maAdmA)

	resp, doc := a.get(ca, "/mailbox")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/mailbox: %d", resp.StatusCode)
	}
	if doc.Find(`nav a[href="/mailbox"]`).Length() != 1 {
		t.Error("no Mailbox item in the navigation in demo mode")
	}
	rows := doc.Find(`[data-testid="mail-row"]`)
	if rows.Length() != 2 {
		t.Fatalf("%d rows, want org_alpha's 2", rows.Length())
	}
	if to := rows.First().Find("td").First().Text(); to != "second@alpha.example" {
		t.Errorf("first row to %q; want the newest (second@)", to)
	}
	if txt := rows.Text(); strings.Contains(txt, "bravo") {
		t.Error("org_alpha admin sees org_bravo's mail")
	}
	if st := rows.First().Find(".badge").Text(); st != "sent" {
		t.Errorf("status = %q, want sent", st)
	}

	href, _ := rows.Last().Find(`[data-testid="mail-open"]`).Attr("href")
	resp, doc = a.get(ca, href)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d", href, resp.StatusCode)
	}
	if got := doc.Find(`[data-testid="mail-to"]`).Text(); got != "first@alpha.example" {
		t.Errorf("to = %q", got)
	}
	links := doc.Find(`[data-testid="mail-link"]`)
	if links.Length() != 2 {
		t.Fatalf("%d links in the text version, want 2", links.Length())
	}
	if h, _ := links.First().Attr("href"); h != maLink || links.First().Text() != maLink {
		t.Errorf("invitation link = %q (%q); want %q without the full stop", h, links.First().Text(), maLink)
	}
	if h, _ := links.Last().Attr("href"); h != "https://help.example.test/faq" {
		t.Errorf("second link = %q", h)
	}
	text := doc.Find(`[data-testid="mail-text"]`).Text()
	if !strings.Contains(text, "Ada invited you.") || !strings.Contains(text, maLink+".") {
		t.Errorf("text version = %q", text)
	}
	frame := doc.Find(`iframe[data-testid="mail-html"]`)
	src, _ := frame.Attr("src")
	if sb, ok := frame.Attr("sandbox"); !ok || sb != "" || src != href+"/html" || frame.AttrOr("title", "") == "" {
		t.Errorf("iframe src=%q sandbox=%q (present %v) title=%q", src, sb, ok, frame.AttrOr("title", ""))
	}

	resp, body := a.getRaw(ca, src)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("html: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if body != maInvitationMail("", "").HTML {
		t.Errorf("html body = %q", body)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "sandbox", "frame-ancestors 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("html CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "script-src") || resp.Header.Get("X-Frame-Options") != "SAMEORIGIN" {
		t.Errorf("html CSP %q / X-Frame-Options %q", csp, resp.Header.Get("X-Frame-Options"))
	}
	// The rest of the app still refuses to be framed.
	resp, _ = a.getRaw(ca, href)
	if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Error("message page lost its frame protection")
	}
}

func TestMailboxTenancyAndBadIDs(t *testing.T) {
	a := newMAApp(t, true)
	a.sendMail(maInvitationMail("a@alpha.example", maOrgA), maInvitationMail("b@bravo.example", maOrgB))
	ca := a.signIn(maAdmA)
	// id 2 is org_bravo's.
	for _, path := range []string{"/mailbox/2", "/mailbox/2/html", "/mailbox/999", "/mailbox/abc", "/mailbox/-1", "/mailbox/0/html"} {
		resp, body := a.getRaw(ca, path)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", path, resp.StatusCode)
		}
		if strings.Contains(body, "bravo") {
			t.Errorf("%s: the 404 page leaks the other organisation's mail", path)
		}
	}
	if resp, _ := a.getRaw(ca, "/mailbox/1"); resp.StatusCode != http.StatusOK {
		t.Errorf("own mail: %d", resp.StatusCode)
	}
	// The platform admin sees both.
	cr := a.signIn(maRoot)
	_, doc := a.get(cr, "/mailbox")
	if n := doc.Find(`[data-testid="mail-row"]`).Length(); n != 2 {
		t.Errorf("platform admin sees %d messages, want 2", n)
	}
	if resp, _ := a.getRaw(cr, "/mailbox/2"); resp.StatusCode != http.StatusOK {
		t.Errorf("platform admin, org_bravo mail: %d", resp.StatusCode)
	}
}

func TestMailboxPagingAndCursorNotice(t *testing.T) {
	a := newMAApp(t, true)
	var ms []db.OutboxEmail
	for i := range 30 {
		ms = append(ms, db.OutboxEmail{To: fmt.Sprintf("p%02d@alpha.example", i), Subject: "s", Text: "t", Kind: "invitation", OrganizationID: maOrgA})
	}
	a.sendMail(ms...)
	ca := a.signIn(maAdmA)
	_, doc := a.get(ca, "/mailbox")
	if n := doc.Find(`[data-testid="mail-row"]`).Length(); n != 30 || doc.Find(`a[rel="next"]`).Length() != 0 {
		t.Fatalf("default page: %d rows, want all 30 on one page", n)
	}
	_, doc = a.get(ca, "/mailbox?limit=25")
	if n := doc.Find(`[data-testid="mail-row"]`).Length(); n != 25 {
		t.Fatalf("page 1: %d rows", n)
	}
	older, ok := doc.Find(`a[rel="next"]`).Attr("href")
	if !ok {
		t.Fatal("no Older link")
	}
	_, doc = a.get(ca, older)
	if n := doc.Find(`[data-testid="mail-row"]`).Length(); n != 5 || doc.Find(`a[rel="next"]`).Length() != 0 {
		t.Errorf("page 2: %d rows, Older link %d", n, doc.Find(`a[rel="next"]`).Length())
	}
	if to := doc.Find(`[data-testid="mail-row"] td`).First().Text(); to != "p04@alpha.example" {
		t.Errorf("page 2 starts with %q", to)
	}
	if u, _ := url.Parse(older); u == nil || u.Query().Get("limit") != "25" {
		t.Errorf("Older link %q lost the page size", older)
	}
	for _, path := range []string{"/mailbox?before=xyz&limit=25", "/mailbox?before=1&limit=25"} {
		resp, doc := a.get(ca, path)
		if resp.StatusCode != http.StatusOK || doc.Find(`[data-testid="mailbox-notice"]`).Length() != 1 || doc.Find(`[data-testid="mail-row"]`).Length() != 25 {
			t.Errorf("%s: status %d; want the first page with a notice", path, resp.StatusCode)
		}
	}
}

func TestMailboxOnlyInDemo(t *testing.T) {
	a := newMAApp(t, false)
	a.sendMail(maInvitationMail("a@alpha.example", maOrgA))
	ca := a.signIn(maAdmA)
	for _, path := range []string{"/mailbox", "/mailbox/1", "/mailbox/1/html"} {
		if resp, _ := a.getRaw(ca, path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s without demo: %d, want 404", path, resp.StatusCode)
		}
	}
	_, doc := a.get(ca, "/audit")
	if doc.Find(`nav a[href="/mailbox"]`).Length() != 0 {
		t.Error("Mailbox in the navigation outside demo mode")
	}
	if doc.Find(`nav a[href="/audit"]`).Length() != 1 {
		t.Error("Audit missing from the navigation")
	}
}

func TestMailboxHostileContentEscaped(t *testing.T) {
	a := newMAApp(t, true)
	a.sendMail(db.OutboxEmail{To: "x@alpha.example", OrganizationID: maOrgA, Kind: "invitation",
		Subject: `<img src=x onerror=alert(1)> Zoë 👋`, Text: `Hi <script>alert(1)</script> javascript:alert(1) http://ok.example/a"onmouseover="x`})
	ca := a.signIn(maAdmA)
	for _, path := range []string{"/mailbox", "/mailbox/1"} {
		_, body := a.getRaw(ca, path)
		if strings.Contains(body, "<img src=x") || strings.Contains(body, "<script>alert") || strings.Contains(body, `"onmouseover`) {
			t.Errorf("%s renders mail content unescaped", path)
		}
	}
	_, doc := a.get(ca, "/mailbox/1")
	if got := doc.Find(`[data-testid="mail-subject"]`).Text(); got != `<img src=x onerror=alert(1)> Zoë 👋` {
		t.Errorf("subject = %q", got)
	}
	doc.Find(`[data-testid="mail-link"]`).Each(func(_ int, s *goquery.Selection) {
		if h := s.AttrOr("href", ""); !strings.HasPrefix(h, "http://") {
			t.Errorf("link with href %q", h)
		}
	})
	if doc.Find(`[data-testid="mail-text"] script`).Length() != 0 {
		t.Error("script element in the text version")
	}
	// No HTML version: no frame, and its URL is a 404.
	if doc.Find("iframe").Length() != 0 {
		t.Error("iframe shown for a text-only email")
	}
	if resp, _ := a.getRaw(ca, "/mailbox/1/html"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("html of a text-only email: %d", resp.StatusCode)
	}
}

func TestMailLines(t *testing.T) {
	got := mailLines("Go to https://a.example/x?y=1, then (see http://b.example/).\r\n\r\nbye\n")
	if len(got) != 3 {
		t.Fatalf("%d lines: %+v", len(got), got)
	}
	var parts []string
	for _, p := range got[0].Parts {
		parts = append(parts, p.Text+"|"+p.Href)
	}
	want := []string{"Go to |", "https://a.example/x?y=1|https://a.example/x?y=1", ", then (see |", "http://b.example/|http://b.example/", ").|"}
	if strings.Join(parts, " ") != strings.Join(want, " ") {
		t.Errorf("parts = %q\nwant    %q", parts, want)
	}
	if len(got[1].Parts) != 0 || got[2].Parts[0].Text != "bye" {
		t.Errorf("lines 2–3 = %+v", got[1:])
	}
}
