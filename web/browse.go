package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"roster/internal/onboarding"
	"roster/views"
)

// routesBrowse registers the directory, group and person pages, and the
// selection (which lives next to them: every browse page selects).
func (s *Server) routesBrowse(g *echo.Group) {
	g.GET("/", s.showDirectories)
	g.GET("/directories/:id", s.showDirectory)
	g.GET("/directories/:id/users", s.showDirectoryUsers)
	g.GET("/directories/:id/groups", s.showDirectoryGroups)
	g.GET("/groups/:id", s.showGroup)
	g.GET("/users/:id", s.showPerson)
	s.routesSelection(g)
}

// providerLabels names WorkOS directory types the way admins know them.
var providerLabels = map[string]string{
	"okta scim v2.0":         "Okta (SCIM)",
	"azure scim v2.0":        "Microsoft Entra ID (SCIM)",
	"gsuite directory":       "Google Workspace",
	"generic scim v2.0":      "Generic SCIM",
	"onelogin scim v2.0":     "OneLogin (SCIM)",
	"jump cloud scim v2.0":   "JumpCloud (SCIM)",
	"pingfederate scim v2.0": "PingFederate (SCIM)",
	"rippling scim v2.0":     "Rippling (SCIM)",
	"cyberark scim v2.0":     "CyberArk (SCIM)",
	"sailpoint scim v2.0":    "SailPoint (SCIM)",
	"bamboohr":               "BambooHR",
	"breathe hr":             "Breathe HR",
	"cezanne hr":             "Cezanne HR",
	"fourth hr":              "Fourth HR",
	"hibob":                  "HiBob",
	"people hr":              "People HR",
	"personio":               "Personio",
	"workday":                "Workday",
	"sftp workday":           "Workday (SFTP)",
	"sftp":                   "SFTP",
	"s3":                     "Amazon S3",
}

// providerLabel is a readable name for a directory type; an unknown type
// is shown with capitals and "(SCIM)" for its SCIM suffix.
func providerLabel(typ string) string {
	t := strings.ToLower(strings.TrimSpace(typ))
	if l, ok := providerLabels[t]; ok {
		return l
	}
	if t == "" {
		return "Unknown provider"
	}
	scim := strings.HasSuffix(t, " scim v2.0")
	t = strings.TrimSuffix(t, " scim v2.0")
	words := strings.Fields(t)
	for i, w := range words {
		words[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	l := strings.Join(words, " ")
	if scim {
		l += " (SCIM)"
	}
	return l
}

// directoryState labels a directory's REST state.
func directoryState(state string) (label, class string) {
	switch state {
	case "linked":
		return "Linked", "badge ok"
	case "validating":
		return "Validating", "badge warn"
	case "invalid_credentials":
		return "Invalid credentials", "badge bad"
	case "unlinked":
		return "Unlinked", "badge"
	case "deleting":
		return "Being deleted", "badge warn"
	case "":
		return "Unknown", "badge"
	}
	return strings.ReplaceAll(state, "_", " "), "badge"
}

// personState labels a directory person's state.
func personState(state string) (label, class string) {
	switch state {
	case "active":
		return "Active", "badge ok"
	case "inactive":
		return "Inactive", "badge"
	case "suspended":
		return "Suspended", "badge warn"
	case "":
		return "Unknown", "badge"
	}
	return state, "badge"
}

// fmtCount writes a count with thousands separators: 1,204.
func fmtCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func countOf(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmtCount(n) + " " + many
}

// agoText says how long ago t was, for freshness labels.
func agoText(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	}
	return fmt.Sprintf("%d days ago", int(d.Hours()/24))
}

func whenText(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// listURL is a list page's URL for a query.
func listURL(base string, q onboarding.ListQuery) string {
	if v := q.Values().Encode(); v != "" {
		return base + "?" + v
	}
	return base
}

// pagerFor builds Previous/Next links: Previous asks for the rows before
// the first one shown, Next for the rows after the last one.
func pagerFor(base string, q onboarding.ListQuery, prev, next string) views.Pager {
	var pg views.Pager
	q.After, q.Before = "", ""
	if prev != "" {
		p := q
		p.Before = prev
		pg.PrevHref = templ.SafeURL(listURL(base, p))
	}
	if next != "" {
		n := q
		n.After = next
		pg.NextHref = templ.SafeURL(listURL(base, n))
	}
	pg.Summary = fmt.Sprintf("%d per page", q.Limit)
	return pg
}

func limitOptions(limit int) []views.Option {
	out := make([]views.Option, len(onboarding.PageSizes))
	for i, n := range onboarding.PageSizes {
		out[i] = views.Option{Value: strconv.Itoa(n), Label: strconv.Itoa(n), Selected: n == limit}
	}
	return out
}

func stateOptions(state string) []views.Option {
	return []views.Option{
		{Value: "all", Label: "All", Selected: state == ""},
		{Value: "active", Label: "Active", Selected: state == "active"},
		{Value: "inactive", Label: "Inactive", Selected: state == "inactive"},
	}
}

func userHref(id string) templ.SafeURL  { return templ.SafeURL("/users/" + url.PathEscape(id)) }
func groupHref(id string) templ.SafeURL { return templ.SafeURL("/groups/" + url.PathEscape(id)) }
func dirUsersBase(id string) string     { return "/directories/" + url.PathEscape(id) + "/users" }
func dirGroupsBase(id string) string    { return "/directories/" + url.PathEscape(id) + "/groups" }

// listQuery reads the request's list parameters.
func listQuery(c echo.Context) (onboarding.ListQuery, []string) {
	return onboarding.ParseListQuery(c.QueryParams())
}

func (s *Server) showDirectories(c echo.Context) error {
	act := s.actor(c)
	list, err := s.App.Directories(c.Request().Context(), act)
	if err != nil {
		return err
	}
	now := s.now()
	vm := views.DirectoriesVM{Platform: act.Platform()}
	for _, d := range list {
		r := views.DirectoryRow{
			Name:       d.Name,
			UsersHref:  templ.SafeURL(dirUsersBase(d.ID)),
			GroupsHref: templ.SafeURL(dirGroupsBase(d.ID)),
			Provider:   providerLabel(d.Type),
			Domain:     d.Domain,
			OrgName:    d.OrganizationName,
			Users:      fmtCount(d.Users),
			Groups:     fmtCount(d.Groups),
			Freshness:  "as of " + agoText(now, d.CountedAt),
		}
		if r.Name == "" {
			r.Name = d.ID
		}
		r.StateLabel, r.StateClass = directoryState(d.State)
		switch {
		case d.NeverSynced:
			r.SyncLabel, r.SyncClass = "Not imported yet", "badge warn"
		case d.Syncing && d.SyncPhase == "users" && d.UsersTotal > 0:
			verb := "Importing"
			if d.SyncMode == "reconcile" {
				verb = "Checking"
			}
			r.SyncLabel = fmt.Sprintf("%s %s of %s people", verb, fmtCount(d.UsersDone), fmtCount(d.UsersTotal))
			r.SyncClass, r.ProgressMax, r.ProgressVal = "badge warn", d.UsersTotal, min(d.UsersDone, d.UsersTotal)
		case d.Syncing:
			verb := "Importing"
			if d.SyncMode == "reconcile" {
				verb = "Checking"
			}
			what := map[string]string{"groups": "groups", "users": "people", "memberships": "group members", "finish": "the last details"}[d.SyncPhase]
			if what == "" {
				what = "the directory"
			}
			r.SyncLabel, r.SyncClass = verb+" "+what, "badge warn"
		default:
			r.SyncLabel, r.SyncClass = "Up to date", "badge ok"
		}
		if d.LastErrorKind != "" || d.LastError != "" {
			kind := strings.ReplaceAll(d.LastErrorKind, "_", " ")
			if kind == "" {
				kind = "error"
			}
			r.SyncClass = "badge bad"
			if !d.Syncing {
				r.SyncLabel = "Sync failing"
			}
			r.ErrorText = fmt.Sprintf("Last error (%s, %s): %s", kind, agoText(now, d.LastErrorAt), d.LastError)
		}
		vm.Rows = append(vm.Rows, r)
	}
	return s.render(c, http.StatusOK, views.DirectoriesPage(s.page(c, "Directories", "directories"), vm))
}

// showDirectory sends to the directory's people page — only for a
// directory the admin may see, so another organisation's id is a 404 here
// too, not a redirect.
func (s *Server) showDirectory(c echo.Context) error {
	dir, err := s.App.Directory(c.Request().Context(), s.actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, dirUsersBase(dir.ID))
}

func header(dir onboarding.DirectoryRef, active string) views.DirectoryHeader {
	name := dir.Name
	if name == "" {
		name = dir.ID
	}
	return views.DirectoryHeader{Name: name, OrgName: dir.OrganizationName, Active: active,
		UsersHref: templ.SafeURL(dirUsersBase(dir.ID)), GroupsHref: templ.SafeURL(dirGroupsBase(dir.ID))}
}

func personRows(rows []onboarding.Person) []views.PersonRow {
	out := make([]views.PersonRow, len(rows))
	for i, r := range rows {
		pr := views.PersonRow{ID: r.ID, Name: r.Name, Href: userHref(r.ID), Email: r.Email, JobTitle: r.JobTitle,
			Department: r.Department, Selected: r.Selected}
		pr.StateLabel, pr.StateClass = personState(r.State)
		if r.AccountID != "" {
			pr.AccountHref = templ.SafeURL("/accounts/" + url.PathEscape(r.AccountID))
			pr.AccountLabel = r.AccountState
			if pr.AccountLabel == "" {
				pr.AccountLabel = "account"
			}
		}
		out[i] = pr
	}
	return out
}

const searchHint = "Name, email, job title or department; the start of each word is enough."

func (s *Server) showDirectoryUsers(c echo.Context) error {
	ctx := c.Request().Context()
	act := s.actor(c)
	q, notes := listQuery(c)
	page, err := s.App.DirectoryUsers(ctx, act, c.Param("id"), q)
	if err != nil {
		return err
	}
	base := dirUsersBase(page.Directory.ID)
	used := page.Query
	vm := views.UsersVM{
		Header:      header(page.Directory, "users"),
		Notices:     append(notes, page.Notices...),
		TotalLabel:  countOf(page.Total, "person", "people"),
		GroupName:   page.GroupName,
		Pager:       pagerFor(base, used, page.PrevCursor, page.NextCursor),
		DirectoryID: page.Directory.ID,
		Q:           used.Q, State: used.State, Group: used.Group,
		Table: views.PeopleTableVM{Caption: "People of " + vm0name(page.Directory), Rows: personRows(page.Rows),
			Return: c.Request().URL.RequestURI()},
		Filter: views.ListFilter{Action: templ.SafeURL(base), Q: used.Q, SearchHint: searchHint,
			States: stateOptions(used.State), Limits: limitOptions(used.Limit), Group: used.Group},
	}
	if used.Group != "" {
		noGroup := used
		noGroup.Group, noGroup.After, noGroup.Before = "", "", ""
		vm.ClearGroup = templ.SafeURL(listURL(base, noGroup))
	}
	if len(page.Groups) > 0 {
		vm.Filter.Groups = append(vm.Filter.Groups, views.Option{Value: "", Label: "Any group", Selected: used.Group == ""})
		for _, o := range page.Groups {
			vm.Filter.Groups = append(vm.Filter.Groups, views.Option{Value: o.ID, Label: o.Name, Selected: o.ID == used.Group})
		}
	}
	if page.Total > 0 {
		vm.SelectAll = "Select all " + fmtCount(page.Total) + " matching"
		if page.Total == 1 {
			vm.SelectAll = "Select the 1 match"
		}
	}
	p := s.page(c, vm.Header.Name+" · People", "directories")
	vm.Status = views.SelectionStatusVM{Headcount: int64(p.Selected)}
	return s.render(c, http.StatusOK, views.UsersPage(p, vm))
}

func vm0name(d onboarding.DirectoryRef) string {
	if d.Name != "" {
		return d.Name
	}
	return d.ID
}

func (s *Server) showDirectoryGroups(c echo.Context) error {
	act := s.actor(c)
	q, notes := listQuery(c)
	page, err := s.App.DirectoryGroups(c.Request().Context(), act, c.Param("id"), q)
	if err != nil {
		return err
	}
	base := dirGroupsBase(page.Directory.ID)
	used := page.Query
	vm := views.GroupsVM{
		Header:     header(page.Directory, "groups"),
		Notices:    append(notes, page.Notices...),
		TotalLabel: countOf(page.Total, "group", "groups"),
		Pager:      pagerFor(base, used, page.PrevCursor, page.NextCursor),
		Return:     c.Request().URL.RequestURI(),
		Filter: views.ListFilter{Action: templ.SafeURL(base), Q: used.Q, SearchHint: "Any part of the group's name.",
			Limits: limitOptions(used.Limit)},
	}
	for _, g := range page.Rows {
		vm.Rows = append(vm.Rows, views.GroupRow{ID: g.ID, Name: g.Name, Href: groupHref(g.ID), Members: fmtCount(g.Members), Selected: g.Selected})
	}
	p := s.page(c, vm.Header.Name+" · Groups", "directories")
	vm.Status = views.SelectionStatusVM{Headcount: int64(p.Selected)}
	return s.render(c, http.StatusOK, views.GroupsPage(p, vm))
}

func (s *Server) showGroup(c echo.Context) error {
	act := s.actor(c)
	q, notes := listQuery(c)
	g, err := s.App.Group(c.Request().Context(), act, c.Param("id"), q)
	if err != nil {
		return err
	}
	base := "/groups/" + url.PathEscape(g.ID)
	used := g.People.Query
	vm := views.GroupVM{
		ID: g.ID, Name: g.Name, Directory: vm0name(g.People.Directory), DirHref: templ.SafeURL(dirGroupsBase(g.People.Directory.ID)),
		OrgName:     g.People.Directory.OrganizationName,
		MembersText: countOf(g.Members, "member", "members"),
		Selected:    g.Selected,
		SelectLabel: "Select all " + countOf(g.Members, "member", "members"),
		Notices:     append(notes, g.People.Notices...),
		TotalLabel:  countOf(g.People.Total, "member", "members") + " match",
		Table: views.PeopleTableVM{Caption: "Members of " + g.Name, Rows: personRows(g.People.Rows),
			Return: c.Request().URL.RequestURI()},
		Pager: pagerFor(base, used, g.People.PrevCursor, g.People.NextCursor),
		Filter: views.ListFilter{Action: templ.SafeURL(base), Q: used.Q, SearchHint: searchHint,
			States: stateOptions(used.State), Limits: limitOptions(used.Limit)},
	}
	if g.Members == 1 {
		vm.SelectLabel = "Select the 1 member"
	}
	if used.Q == "" && used.State == "" {
		vm.TotalLabel = ""
	}
	p := s.page(c, g.Name, "directories")
	vm.Status = views.SelectionStatusVM{Headcount: int64(p.Selected)}
	return s.render(c, http.StatusOK, views.GroupPage(p, vm))
}

func (s *Server) showPerson(c echo.Context) error {
	act := s.actor(c)
	d, err := s.App.Person(c.Request().Context(), act, c.Param("id"))
	if err != nil {
		return err
	}
	vm := views.PersonVM{ID: d.ID, Name: d.Name, Directory: vm0name(d.Directory), DirHref: templ.SafeURL(dirUsersBase(d.Directory.ID)),
		Selected: d.Selected, Return: c.Request().URL.RequestURI()}
	vm.StateLabel, vm.StateClass = personState(d.State)
	roles := strings.Join(d.Roles, ", ")
	vm.Attrs = []views.Attr{
		{Name: "First name", Value: d.FirstName},
		{Name: "Last name", Value: d.LastName},
		{Name: "Full name", Value: d.FullName},
		{Name: "Email", Value: d.Email},
		{Name: "Username", Value: d.Username},
		{Name: "Job title", Value: d.JobTitle},
		{Name: "Department", Value: d.Department},
		{Name: "Manager email", Value: d.ManagerEmail},
		{Name: "State", Value: vm.StateLabel},
		{Name: "Role", Value: d.Role},
		{Name: "Roles", Value: roles},
		{Name: "Organisation", Value: d.Directory.OrganizationName},
		{Name: "IdP id", Value: d.IdpID},
		{Name: "Directory user id", Value: d.ID},
		{Name: "Created at the source", Value: whenText(d.CreatedAt)},
		{Name: "Updated at the source", Value: whenText(d.UpdatedAt)},
	}
	if d.LastEventID != "" {
		vm.Attrs = append(vm.Attrs, views.Attr{Name: "Last event", Value: d.LastEventID})
	}
	for _, e := range d.Emails {
		line := e.Value
		var tags []string
		if e.Type != "" {
			tags = append(tags, e.Type)
		}
		if e.Primary {
			tags = append(tags, "primary")
		}
		if len(tags) > 0 {
			line += " (" + strings.Join(tags, ", ") + ")"
		}
		vm.Emails = append(vm.Emails, line)
	}
	for _, a := range d.Custom {
		vm.Custom = append(vm.Custom, views.Attr{Name: a.Name, Value: a.Value})
	}
	for _, g := range d.Groups {
		vm.Groups = append(vm.Groups, views.LinkItem{Label: g.Name, Href: groupHref(g.ID)})
	}
	if d.HasAccount {
		vm.HasAccount = true
		vm.AccountHref = templ.SafeURL("/accounts/" + url.PathEscape(d.AccountID))
		vm.AccountText = strings.TrimSpace(fmt.Sprintf("%s · %s %s", d.AccountEmail, d.AccountState, d.AccountRole))
	}
	for _, h := range d.History {
		vm.History = append(vm.History, views.HistoryRow{When: whenText(h.At), Action: h.Action, Detail: h.Detail})
	}
	p := s.page(c, d.Name, "directories")
	vm.Status = views.SelectionStatusVM{Headcount: int64(p.Selected)}
	return s.render(c, http.StatusOK, views.PersonPage(p, vm))
}
