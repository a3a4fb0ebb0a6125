package tests

import (
	"strings"
	"testing"
	"time"
)

// TestAccessibility_MainPages runs axe-core (WCAG 2.1 A/AA and best
// practices) on every main page, signed in and signed out, with data on
// them (a selection, an invitation, an account), and fails on serious or
// critical violations.
func TestAccessibility_MainPages(t *testing.T) {
	axe := loadAxe(t)
	b, _ := newTestBrowser(t)
	a := startApp(t, "SANDBOX_PRESET=small")
	st := a.sandboxState(t)
	dir := st.Directories[0]
	var people []sbUser
	total := 0
	for _, u := range st.Users {
		if u.DirectoryID != dir.ID {
			continue
		}
		total++
		if st.bucketOf(u) == "new" && !strings.ContainsAny(u.first()+u.last(), "<>\"'") && len(people) < 2 {
			people = append(people, u)
		}
	}
	if len(people) < 2 {
		t.Fatalf("the small preset has fewer than two people to invite")
	}
	var group string
	for _, g := range st.Groups {
		if g.DirectoryID == dir.ID && len(st.members(g.ID)) > 0 {
			group = g.ID
			break
		}
	}

	b.signIn(a)
	b.waitDirectoryUsers(a, dir.ID, total, 60*time.Second)

	start := time.Now()
	check := func(name, url string) {
		t.Helper()
		t.Logf("%6.1fs %s", time.Since(start).Seconds(), name)
		if st := b.status(url); st != 200 {
			b.shot("status-" + name)
			t.Errorf("%s (%s) answers %d", name, url, st)
			return
		}
		b.waitJS(name+" loaded", `document.readyState === "complete"`, 10*time.Second)
		b.shot(name)
		b.axeCheck(axe, name)
	}
	check("directories", a.URL+"/")
	check("users", a.URL+"/directories/"+dir.ID+"/users")
	check("groups", a.URL+"/directories/"+dir.ID+"/groups")
	if group != "" {
		check("group", a.URL+"/groups/"+group)
	}
	check("user", a.URL+"/users/"+people[0].ID)

	// An invitation (for the invitations, accounts and public pages).
	b.selectOne(a, people[0].ID)
	if n := b.inviteSelection(a); n != 1 {
		t.Fatalf("invite created %d accounts, want 1", n)
	}
	b.axeCheck(axe, "invite-result")
	link := b.invitationLink(a, people[0].email(), 30*time.Second)
	b.axeCheck(axe, "mailbox-message")

	// Something selected, for the selection and review pages.
	b.selectOne(a, people[1].ID)
	check("selection", a.URL+"/selection")
	check("selection-review", a.URL+"/selection/review")
	if b.count(`[data-testid="new-row"]`) == 0 {
		t.Errorf("the review page lists no new account for the selected %s", people[1].ID)
	}

	check("invitations", a.URL+"/invitations")
	check("accounts", a.URL+"/accounts")
	accountURL := b.openAccount(a, people[0].email())
	check("account", accountURL)
	check("sync", a.URL+"/sync")
	if b.mark(`Array.from(document.querySelectorAll('main a[href^="/sync/"]'))[0]`) {
		check("sync-detail", a.URL+b.attr(markSel, "href"))
	} else {
		t.Errorf("/sync links to no directory's sync page")
	}
	check("audit", a.URL+"/audit")
	check("settings", a.URL+"/settings")
	check("settings-policies", a.URL+"/settings/policies")
	check("review-queue", a.URL+"/review")
	check("mailbox", a.URL+"/mailbox")
	check("organizations", a.URL+"/organizations")
	if b.mark(`Array.from(document.querySelectorAll('main a[href^="/organizations/"]'))[0]`) {
		check("organization", a.URL+b.attr(markSel, "href"))
	} else {
		t.Errorf("/organizations lists no organisation")
	}
	check("account-self", a.URL+"/account")

	// Signed out: the sign-in page and the invitee's page.
	out := b.fresh()
	if st := out.status(a.URL + "/login"); st != 200 {
		t.Errorf("/login answers %d", st)
	}
	out.shot("login")
	out.axeCheck(axe, "login")
	if st := out.status(link); st != 200 {
		t.Errorf("%s answers %d", link, st)
	}
	out.shot("public invitation")
	out.axeCheck(axe, "public-invitation")
}
