package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"roster/internal/onboarding"
	"roster/views"
)

// routesSelection registers the selection: the tray page and the changes
// every browse page posts. Registered by routesBrowse.
func (s *Server) routesSelection(g *echo.Group) {
	g.GET("/selection", s.showSelection)
	g.POST("/selection/users", s.submitSelectUsers)
	g.POST("/selection/users/remove", s.submitUnselectUsers)
	g.POST("/selection/users/all", s.submitSelectMatching)
	g.POST("/selection/groups", s.submitSelectGroups)
	g.POST("/selection/groups/remove", s.submitUnselectGroups)
	g.POST("/selection/remove", s.submitUnselectOne)
	g.POST("/selection/clear", s.submitClearSelection)
}

// trayCount is the number of distinct people in the signed-in admin's
// selection (0 when nobody is signed in). It runs on every page render, so
// it is one query; a failure only hides the tray.
func (s *Server) trayCount(c echo.Context) int {
	act, ok := actorFrom(c)
	if !ok || s.App == nil {
		return 0
	}
	n, err := s.App.SelectionHeadcount(c.Request().Context(), act)
	if err != nil {
		s.reqLog(c).Warn("count selection", "err", err)
		return 0
	}
	return int(n)
}

// formIDs reads the ticked ids of a selection form (ids, or ids[] as some
// clients send them).
func formIDs(c echo.Context) ([]string, error) {
	form, err := c.FormParams()
	if err != nil {
		return nil, echo.NewHTTPError(http.StatusBadRequest, "unreadable form")
	}
	return append(form["ids"], form["ids[]"]...), nil
}

// invalidMessage is the human part of an onboarding.ErrInvalid error.
func invalidMessage(err error) string {
	msg := strings.TrimPrefix(err.Error(), onboarding.ErrInvalid.Error()+": ")
	if msg != "" {
		msg = strings.ToUpper(msg[:1]) + msg[1:]
	}
	return msg
}

// selectionChanged answers a selection change: with htmx, the updated
// selection line in place; otherwise a flash and a 303 back to the page
// the form came from (only a local path is accepted as "return").
func (s *Server) selectionChanged(c echo.Context, msg string, err error) error {
	kind := "ok"
	if err != nil {
		if !errors.Is(err, onboarding.ErrInvalid) {
			return err
		}
		kind, msg = "warn", invalidMessage(err)
	}
	if c.Request().Header.Get("HX-Request") == "true" {
		n, cerr := s.App.SelectionHeadcount(c.Request().Context(), s.actor(c))
		if cerr != nil {
			return cerr
		}
		return s.render(c, http.StatusOK, views.SelectionStatus(views.SelectionStatusVM{Headcount: n, Message: msg}))
	}
	s.setFlash(c, kind, msg+".")
	return c.Redirect(http.StatusSeeOther, safeNext(c.FormValue("return")))
}

func addedMessage(n int64, one, many string) string {
	if n == 0 {
		return "Nothing new: already in the selection"
	}
	return countOf(n, one, many) + " added to the selection"
}

func removedMessage(n int64, one, many string) string {
	if n == 0 {
		return "Nothing to remove: not in the selection"
	}
	return countOf(n, one, many) + " removed from the selection"
}

func (s *Server) submitSelectUsers(c echo.Context) error {
	ids, err := formIDs(c)
	if err != nil {
		return err
	}
	n, err := s.App.SelectPeople(c.Request().Context(), s.actor(c), ids)
	return s.selectionChanged(c, addedMessage(n, "person", "people"), err)
}

func (s *Server) submitUnselectUsers(c echo.Context) error {
	ids, err := formIDs(c)
	if err != nil {
		return err
	}
	n, err := s.App.Unselect(c.Request().Context(), s.actor(c), "user", ids)
	return s.selectionChanged(c, removedMessage(n, "person", "people"), err)
}

func (s *Server) submitSelectGroups(c echo.Context) error {
	ids, err := formIDs(c)
	if err != nil {
		return err
	}
	n, err := s.App.SelectGroups(c.Request().Context(), s.actor(c), ids)
	return s.selectionChanged(c, addedMessage(n, "group", "groups"), err)
}

func (s *Server) submitUnselectGroups(c echo.Context) error {
	ids, err := formIDs(c)
	if err != nil {
		return err
	}
	n, err := s.App.Unselect(c.Request().Context(), s.actor(c), "group", ids)
	return s.selectionChanged(c, removedMessage(n, "group", "groups"), err)
}

// submitSelectMatching selects everyone matching a people list's search
// and filters, across all its pages.
func (s *Server) submitSelectMatching(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "unreadable form")
	}
	q, _ := onboarding.ParseListQuery(url.Values{"q": {form.Get("q")}, "state": {form.Get("state")}, "group": {form.Get("group")}})
	n, err := s.App.SelectMatching(c.Request().Context(), s.actor(c), form.Get("directory"), q)
	return s.selectionChanged(c, addedMessage(n, "person", "people"), err)
}

func (s *Server) submitUnselectOne(c echo.Context) error {
	kind := c.FormValue("kind")
	n, err := s.App.Unselect(c.Request().Context(), s.actor(c), kind, []string{c.FormValue("id")})
	if kind == "group" {
		return s.selectionChanged(c, removedMessage(n, "group", "groups"), err)
	}
	return s.selectionChanged(c, removedMessage(n, "person", "people"), err)
}

func (s *Server) submitClearSelection(c echo.Context) error {
	n, err := s.App.ClearSelection(c.Request().Context(), s.actor(c))
	if err != nil {
		return err
	}
	msg := "The selection was already empty"
	if n > 0 {
		msg = "Selection cleared"
	}
	return s.selectionChanged(c, msg, nil)
}

func (s *Server) showSelection(c echo.Context) error {
	v, err := s.App.Selection(c.Request().Context(), s.actor(c))
	if err != nil {
		return err
	}
	vm := views.SelectionVM{Headcount: v.Headcount, ReviewHref: templ.SafeURL("/selection/review"),
		Empty: len(v.People) == 0 && len(v.Groups) == 0, PeopleTotal: countOf(v.PeopleTotal, "person", "people") + " selected one by one"}
	if v.PeopleTotal > int64(len(v.People)) {
		vm.PeopleNote = fmt.Sprintf("Showing the first %s of %s people selected one by one; all of them are in the selection.",
			fmtCount(int64(len(v.People))), fmtCount(v.PeopleTotal))
	}
	for _, g := range v.Groups {
		vm.Groups = append(vm.Groups, views.SelectedGroupRow{ID: g.ID, Name: g.Name, Href: groupHref(g.ID), Members: fmtCount(g.Members), Gone: g.Gone})
	}
	for _, p := range v.People {
		label, _ := personState(p.State)
		vm.People = append(vm.People, views.SelectedPersonRow{ID: p.ID, Name: p.Name, Href: userHref(p.ID), Email: p.Email, State: label, Gone: p.Gone})
	}
	return s.render(c, http.StatusOK, views.SelectionPage(s.page(c, "Selection", "selection"), vm))
}
