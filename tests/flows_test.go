package tests

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
)

// Steps of the onboarding flow that several journeys share.

// headcount reads the "N people selected" line of a browse page.
func (b *browser) headcount() int {
	b.t.Helper()
	return number(b.text(`[data-testid="headcount"]`))
}

// trayCount reloads the page and reads the sticky tray ("N people
// selected"); 0 when there is no tray.
func (b *browser) trayCount() int {
	b.t.Helper()
	b.do("reload", chromedp.Reload(), chromedp.WaitReady(chromedp.CSS("body")))
	if b.count(`[data-testid="tray"]`) == 0 {
		return 0
	}
	return number(b.text(`[data-testid="tray"]`))
}

// waitDirectoryUsers waits until the sync has brought every user of the
// directory (as the sandbox holds it now) into Roster's users page total.
func (b *browser) waitDirectoryUsers(a *app, dirID string, want int, timeout time.Duration) {
	b.t.Helper()
	url := a.URL + "/directories/" + dirID + "/users?state=all"
	waitFor(b.t, "directory "+dirID+" users", timeout, func() string {
		if st := b.status(url); st != 200 {
			return "users page answers " + formatStatus(st)
		}
		if b.count(`[data-testid="total"]`) == 0 {
			return "no total on the users page"
		}
		got := number(b.text(`[data-testid="total"]`))
		if got != want {
			return "total " + b.text(`[data-testid="total"]`) + ", want " + itoa(want)
		}
		return ""
	})
}

func formatStatus(n int64) string { return "HTTP " + strconv.FormatInt(n, 10) }

var itoa = strconv.Itoa

var inviteLink = regexp.MustCompile(`/invite/[A-Za-z0-9_\-]+`)

// invitationLink finds the invitation email to addr in the Mailbox (the
// mail worker sends asynchronously, so it polls) and returns the link in it.
func (b *browser) invitationLink(a *app, addr string, timeout time.Duration) string {
	b.t.Helper()
	waitFor(b.t, "invitation email to "+addr+" in the Mailbox", timeout, func() string {
		b.open(a.URL + "/mailbox")
		if !b.mark(`Array.from(document.querySelectorAll('[data-testid="mail-row"]')).filter(r=>r.cells[0].innerText.trim()===` + jsq(addr) + `).map(r=>r.querySelector('[data-testid="mail-open"]'))[0]`) {
			return "missing"
		}
		return ""
	})
	b.clickLoad("open the email to "+addr, markSel)
	b.shot("invitation email " + addr)
	if to := b.text(`[data-testid="mail-to"]`); !strings.Contains(to, addr) {
		b.t.Fatalf("opened the email to %q, want %s", to, addr)
	}
	href := eval[string](b, `(Array.from(document.querySelectorAll('[data-testid="mail-link"]')).map(a=>a.href).find(h=>h.includes("/invite/"))||"")`)
	if href == "" || !inviteLink.MatchString(href) {
		b.t.Fatalf("the invitation email has no /invite/<token> link; text:\n%s", b.text(`[data-testid="mail-text"]`))
	}
	if !strings.HasPrefix(href, a.URL+"/invite/") {
		b.t.Errorf("invitation link %s does not start with BASE_URL %s", href, a.URL)
	}
	return href
}

// acceptInvitation plays the invitee in a fresh browser: opens the link,
// checks the pre-filled profile, sets a password.
func (b *browser) acceptInvitation(link string, u sbUser) {
	b.t.Helper()
	inv := b.fresh()
	inv.open(link)
	inv.shot("invitee opens the link")
	text := inv.mainText()
	if got := inv.text(`[data-testid="invite-email"]`); got != u.email() {
		b.t.Errorf("invitation page shows email %q, want %q", got, u.email())
	}
	if got := inv.text(`[data-testid="invite-name"]`); !strings.Contains(got, u.first()) || !strings.Contains(got, u.last()) {
		b.t.Errorf("invitation page shows name %q, want %s %s", got, u.first(), u.last())
	}
	if jt := u.custom("job_title"); jt != "" {
		if inv.count(`[data-testid="invite-title"]`) == 0 || inv.text(`[data-testid="invite-title"]`) != jt {
			b.t.Errorf("invitation page does not show the pre-filled job title %q; text:\n%s", jt, text)
		}
	}
	pw := "correct horse battery staple"
	n := inv.count(`form input[type=password]`)
	if n == 0 {
		inv.shot("FAILED-no-password-field")
		b.t.Fatalf("invitation page has no password field; text:\n%s", text)
	}
	// Every password field (password and its confirmation) gets the same.
	for i := range eval[[]int](inv, `Array.from(document.querySelectorAll('form input[type=password]')).map((e,i)=>{e.setAttribute("data-e2e-pw",i);return i})`) {
		inv.do("type password", chromedp.SendKeys(chromedp.CSS(`input[data-e2e-pw="`+strconv.Itoa(i)+`"]`), pw))
	}
	inv.shot("password typed")
	inv.clickLoad("accept the invitation", `[data-testid="accept-form"] button[type=submit]`)
	inv.shot("invitation accepted")
	if inv.count(`[data-testid="invite-error"]`) > 0 || inv.count(`[data-testid="accept-form"]`) > 0 {
		b.t.Fatalf("accepting the invitation did not succeed; page says:\n%s", inv.mainText())
	}
}

// confirmInvite goes from the selection to the review page and confirms;
// it returns the review page's bucket counts by key.
func (b *browser) reviewCounts() map[string]int {
	b.t.Helper()
	m := map[string]int{}
	for _, key := range []string{"new", "existing", "pending", "inactive", "no_email", "domain", "duplicate_email", "duplicates"} {
		sel := `[data-testid="count-` + key + `"]`
		if b.count(sel) == 0 {
			m[key] = -1
			continue
		}
		m[key] = number(b.text(sel))
	}
	return m
}

// rowIDs returns the data-id of the rows matching sel.
func (b *browser) rowIDs(sel string) []string {
	b.t.Helper()
	return eval[[]string](b, `Array.from(document.querySelectorAll(`+jsq(sel)+`)).map(e=>e.dataset.id)`)
}

// accountState is the state badge of an account's page.
func (b *browser) accountState() string {
	b.t.Helper()
	return strings.TrimSpace(b.text(`[data-testid="account-state"]`))
}

// openAccount finds the account of an email on /accounts (by search) and
// opens its page; it returns the page's URL.
func (b *browser) openAccount(a *app, email string) string {
	b.t.Helper()
	b.open(a.URL + "/accounts?q=" + queryEscape(email))
	b.shot("accounts search " + email)
	if !b.mark(`Array.from(document.querySelectorAll('main a[href^="/accounts/"]')).find(a=>/^\/accounts\/\d+$/.test(a.getAttribute("href"))&&a.closest("tr")&&a.closest("tr").innerText.includes(` + jsq(email) + `))`) {
		b.t.Fatalf("no account row for %s on /accounts; text:\n%s", email, b.mainText())
	}
	b.clickLoad("open the account of "+email, markSel)
	return b.location()
}

func queryEscape(s string) string {
	return strings.NewReplacer("%", "%25", "+", "%2B", " ", "+", "&", "%26", "#", "%23", "@", "%40", "?", "%3F", "=", "%3D").Replace(s)
}

// selectOne adds one person to the selection from their page.
func (b *browser) selectOne(a *app, userID string) {
	b.t.Helper()
	b.open(a.URL + "/users/" + userID)
	b.clickLoad("add "+userID+" to the selection", `[data-testid="select-person"]`)
	if b.count(`[data-testid="unselect-person"]`) == 0 {
		b.shot("FAILED-select-person")
		b.t.Fatalf("after adding %s to the selection, its page offers no removal", userID)
	}
}

// inviteSelection opens the review page from the tray and confirms; it
// returns the created count from the result page.
func (b *browser) inviteSelection(a *app) int {
	b.t.Helper()
	b.clickLoad("open the selection from the tray", `[data-testid="tray"] a[href="/selection"]`)
	b.clickLoad("review", `[data-testid="review"]`)
	b.shot("review")
	b.clickLoad("confirm the invite", `[data-testid="confirm-invite"]`)
	b.shot("invite result")
	return number(b.text(`[data-testid="created"]`))
}
