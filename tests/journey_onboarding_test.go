package tests

import (
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestJourney_Onboarding (issue 6): sign in → directories → a directory's
// groups → a group → select people on several users pages and a whole
// group → the tray's head-count → review buckets (checked against the
// sandbox's own data) → invite → result counts → Mailbox → accept in a
// fresh browser → the account is active with pre-filled attributes.
func TestJourney_Onboarding(t *testing.T) {
	b, _ := newTestBrowser(t)
	a := startApp(t)
	st := a.sandboxState(t)
	dir := st.directory(t, "Northwind Okta")

	// The group to select whole: the smallest with 3+ members whose name
	// is plain (the hostile names have their own test).
	var group sbGroup
	best := 1 << 30
	for _, g := range st.Groups {
		n := len(st.members(g.ID))
		if g.DirectoryID == dir.ID && n >= 3 && n < best && !strings.ContainsAny(g.Name, "<>\"'&") {
			group, best = g, n
		}
	}
	if group.ID == "" {
		t.Fatalf("no group with 3+ members in %s", dir.Name)
	}
	// Two people the review must exclude, hired into that group through the
	// sandbox's control API: one without email, one outside the
	// organisation's domains.
	a.sandbox(t, "POST", "/_sandbox/directories/"+dir.ID+"/users", map[string]any{
		"first_name": "Nomail", "last_name": "Person", "email": nil, "job_title": "Courier", "group_ids": []string{group.ID}})
	a.sandbox(t, "POST", "/_sandbox/directories/"+dir.ID+"/users", map[string]any{
		"first_name": "Freelance", "last_name": "Person", "email": "freelance.person@freelance-mail.example", "job_title": "Contractor", "group_ids": []string{group.ID}})
	st = a.sandboxState(t)
	groupMembers := st.members(group.ID)
	dirUsers := 0
	for _, u := range st.Users {
		if u.DirectoryID == dir.ID {
			dirUsers++
		}
	}

	b.signIn(a)
	b.shot("signed in")
	b.waitDirectoryUsers(a, dir.ID, dirUsers, 90*time.Second)

	// Directories → the directory's groups → the group.
	b.open(a.URL + "/")
	b.shot("directories")
	b.clickLoad("open the groups of "+dir.Name, `[data-testid="directory-row"] a[href="/directories/`+dir.ID+`/groups"]`)
	b.shot("groups")
	b.clickLoad("open group "+group.Name, `[data-testid="group-row"] a[href="/groups/`+group.ID+`"]`)
	// The member count shows before confirming; wait for the sync of the
	// two hires' memberships.
	groupURL := b.location()
	waitFor(t, "group head-count", 30*time.Second, func() string {
		if got := number(b.text(`[data-testid="select-group"]`)); got != len(groupMembers) {
			b.do("reload group", chromedp.Navigate(groupURL))
			return "button says " + b.text(`[data-testid="select-group"]`) + ", want " + itoa(len(groupMembers))
		}
		return ""
	})
	b.shot("group")
	if label := b.text(`[data-testid="select-group"]`); !strings.Contains(label, "Select all") {
		t.Errorf("group button %q, want “Select all N members”", label)
	}

	picked := map[string]bool{} // directly selected people
	want := func() int {
		all := map[string]bool{}
		for id := range picked {
			all[id] = true
		}
		if picked["group"] {
			for _, id := range groupMembers {
				all[id] = true
			}
		}
		delete(all, "group")
		return len(all)
	}
	tickAndAdd := func(step string, ids []string) {
		t.Helper()
		for _, id := range ids {
			b.tick(id)
			picked[id] = true
		}
		b.shot(step + " ticked")
		b.clickSwap(step+": add ticked people", `[data-testid="people-form"] [data-testid="add-checked"]`, `[data-testid="selection-status"]`)
		b.shot(step + " added")
		if got := b.headcount(); got != want() {
			t.Errorf("%s: head-count %d, want %d", step, got, want())
		}
	}
	unpicked := func(n int) []string {
		var ids []string
		for _, id := range b.rowIDs(`[data-testid="person-row"]`) {
			if !picked[id] && len(ids) < n {
				ids = append(ids, id)
			}
		}
		if len(ids) < n {
			b.shot("FAILED-rows")
			t.Fatalf("%s lists %d new people, want %d", b.location(), len(ids), n)
		}
		return ids
	}

	// Users page 1 (10 a page), then Next, then the inactive filter, then
	// a member of the group (selected twice: directly and via the group).
	b.open(a.URL + "/directories/" + dir.ID + "/users?limit=10")
	b.shot("users page 1")
	page1 := b.rowIDs(`[data-testid="person-row"]`)
	tickAndAdd("users page 1", unpicked(3))
	b.clickLoad("next page", `[data-testid="next"]`)
	b.shot("users page 2")
	if p2 := b.rowIDs(`[data-testid="person-row"]`); len(p2) == 0 || slices.Contains(page1, p2[0]) {
		t.Fatalf("Next shows %v, which overlaps page 1 %v", p2, page1)
	}
	tickAndAdd("users page 2", unpicked(2))

	inactive := 0
	for _, u := range st.Users {
		if u.DirectoryID == dir.ID && u.State != "active" {
			inactive++
		}
	}
	if inactive > 0 {
		b.do("filter inactive", chromedp.SetValue(chromedp.CSS("#state"), "inactive"))
		b.clickLoad("apply the filter", `[data-testid="filter"] button[type=submit]`)
		b.shot("inactive people")
		ids := unpicked(1)
		if u, _ := st.user(ids[0]); u.State == "active" {
			t.Errorf("the inactive filter lists %s, who is active", ids[0])
		}
		tickAndAdd("inactive filter", ids)
	}
	b.open(a.URL + "/directories/" + dir.ID + "/users?group=" + group.ID)
	b.shot("group members as a users page")
	var member string
	for _, id := range b.rowIDs(`[data-testid="person-row"]`) {
		if u, _ := st.user(id); !picked[id] && u.State == "active" && u.email() != "" && strings.HasSuffix(u.email(), "northwind.example") {
			member = id
			break
		}
	}
	if member == "" {
		t.Fatalf("group %s lists no active member with a northwind email", group.Name)
	}
	tickAndAdd("group filter", []string{member})

	// The whole group.
	b.open(groupURL)
	b.clickSwap("select the whole group", `[data-testid="select-group"]`, `[data-testid="selection-status"]`)
	picked["group"] = true
	b.shot("group selected")
	if got := b.headcount(); got != want() {
		t.Errorf("after selecting the group: head-count %d, want %d", got, want())
	}
	if got := b.trayCount(); got != want() {
		t.Errorf("tray shows %d people, want %d", got, want())
	}
	b.shot("tray")

	// Expected buckets, from the sandbox's data.
	people := map[string]bool{}
	paths := map[string]int{}
	for id := range picked {
		if id != "group" {
			people[id] = true
			paths[id]++
		}
	}
	for _, id := range groupMembers {
		people[id] = true
		paths[id]++
	}
	wantBuckets := map[string][]string{}
	var wantDup []string
	for id := range people {
		u, ok := st.user(id)
		if !ok {
			t.Fatalf("selected %s, not in the sandbox", id)
		}
		k := st.bucketOf(u)
		wantBuckets[k] = append(wantBuckets[k], id)
		if paths[id] > 1 {
			wantDup = append(wantDup, id)
		}
	}
	for _, ids := range wantBuckets {
		sort.Strings(ids)
	}
	if len(wantBuckets["no_email"]) == 0 || len(wantBuckets["domain"]) == 0 || len(wantDup) == 0 {
		t.Fatalf("test setup: the selection should hold a no-email person, an outside domain and a duplicate: %v dup %v", wantBuckets, wantDup)
	}

	// Review.
	b.clickLoad("open the selection from the tray", `[data-testid="tray"] a[href="/selection"]`)
	b.shot("selection")
	if got := number(b.text(`[data-testid="headcount"]`)); got != len(people) {
		t.Errorf("selection page says %d people, want %d", got, len(people))
	}
	b.clickLoad("review", `[data-testid="review"]`)
	b.shot("review")
	counts := b.reviewCounts()
	for _, k := range []string{"new", "inactive", "no_email", "domain", "existing", "pending"} {
		if counts[k] != len(wantBuckets[k]) {
			t.Errorf("review bucket %s: %d, want %d (%s)", k, counts[k], len(wantBuckets[k]), fmtIDs(wantBuckets[k]))
		}
	}
	if counts["duplicates"] != len(wantDup) {
		t.Errorf("review duplicates: %d, want %d (%s)", counts["duplicates"], len(wantDup), fmtIDs(wantDup))
	}
	newRows := b.rowIDs(`[data-testid="new-row"]`)
	sort.Strings(newRows)
	if b.count(`[data-testid="new-more"]`) == 0 && !slices.Equal(newRows, wantBuckets["new"]) {
		t.Errorf("review lists new accounts %s, want %s", fmtIDs(newRows), fmtIDs(wantBuckets["new"]))
	}
	for _, k := range []string{"inactive", "no_email", "domain"} {
		got := b.rowIDs(`[data-testid="bucket-` + k + `"] [data-testid="bucket-row"]`)
		sort.Strings(got)
		if !slices.Equal(got, wantBuckets[k]) {
			t.Errorf("review bucket %s lists %s, want %s", k, fmtIDs(got), fmtIDs(wantBuckets[k]))
		}
	}
	// Each new account shows its pre-filled job title and a role.
	newText := strings.Join(b.texts(`[data-testid="new-row"]`), "\n")
	for _, id := range newRows {
		u, _ := st.user(id)
		if jt := u.custom("job_title"); jt != "" && !strings.Contains(newText, jt) {
			t.Errorf("review: new account %s lacks its job title %q", id, jt)
		}
	}
	if n := b.count(`[data-testid="new-row"] select[data-testid="role-select"]`); n != len(newRows) {
		t.Errorf("review: %d role choices for %d new accounts", n, len(newRows))
	}

	// Invite.
	b.clickLoad("confirm the invite", `[data-testid="confirm-invite"]`)
	b.shot("invite result")
	if got := number(b.text(`[data-testid="created"]`)); got != len(wantBuckets["new"]) {
		t.Errorf("result: %d created, want %d", got, len(wantBuckets["new"]))
	}
	if excluded := len(wantBuckets["inactive"]) + len(wantBuckets["no_email"]) + len(wantBuckets["domain"]); excluded > 0 {
		refused := 0
		if b.count(`[data-testid="refused"]`) > 0 {
			for _, line := range b.texts(`[data-testid="refused"] li`) {
				refused += max(0, number(line[strings.LastIndex(line, ":")+1:]))
			}
		}
		if refused != excluded {
			t.Errorf("result: %d refused, want %d (inactive, no email, domain)", refused, excluded)
		}
	}
	if got := b.trayCount(); got != 0 {
		t.Errorf("after inviting, the tray still shows %d people", got)
	}

	// Mailbox: one invitation per new account, none to the excluded.
	var newEmails []string
	for _, id := range wantBuckets["new"] {
		u, _ := st.user(id)
		newEmails = append(newEmails, strings.ToLower(u.email()))
	}
	sort.Strings(newEmails)
	waitFor(t, "invitations in the Mailbox", 30*time.Second, func() string {
		b.open(a.URL + "/mailbox")
		var got []string
		for _, to := range eval[[]string](b, `Array.from(document.querySelectorAll('[data-testid="mail-row"]')).filter(r=>r.cells[2].innerText.includes("invit")).map(r=>r.cells[0].innerText.trim().toLowerCase())`) {
			got = append(got, to)
		}
		sort.Strings(got)
		if !slices.Equal(got, newEmails) {
			return "invitations to " + strings.Join(got, ", ") + "; want " + strings.Join(newEmails, ", ")
		}
		return ""
	})
	b.shot("mailbox")

	// The invitations page lists them, pending.
	b.open(a.URL + "/invitations?status=pending")
	b.shot("invitations")
	if got := number(b.text(`[data-testid="invitations-total"]`)); got != len(newEmails) {
		t.Errorf("invitations page: %d pending, want %d", got, len(newEmails))
	}
	if bad := eval[int](b, `document.querySelectorAll('[data-testid="invitation-row"]:not([data-status="pending"])').length`); bad != 0 {
		t.Errorf("the pending filter lists %d invitations that are not pending", bad)
	}

	// The invitee: a new account with a job title in the directory.
	var invitee sbUser
	for _, id := range wantBuckets["new"] {
		if u, _ := st.user(id); u.custom("job_title") != "" && invitee.ID == "" {
			invitee = u
		}
	}
	if invitee.ID == "" {
		t.Fatal("no new account with a job title to accept")
	}
	link := b.invitationLink(a, invitee.email(), 10*time.Second)
	b.acceptInvitation(link, invitee)

	// Back as the admin: the account is active, pre-filled.
	b.openAccount(a, invitee.email())
	b.shot("account")
	text := b.mainText()
	for _, want := range []string{invitee.email(), invitee.first(), invitee.last(), invitee.custom("job_title"), invitee.custom("department")} {
		if want != "" && !strings.Contains(text, want) {
			t.Errorf("account page lacks %q; text:\n%s", want, text)
		}
	}
	if st := b.accountState(); st != "active" {
		t.Errorf("account state %q, want active", st)
	}
}
