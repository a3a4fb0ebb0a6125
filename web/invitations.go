package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"roster/internal/onboarding"
	"roster/views"
)

// keyset reads the before/after cursors of a newest-first list; a cursor
// that is not a positive id is dropped with a notice (first page instead).
func keyset(c echo.Context) (before, after int64, notice string) {
	for _, k := range []string{"before", "after"} {
		v := c.QueryParam(k)
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return 0, 0, "That page link is not valid, so the first page is shown."
		}
		if k == "before" {
			before = n
		} else {
			after = n
		}
	}
	if before > 0 && after > 0 {
		return 0, 0, "That page link is not valid, so the first page is shown."
	}
	return before, after, ""
}

// listHref is path with the kept filters and one cursor.
func listHref(path string, filters url.Values, cursor string, id int64) templ.SafeURL {
	v := url.Values{}
	for k, vs := range filters {
		if len(vs) > 0 && vs[0] != "" {
			v.Set(k, vs[0])
		}
	}
	if cursor != "" {
		v.Set(cursor, strconv.FormatInt(id, 10))
	}
	if len(v) == 0 {
		return templ.SafeURL(path)
	}
	return templ.SafeURL(path + "?" + v.Encode())
}

var invitationStatuses = []string{onboarding.InvitationPending, onboarding.InvitationAccepted, onboarding.InvitationExpired, onboarding.InvitationRevoked}

func invitationRow(inv onboarding.Invitation) views.InvitationRow {
	name := inv.DisplayName
	if name == "" {
		name = strings.TrimSpace(inv.FirstName + " " + inv.LastName)
	}
	return views.InvitationRow{
		ID: strconv.FormatInt(inv.ID, 10), Email: inv.Email, Name: name,
		AccountHref: templ.SafeURL("/accounts/" + strconv.FormatInt(inv.AccountID, 10)),
		Status:      inv.Status, Created: inv.CreatedAt.UTC().Format("2006-01-02 15:04"),
		Expires: inv.ExpiresAt.UTC().Format("2006-01-02 15:04"), InvitedBy: inv.InvitedBy, Resends: inv.ResendCount,
		CanResend: inv.Status != onboarding.InvitationAccepted, CanRevoke: inv.Status == onboarding.InvitationPending,
	}
}

func (s *Server) showInvitations(c echo.Context) error {
	act := s.actor(c)
	f := onboarding.InvitationFilter{Query: strings.TrimSpace(c.QueryParam("q")), Limit: 50}
	vm := views.InvitationsVM{Query: f.Query}
	filters := url.Values{}
	filters.Set("q", f.Query)
	if st := c.QueryParam("status"); st != "" {
		for _, v := range invitationStatuses {
			if st == v {
				f.Status = st
			}
		}
		if f.Status == "" {
			vm.Notice = "Unknown status " + strconv.Quote(st) + "; showing every status."
		}
	}
	vm.Status = f.Status
	filters.Set("status", f.Status)
	if b := c.QueryParam("batch"); b != "" {
		if n, err := strconv.ParseInt(b, 10, 64); err == nil && n > 0 {
			f.BatchID = n
			vm.Batch = b
			filters.Set("batch", b)
		}
	}
	var notice string
	f.BeforeID, f.AfterID, notice = keyset(c)
	if notice != "" {
		vm.Notice = notice
	}
	list, total, older, newer, err := s.App.Invitations(c.Request().Context(), act, f)
	if err != nil {
		return err
	}
	if len(list) == 0 && (f.BeforeID > 0 || f.AfterID > 0) {
		// A stale cursor: show the first page rather than nothing.
		f.BeforeID, f.AfterID = 0, 0
		vm.Notice = "That page no longer exists, so the first page is shown."
		if list, total, older, newer, err = s.App.Invitations(c.Request().Context(), act, f); err != nil {
			return err
		}
	}
	vm.Total = total
	vm.Statuses = []views.Option{{Value: "", Label: "All statuses"}}
	for _, st := range invitationStatuses {
		vm.Statuses = append(vm.Statuses, views.Option{Value: st, Label: st})
	}
	for _, inv := range list {
		vm.Rows = append(vm.Rows, invitationRow(inv))
	}
	if len(list) > 0 {
		if older {
			vm.Pager.OlderHref = listHref("/invitations", filters, "before", list[len(list)-1].ID)
		}
		if newer {
			vm.Pager.NewerHref = listHref("/invitations", filters, "after", list[0].ID)
			vm.Pager.FirstHref = listHref("/invitations", filters, "", 0)
		}
	}
	return s.render(c, http.StatusOK, views.InvitationsPage(s.page(c, "Invitations", "invitations"), vm))
}

// backTo returns to the page the form was on when it is a local invitations
// or accounts page, else to the invitations list.
func backTo(c echo.Context) string {
	ref, err := url.Parse(c.Request().Referer())
	if err == nil && (strings.HasPrefix(ref.Path, "/invitations") || strings.HasPrefix(ref.Path, "/accounts/")) && ref.Host == c.Request().Host {
		return safeNext(ref.RequestURI())
	}
	return "/invitations"
}

func (s *Server) submitResend(c echo.Context) error {
	id, err := parseID(c)
	if err != nil {
		return err
	}
	inv, err := s.App.Resend(c.Request().Context(), s.actor(c), id)
	if err != nil {
		return err
	}
	s.setFlash(c, "ok", "A new invitation was sent to "+inv.Email+"; the previous link no longer works.")
	return c.Redirect(http.StatusSeeOther, backTo(c))
}

func (s *Server) submitRevoke(c echo.Context) error {
	id, err := parseID(c)
	if err != nil {
		return err
	}
	inv, err := s.App.Revoke(c.Request().Context(), s.actor(c), id)
	if err != nil {
		return err
	}
	s.setFlash(c, "ok", "The invitation of "+inv.Email+" was revoked; its link no longer works.")
	return c.Redirect(http.StatusSeeOther, backTo(c))
}
