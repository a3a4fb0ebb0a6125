package tests

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestJourney_ConnectDirectory (issue 9): with no directory at all, the
// platform admin creates an organisation, creates a setup link and plays
// the IT admin in the sandbox's Admin Portal (Okta, small); back on the
// organisation's page the directory arrives and its people are browsable.
func TestJourney_ConnectDirectory(t *testing.T) {
	b, _ := newTestBrowser(t)
	a := startApp(t, "SANDBOX_PRESET=empty")
	b.signIn(a)
	b.open(a.URL + "/")
	b.shot("no directories")

	b.open(a.URL + "/organizations")
	b.shot("organisations")
	b.do("fill the new organisation",
		chromedp.SendKeys(chromedp.CSS("#org-name"), "Globex E2E"),
		chromedp.SendKeys(chromedp.CSS("#org-domains"), "globex.example"))
	b.clickLoad("create the organisation", "#create-org")
	b.shot("organisation created")
	orgURL := b.location()
	if !strings.Contains(orgURL, "/organizations/") || strings.HasSuffix(orgURL, "/organizations") {
		t.Fatalf("after creating, at %s (want the organisation's page); text:\n%s", orgURL, b.mainText())
	}
	if b.count(`[data-testid="org-empty"]`) == 0 {
		t.Errorf("a new organisation's page does not say that no directory is connected")
	}

	b.clickLoad("create a setup link", "#create-setup-link")
	b.shot("setup link")
	href := b.attr(`[data-testid="open-setup"]`, "href")
	if href == "" {
		t.Fatalf("no “Open setup” link (data-testid=open-setup) on %s; text:\n%s", b.location(), b.mainText())
	}
	if link := eval[string](b, `(document.querySelector('[data-testid="setup-link"]')||{}).value||""`); link != href {
		t.Errorf("setup link field %q differs from the Open setup href %q", link, href)
	}

	// The IT admin's side: the sandbox's Admin Portal.
	b.open(href)
	b.shot("portal")
	if !b.mark(`Array.from(document.querySelectorAll('input[name="provider"]')).find(r=>r.closest("label")&&/okta/i.test(r.closest("label").innerText))`) {
		t.Fatalf("the portal offers no Okta; text:\n%s", b.mainText())
	}
	b.do("choose Okta", chromedp.Click(chromedp.CSS(markSel), chromedp.NodeVisible))
	b.clickLoad("continue", `form[action$="/provider"] button[type=submit]`)
	b.shot("portal setup")
	if !b.mark(`Array.from(document.querySelectorAll('input[name="size"]')).find(r=>r.closest("label")&&/small/i.test(r.closest("label").innerText))`) {
		t.Fatalf("the portal offers no small size; text:\n%s", b.mainText())
	}
	b.do("choose small", chromedp.Click(chromedp.CSS(markSel), chromedp.NodeVisible))
	b.clickLoad("finish", `form[action$="/finish"] button[type=submit]`)
	b.shot("portal finishing")
	// The portal refreshes itself while the first sync runs, then sends the
	// IT admin back to the success URL (or offers a link back).
	back := `/return to the application/i`
	b.waitJS("portal done", `location.href === `+jsq(orgURL)+` || Array.from(document.querySelectorAll("a")).some(a=>`+back+`.test(a.innerText))`, 60*time.Second)
	if b.location() != orgURL {
		b.shot("portal done")
		b.mark(`Array.from(document.querySelectorAll("a")).find(a=>` + back + `.test(a.innerText))`)
		b.clickLoad("return to roster", markSel)
	}
	b.waitJS("organisation page loaded", `document.readyState === "complete"`, 10*time.Second)
	b.shot("back on the organisation")
	if loc := b.location(); loc != orgURL {
		t.Errorf("the portal returned to %s, want the organisation's page %s", loc, orgURL)
	}

	// The directory arrives on the organisation's page (it refreshes
	// itself; reloading does the same without JavaScript).
	waitFor(t, "directory on the organisation's page", 30*time.Second, func() string {
		if b.count(`[data-testid="org-users-link"]`) > 0 {
			return ""
		}
		b.open(orgURL)
		return "no directory with people yet: " + b.text(`[data-testid="org-directories"]`)
	})
	b.shot("directory connected")
	if txt := b.text(`[data-testid="org-directories"]`); !strings.Contains(txt, "Okta") {
		t.Errorf("the connected directory is not shown as Okta: %q", txt)
	}
	b.clickLoad("open its people", `[data-testid="org-users-link"]`)
	b.shot("people")
	if n := b.count(`[data-testid="person-row"]`); n == 0 {
		t.Fatalf("the new directory's users page lists nobody; text:\n%s", b.mainText())
	}
	// The directories page lists it too.
	b.open(a.URL + "/")
	b.shot("directories")
	if n := b.count(`[data-testid="directory-row"]`); n != 1 {
		t.Errorf("directories page lists %d directories, want 1", n)
	}
}
