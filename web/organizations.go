package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"roster/internal/onboarding"
	"roster/views"
)

func (s *Server) routesOrganizations(g *echo.Group) {
	g.GET("/organizations", s.showOrganizations)
	g.POST("/organizations", s.submitOrganization)
	g.GET("/organizations/:id", s.showOrganization)
	g.GET("/organizations/:id/directories", s.showOrgDirectories)
	g.POST("/organizations/:id/setup-link", s.submitSetupLink)
	g.POST("/organizations/:id/admins", s.submitOrgAdmin)
}

func (s *Server) orgsVM(c echo.Context) (views.OrgsVM, error) {
	list, err := s.App.Organizations(c.Request().Context(), s.actor(c))
	if err != nil {
		return views.OrgsVM{}, err
	}
	var vm views.OrgsVM
	for _, o := range list {
		r := views.OrgRow{Href: "/organizations/" + o.ID, Name: o.Name, Domains: strings.Join(o.AllowedDomains, ", "),
			Directories: o.Directories, Admins: o.Admins, Status: "No directory", StatusKind: "warn"}
		switch {
		case o.Linked > 0:
			r.Status, r.StatusKind = "Connected", "ok"
		case o.Directories > 0:
			r.Status, r.StatusKind = "Connecting", ""
		}
		vm.Rows = append(vm.Rows, r)
	}
	return vm, nil
}

func (s *Server) showOrganizations(c echo.Context) error {
	vm, err := s.orgsVM(c)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.Organizations(s.page(c, "Organisations", "organizations"), vm))
}

func (s *Server) submitOrganization(c echo.Context) error {
	name, domains := c.FormValue("name"), c.FormValue("domains")
	id, err := s.App.CreateOrganization(c.Request().Context(), s.actor(c), name, domains)
	if errors.Is(err, onboarding.ErrInvalid) || errors.Is(err, onboarding.ErrUnavailable) {
		vm, lerr := s.orgsVM(c)
		if lerr != nil {
			return lerr
		}
		vm.FormName, vm.FormDomains, vm.Error = name, domains, err.Error()
		return s.render(c, http.StatusUnprocessableEntity, views.Organizations(s.page(c, "Organisations", "organizations"), vm))
	}
	if err != nil {
		return err
	}
	s.setFlash(c, "ok", "Organisation created. Next: create a setup link for its IT admin.")
	return c.Redirect(http.StatusSeeOther, "/organizations/"+id)
}

func (s *Server) orgDirsVM(c echo.Context, det onboarding.OrgDetail) views.OrgDirsVM {
	vm := views.OrgDirsVM{OrgID: det.Org.ID, Connected: det.Connected(), Demo: s.Config.Demo, CSRF: csrfToken(c)}
	vm.Live = !vm.Connected
	if l := det.SetupLink; l != nil {
		vm.Link = &views.SetupLinkVM{URL: l.Link, Expires: l.ExpiresAt.UTC().Format("15:04:05 UTC"), Expired: s.now().After(l.ExpiresAt)}
	}
	for _, d := range det.Directories {
		if d.Deleted {
			continue
		}
		importing := d.Phase != "live" && d.Phase != ""
		if d.Phase == "" {
			importing = true
		}
		vm.Live = vm.Live || importing
		state, _ := directoryState(d.State)
		vm.Rows = append(vm.Rows, views.OrgDirRow{
			Name: d.Name, Provider: providerLabel(d.Type), State: state,
			Importing: importing, UsersDone: d.UsersDone, UsersTotal: d.UsersTotal, Users: d.Users,
			Href: "/directories/" + d.ID + "/users", UsersHref: "/directories/" + d.ID + "/users", GroupsHref: "/directories/" + d.ID + "/groups",
		})
	}
	return vm
}

func (s *Server) showOrganization(c echo.Context) error {
	act := s.actor(c)
	det, err := s.App.Organization(c.Request().Context(), act, c.Param("id"))
	if err != nil {
		return err
	}
	vm := views.OrgVM{ID: det.Org.ID, Name: det.Org.Name, Domains: strings.Join(det.Org.AllowedDomains, ", "),
		Directories: s.orgDirsVM(c, det), CanManageAdmins: act.Platform()}
	for _, a := range det.Admins {
		vm.Admins = append(vm.Admins, a.Email)
	}
	return s.render(c, http.StatusOK, views.Organization(s.page(c, det.Org.Name, "organizations"), vm))
}

// showOrgDirectories is the live fragment htmx polls.
func (s *Server) showOrgDirectories(c echo.Context) error {
	det, err := s.App.Organization(c.Request().Context(), s.actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, views.OrgDirectories(s.orgDirsVM(c, det)))
}

func (s *Server) submitSetupLink(c echo.Context) error {
	id := c.Param("id")
	_, err := s.App.CreateSetupLink(c.Request().Context(), s.actor(c), id)
	if errors.Is(err, onboarding.ErrInvalid) || errors.Is(err, onboarding.ErrUnavailable) {
		s.setFlash(c, "error", err.Error())
		return c.Redirect(http.StatusSeeOther, "/organizations/"+id)
	}
	if err != nil {
		return err
	}
	s.setFlash(c, "ok", "Setup link created. It works once, for 5 minutes.")
	return c.Redirect(http.StatusSeeOther, "/organizations/"+id)
}

func (s *Server) submitOrgAdmin(c echo.Context) error {
	act := s.actor(c)
	id := c.Param("id")
	link, expires, err := s.App.InviteOrgAdmin(c.Request().Context(), s.Auth, act, id, c.FormValue("email"))
	det, derr := s.App.Organization(c.Request().Context(), act, id)
	if derr != nil {
		return derr
	}
	vm := views.OrgVM{ID: det.Org.ID, Name: det.Org.Name, Domains: strings.Join(det.Org.AllowedDomains, ", "),
		Directories: s.orgDirsVM(c, det), CanManageAdmins: act.Platform()}
	for _, a := range det.Admins {
		vm.Admins = append(vm.Admins, a.Email)
	}
	status := http.StatusOK
	switch {
	case errors.Is(err, onboarding.ErrInvalid):
		vm.AdminError, status = err.Error(), http.StatusUnprocessableEntity
	case err != nil:
		return err
	default:
		vm.AdminLink, vm.AdminLinkExpires = link, expires.UTC().Format("2006-01-02 15:04 UTC")
	}
	return s.render(c, status, views.Organization(s.page(c, det.Org.Name, "organizations"), vm))
}
