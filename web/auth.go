package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"roster/internal/onboarding"
	"roster/views"
)

func (s *Server) routesAuth(g *echo.Group) {
	g.GET("/login", s.showLogin)
	g.POST("/login", s.submitLogin)
	g.POST("/logout", s.submitLogout)
	g.GET("/setup/:token", s.showSetup)
	g.POST("/setup/:token", s.submitSetup)
}

func (s *Server) routesAccount(g *echo.Group) {
	g.GET("/account", s.showAccount)
	g.POST("/account/password", s.submitPassword)
}

func (s *Server) showLogin(c echo.Context) error {
	if _, ok := s.loadActor(c); ok {
		return c.Redirect(http.StatusSeeOther, safeNext(c.QueryParam("next")))
	}
	return s.render(c, http.StatusOK, views.Login(s.page(c, "Sign in", ""), views.LoginVM{Next: c.QueryParam("next"), Hint: s.Config.LoginHint}))
}

func (s *Server) submitLogin(c echo.Context) error {
	email, pw, next := c.FormValue("email"), c.FormValue("password"), c.FormValue("next")
	ss, err := s.Auth.SignIn(c.Request().Context(), email, pw, clientIP(c))
	var te *onboarding.ThrottleError
	switch {
	case errors.As(err, &te):
		c.Response().Header().Set("Retry-After", itoa(int(te.RetryAfter.Seconds())+1))
		return s.render(c, http.StatusTooManyRequests, views.Login(s.page(c, "Sign in", ""), views.LoginVM{Email: email, Next: next, Error: te.Error(), Hint: s.Config.LoginHint}))
	case errors.Is(err, onboarding.ErrBadCredentials):
		return s.render(c, http.StatusUnauthorized, views.Login(s.page(c, "Sign in", ""), views.LoginVM{Email: email, Next: next,
			Error: "That email and password do not match an admin account.", Hint: s.Config.LoginHint}))
	case err != nil:
		return err
	}
	if err := s.startSession(c, ss); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, safeNext(next))
}

func (s *Server) submitLogout(c echo.Context) error {
	if act, ok := s.loadActor(c); ok {
		if err := s.Auth.SignOut(c.Request().Context(), act); err != nil {
			return err
		}
	}
	s.endSession(c)
	return c.Redirect(http.StatusSeeOther, "/login")
}

func (s *Server) linkProblem(c echo.Context, err error) error {
	vm := views.MessageVM{LinkHref: "/login", LinkLabel: "Go to sign-in"}
	status := http.StatusNotFound
	switch {
	case errors.Is(err, onboarding.ErrLinkExpired):
		status = http.StatusGone
		vm.Heading, vm.Message = "This link has expired", "Setup links work for 72 hours. Ask the person who sent it for a new one."
	case errors.Is(err, onboarding.ErrLinkUsed):
		status = http.StatusGone
		vm.Heading, vm.Message = "This link was already used", "The account it creates exists already: sign in with it. If that was not you, tell the person who sent the link."
	case errors.Is(err, onboarding.ErrNotFound):
		vm.Heading, vm.Message = "This link is not valid", "Check that you copied the whole link, or ask for a new one."
	default:
		return err
	}
	return s.render(c, status, views.Message(s.page(c, vm.Heading, ""), vm))
}

func (s *Server) showSetup(c echo.Context) error {
	tok := c.Param("token")
	info, err := s.Auth.SetupLink(c.Request().Context(), tok)
	if err != nil {
		return s.linkProblem(c, err)
	}
	vm := views.SetupVM{Token: tok, Email: info.Email, EmailFixed: info.Email != ""}
	if info.OrganizationID != "" && s.App != nil {
		vm.OrgName, _ = s.App.OrganizationName(c.Request().Context(), info.OrganizationID)
	}
	return s.render(c, http.StatusOK, views.Setup(s.page(c, "Create your account", ""), vm))
}

func (s *Server) submitSetup(c echo.Context) error {
	tok := c.Param("token")
	ss, err := s.Auth.CompleteSetup(c.Request().Context(), tok, c.FormValue("email"), c.FormValue("password"))
	if errors.Is(err, onboarding.ErrInvalid) {
		info, lerr := s.Auth.SetupLink(c.Request().Context(), tok)
		if lerr != nil {
			return s.linkProblem(c, lerr)
		}
		vm := views.SetupVM{Token: tok, Email: c.FormValue("email"), Error: err.Error()}
		if info.Email != "" {
			vm.Email, vm.EmailFixed = info.Email, true
		}
		return s.render(c, http.StatusUnprocessableEntity, views.Setup(s.page(c, "Create your account", ""), vm))
	}
	if err != nil {
		return s.linkProblem(c, err)
	}
	if err := s.startSession(c, ss); err != nil {
		return err
	}
	s.setFlash(c, "ok", "Your admin account is ready.")
	return c.Redirect(http.StatusSeeOther, "/")
}

func (s *Server) showAccount(c echo.Context) error {
	act := s.actor(c)
	vm := views.AccountVM{Email: act.Email}
	if s.App != nil {
		vm.OrgName, _ = s.App.OrganizationName(c.Request().Context(), act.OrganizationID)
	}
	return s.render(c, http.StatusOK, views.Account(s.page(c, "Your account", ""), vm))
}

func (s *Server) submitPassword(c echo.Context) error {
	act := s.actor(c)
	ss, err := s.Auth.ChangePassword(c.Request().Context(), act, c.FormValue("current"), c.FormValue("new"))
	if errors.Is(err, onboarding.ErrInvalid) {
		vm := views.AccountVM{Email: act.Email, Error: err.Error()}
		return s.render(c, http.StatusUnprocessableEntity, views.Account(s.page(c, "Your account", ""), vm))
	}
	if err != nil {
		return err
	}
	if err := s.startSession(c, ss); err != nil {
		return err
	}
	s.setFlash(c, "ok", "Password changed. Other sessions were signed out.")
	return c.Redirect(http.StatusSeeOther, "/account")
}
