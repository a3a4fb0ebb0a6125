package web

import (
	"encoding/csv"
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

// accountsCSVHeader is the exact header of GET /accounts.csv.
var accountsCSVHeader = []string{"id", "email", "first_name", "last_name", "job_title", "department", "role", "state",
	"directory_id", "directory_user_id", "created_at", "updated_at"}

// accountFilter reads the accounts filters (shared by the page and the CSV)
// and the filter values to keep in links.
func accountFilter(c echo.Context) (onboarding.AccountFilter, url.Values, string) {
	f := onboarding.AccountFilter{
		Query:       strings.TrimSpace(c.QueryParam("q")),
		DirectoryID: strings.TrimSpace(c.QueryParam("directory")),
		Role:        strings.TrimSpace(c.QueryParam("role")),
		Limit:       50,
	}
	var notice string
	if st := c.QueryParam("state"); st != "" {
		for _, v := range onboarding.AccountStates {
			if st == v {
				f.State = st
			}
		}
		if f.State == "" {
			notice = "Unknown state " + strconv.Quote(st) + "; showing every state."
		}
	}
	keep := url.Values{}
	keep.Set("q", f.Query)
	keep.Set("state", f.State)
	keep.Set("directory", f.DirectoryID)
	keep.Set("role", f.Role)
	return f, keep, notice
}

func accountName(a onboarding.Account) string {
	if n := strings.TrimSpace(a.FirstName + " " + a.LastName); n != "" {
		return n
	}
	return a.DisplayName
}

func (s *Server) showAccounts(c echo.Context) error {
	ctx := c.Request().Context()
	act := s.actor(c)
	f, keep, notice := accountFilter(c)
	var cursorNotice string
	f.BeforeID, f.AfterID, cursorNotice = keyset(c)
	vm := views.AccountsVM{Query: f.Query, State: f.State, Directory: f.DirectoryID, Role: f.Role, Notice: notice,
		CSVHref: listHref("/accounts.csv", keep, "", 0)}
	if cursorNotice != "" {
		vm.Notice = cursorNotice
	}
	list, total, older, newer, err := s.App.Accounts(ctx, act, f)
	if err != nil {
		return err
	}
	if len(list) == 0 && (f.BeforeID > 0 || f.AfterID > 0) {
		f.BeforeID, f.AfterID = 0, 0
		vm.Notice = "That page no longer exists, so the first page is shown."
		if list, total, older, newer, err = s.App.Accounts(ctx, act, f); err != nil {
			return err
		}
	}
	vm.Total = total
	dirs, roles, err := s.App.AccountFilterOptions(ctx, act)
	if err != nil {
		return err
	}
	vm.States = []views.Option{{Value: "", Label: "All states"}}
	for _, st := range onboarding.AccountStates {
		vm.States = append(vm.States, views.Option{Value: st, Label: st})
	}
	vm.Directories = []views.Option{{Value: "", Label: "All directories"}}
	for _, d := range dirs {
		vm.Directories = append(vm.Directories, views.Option{Value: d[0], Label: d[1]})
	}
	vm.Roles = []views.Option{{Value: "", Label: "All roles"}}
	for _, r := range roles {
		vm.Roles = append(vm.Roles, views.Option{Value: r.Slug, Label: r.Name})
	}
	for _, a := range list {
		last := "never"
		if !a.LastDirectoryUpdateAt.IsZero() {
			last = a.LastDirectoryUpdateAt.UTC().Format("2006-01-02 15:04")
		}
		dir := a.DirectoryName
		if dir == "" {
			dir = a.DirectoryID
		}
		vm.Rows = append(vm.Rows, views.AccountRow{ID: strconv.FormatInt(a.ID, 10), Href: templ.SafeURL("/accounts/" + strconv.FormatInt(a.ID, 10)),
			Email: a.Email, Name: accountName(a), Directory: dir, State: a.State, Role: a.Role, LastUpdate: last,
			Created: a.CreatedAt.UTC().Format("2006-01-02 15:04")})
	}
	if len(list) > 0 {
		if older {
			vm.Pager.OlderHref = listHref("/accounts", keep, "before", list[len(list)-1].ID)
		}
		if newer {
			vm.Pager.NewerHref = listHref("/accounts", keep, "after", list[0].ID)
			vm.Pager.FirstHref = listHref("/accounts", keep, "", 0)
		}
	}
	return s.render(c, http.StatusOK, views.AccountsPage(s.page(c, "Accounts", "accounts"), vm))
}

// accountCSVSafe neutralises spreadsheet formulas: a value starting with = + - @
// (or a tab or carriage return) is prefixed with a quote.
func accountCSVSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// exportAccounts streams the filtered accounts as CSV, row by row.
func (s *Server) exportAccounts(c echo.Context) error {
	f, _, _ := accountFilter(c)
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, `attachment; filename="accounts.csv"`)
	h.Set("Cache-Control", "no-store")
	w := csv.NewWriter(c.Response())
	started := false
	start := func() error {
		if started {
			return nil
		}
		started = true
		c.Response().WriteHeader(http.StatusOK)
		return w.Write(accountsCSVHeader)
	}
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	n := 0
	err := s.App.StreamAccounts(c.Request().Context(), s.actor(c), f, func(a onboarding.Account) error {
		if err := start(); err != nil {
			return err
		}
		rec := []string{strconv.FormatInt(a.ID, 10), a.Email, a.FirstName, a.LastName, a.JobTitle, a.Department, a.Role, a.State,
			a.DirectoryID, a.DirectoryUserID, ts(a.CreatedAt), ts(a.UpdatedAt)}
		for i := range rec {
			rec[i] = accountCSVSafe(rec[i])
		}
		if err := w.Write(rec); err != nil {
			return err
		}
		if n++; n%500 == 0 {
			w.Flush()
		}
		return w.Error()
	})
	if err != nil {
		if !started {
			return err // nothing sent yet: a proper error page
		}
		s.reqLog(c).Error("accounts export interrupted", "err", err, "rows", n)
		return nil
	}
	if err := start(); err != nil {
		return err
	}
	w.Flush()
	return w.Error()
}

func (s *Server) showAccountDetail(c echo.Context) error {
	id, err := parseID(c)
	if err != nil {
		return err
	}
	d, err := s.App.Account(c.Request().Context(), s.actor(c), id)
	if err != nil {
		return err
	}
	a := d.Account
	last := "never"
	if !a.LastDirectoryUpdateAt.IsZero() {
		last = a.LastDirectoryUpdateAt.UTC().Format("2006-01-02 15:04 UTC")
	}
	role := a.Role
	if a.RoleOverridden {
		role += " (chosen at invite)"
	}
	dir := a.DirectoryName
	if dir == "" {
		dir = a.DirectoryID
	}
	vm := views.AccountDetailVM{Title: a.Email, State: a.State, Attrs: []views.AccountAttr{
		{Label: "Email", Value: a.Email}, {Label: "First name", Value: a.FirstName}, {Label: "Last name", Value: a.LastName},
		{Label: "Display name", Value: a.DisplayName}, {Label: "Job title", Value: a.JobTitle}, {Label: "Department", Value: a.Department},
		{Label: "Manager", Value: a.Manager}, {Label: "Location", Value: a.Location}, {Label: "Phone", Value: a.Phone},
		{Label: "Role", Value: role}, {Label: "Source directory", Value: dir}, {Label: "Directory user", Value: a.DirectoryUserID},
		{Label: "Last directory update", Value: last}, {Label: "Created", Value: a.CreatedAt.UTC().Format("2006-01-02 15:04 UTC")},
	}}
	if a.DirectoryUserID != "" {
		vm.UserHref = templ.SafeURL("/users/" + url.PathEscape(a.DirectoryUserID))
	}
	if d.Invitation != nil {
		r := invitationRow(*d.Invitation)
		vm.Invitation = &r
	}
	for _, h := range d.History {
		vm.History = append(vm.History, views.AccountChangeRow{At: h.At.UTC().Format("2006-01-02 15:04:05"), Field: h.Field,
			Old: h.OldValue, New: h.NewValue, EventID: h.EventID, Source: h.Source, Actor: h.Actor})
	}
	return s.render(c, http.StatusOK, views.AccountDetailPage(s.page(c, a.Email, "accounts"), vm))
}
