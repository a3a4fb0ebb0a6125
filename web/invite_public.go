package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"roster/internal/onboarding"
	"roster/views"
)

// routesPublicInvite registers the invitee's pages: no admin session, CSRF
// protected like every form.
func (s *Server) routesPublicInvite(g *echo.Group) {
	g.GET("/invite/:token", s.showInvitation)
	g.POST("/invite/:token", s.acceptInvitation)
}

// inviteProblem renders the page for a link that cannot be used: what
// happened and what to do, 404 for an unknown link and 410 for one that
// worked once.
func (s *Server) inviteProblem(c echo.Context, err error) error {
	vm := views.MessageVM{}
	status := http.StatusGone
	switch {
	case errors.Is(err, onboarding.ErrInvitationNotFound):
		status = http.StatusNotFound
		vm.Heading, vm.Message = "This invitation link is not valid", "Check that you opened the whole link from the email. If the invitation was sent again, only the newest email works. Otherwise ask your admin to resend the invitation."
	case errors.Is(err, onboarding.ErrInvitationExpired):
		vm.Heading, vm.Message = "This invitation has expired", "Invitations work for a limited time. Ask your admin to resend it; you will get a new email with a fresh link."
	case errors.Is(err, onboarding.ErrInvitationUsed):
		vm.Heading, vm.Message = "This invitation was already accepted", "Your account is active. If you did not accept it yourself, tell your admin."
	case errors.Is(err, onboarding.ErrInvitationRevoked):
		vm.Heading, vm.Message = "This invitation was withdrawn", "Your admin revoked it. If you still need an account, ask them to invite you again."
	default:
		return err
	}
	return s.render(c, status, views.Message(s.page(c, vm.Heading, ""), vm))
}

func (s *Server) inviteVM(tok string, pub onboarding.PublicInvitation) views.InviteAcceptVM {
	name := pub.DisplayName
	if n := strings.TrimSpace(pub.FirstName + " " + pub.LastName); n != "" {
		name = n
	}
	return views.InviteAcceptVM{Token: tok, OrgName: pub.OrgName, Name: name, Email: pub.Email, JobTitle: pub.JobTitle,
		Department: pub.Department, Expires: pub.ExpiresAt.UTC().Format("2 January 2006, 15:04 UTC"), MinLength: onboarding.MinPasswordLength}
}

func (s *Server) showInvitation(c echo.Context) error {
	c.Response().Header().Set("Referrer-Policy", "no-referrer") // the token is in the URL
	tok := c.Param("token")
	pub, err := s.App.OpenInvitation(c.Request().Context(), tok)
	if err != nil {
		return s.inviteProblem(c, err)
	}
	return s.render(c, http.StatusOK, views.InviteAcceptPage(s.page(c, "Join "+pub.OrgName, ""), s.inviteVM(tok, pub)))
}

func (s *Server) acceptInvitation(c echo.Context) error {
	c.Response().Header().Set("Referrer-Policy", "no-referrer")
	tok := c.Param("token")
	pub, err := s.App.AcceptInvitation(c.Request().Context(), tok, c.FormValue("password"))
	if errors.Is(err, onboarding.ErrInvalid) {
		vm := s.inviteVM(tok, pub)
		vm.Error = strings.TrimPrefix(err.Error(), onboarding.ErrInvalid.Error()+": ")
		return s.render(c, http.StatusUnprocessableEntity, views.InviteAcceptPage(s.page(c, "Join "+pub.OrgName, ""), vm))
	}
	if err != nil {
		return s.inviteProblem(c, err)
	}
	vm := views.MessageVM{Heading: "Your account is active", Message: "Welcome to " + pub.OrgName + ", " + pub.Email + ". You can close this page."}
	return s.render(c, http.StatusOK, views.Message(s.page(c, vm.Heading, ""), vm))
}
