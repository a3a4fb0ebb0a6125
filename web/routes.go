package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"roster/static"
)

// Handler builds the router with every route and middleware.
func (s *Server) Handler() http.Handler {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = s.handleError
	s.echo = e
	s.store = s.newStore()
	s.metrics = newHTTPMetrics(s.Registry)

	e.Use(s.requestID, s.recoverPanic, securityHeaders, s.metrics.middleware)

	// Public, cookie-free endpoints.
	e.GET(static.Prefix+"*", echo.WrapHandler(static.Handler()))
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", s.metricsHandler())
	s.routesWebhooks(e)

	// Everything else carries a session and CSRF protection.
	site := e.Group("", middleware.CSRFWithConfig(middleware.CSRFConfig{
		TokenLookup:    "form:_csrf,header:X-CSRF-Token",
		CookieName:     "_csrf",
		CookiePath:     "/",
		CookieHTTPOnly: true,
		CookieSameSite: http.SameSiteLaxMode,
		CookieSecure:   strings.HasPrefix(s.Config.BaseURL, "https://"),
		ErrorHandler:   csrfError,
	}))
	s.routesAuth(site)
	s.routesPublicInvite(site)

	app := site.Group("", s.requireAdmin)
	s.routesAccount(app)
	s.routesBrowse(app)
	s.routesInvite(app)
	s.routesSync(app)
	s.routesOrganizations(app)
	s.routesMailAudit(app)
	s.routesPolicies(app)
	s.getPath = map[string]bool{}
	for _, r := range e.Routes() {
		if r.Method == http.MethodGet {
			s.getPath[r.Path] = true
		}
	}
	return e
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// safeNext accepts only local paths as a place to return to after sign-in.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return "/"
	}
	return next
}
