// Package web is Roster's HTTP layer: Echo routes, middleware, sessions,
// CSRF, form parsing and the mapping from domain values to view models.
// Nothing outside this package touches Echo or cookies.
package web

import (
	"context"
	"log/slog"
	"time"

	"github.com/a-h/templ"
	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"roster/internal/onboarding"
	"roster/views"
)

// Config is what the web layer needs to know about the deployment.
type Config struct {
	BaseURL        string        // e.g. https://roster.example.com; https turns on Secure cookies
	Demo           bool          // sandbox mode: badge, mailbox, "Open setup"
	SessionIdle    time.Duration // a session unused this long ends (default 12h)
	SessionMaxAge  time.Duration // a session ends this long after sign-in (default 7 days)
	WebhookSecret  string        // WORKOS_WEBHOOK_SECRET
	LoginHint      string        // shown under the sign-in form in demo mode
	SandboxURL     string        // public URL of the sandbox in demo mode ("" otherwise)
	SessionHashKey []byte
	SessionBlock   []byte
}

// Server holds the handlers' dependencies. Set the fields, then call Handler.
type Server struct {
	Config   Config
	Log      *slog.Logger
	Auth     *onboarding.Auth
	App      *onboarding.Service
	Syncer   *onboarding.Syncer // the replica sync: status, "Sync now", webhook pokes
	Mailer   *onboarding.Mailer // the email sender: poked after invitations
	Registry *prometheus.Registry
	// Ready reports whether the service can take traffic (database reachable
	// and migrated); used by /readyz.
	Ready func(ctx context.Context) error
	Now   func() time.Time

	store   *sessions.CookieStore
	echo    *echo.Echo
	metrics *httpMetrics
	getPath map[string]bool // GET routes, for the navigation (built once in Handler)
}

func (s *Server) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

// render writes a component through a buffer, so a failed render becomes
// an error page instead of half a page.
func (s *Server) render(c echo.Context, status int, cmp templ.Component) error {
	buf := templ.GetBuffer()
	defer templ.ReleaseBuffer(buf)
	if err := cmp.Render(c.Request().Context(), buf); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// navItems is the main navigation; an item shows only when its route exists
// and the actor may use it.
var navItems = []struct {
	views.NavItem
	platformOnly bool
	demoOnly     bool
}{
	{NavItem: views.NavItem{Key: "directories", Label: "Directories", Href: "/"}},
	{NavItem: views.NavItem{Key: "organizations", Label: "Organisations", Href: "/organizations"}, platformOnly: true},
	{NavItem: views.NavItem{Key: "accounts", Label: "Accounts", Href: "/accounts"}},
	{NavItem: views.NavItem{Key: "invitations", Label: "Invitations", Href: "/invitations"}},
	{NavItem: views.NavItem{Key: "review", Label: "Review queue", Href: "/review"}},
	{NavItem: views.NavItem{Key: "sync", Label: "Sync", Href: "/sync"}},
	{NavItem: views.NavItem{Key: "audit", Label: "Audit", Href: "/audit"}},
	{NavItem: views.NavItem{Key: "settings", Label: "Settings", Href: "/settings"}},
	{NavItem: views.NavItem{Key: "mailbox", Label: "Mailbox", Href: "/mailbox"}, demoOnly: true},
}

// page builds the chrome of a page for the current request.
func (s *Server) page(c echo.Context, title, active string) views.Page {
	p := views.Page{Title: title, Active: active, CSRF: csrfToken(c), Demo: s.Config.Demo}
	p.Flash = s.popFlash(c)
	act, ok := actorFrom(c)
	if !ok {
		return p
	}
	badge := &views.AdminBadge{Email: act.Email, Platform: act.Platform()}
	if !act.Platform() && s.App != nil {
		badge.OrgName, _ = s.App.OrganizationName(c.Request().Context(), act.OrganizationID)
	}
	p.Admin = badge
	for _, n := range navItems {
		if (n.platformOnly && !act.Platform()) || (n.demoOnly && !s.Config.Demo) || !s.hasRoute(n.Href) {
			continue
		}
		p.Nav = append(p.Nav, n.NavItem)
	}
	p.Selected = s.trayCount(c)
	return p
}

func (s *Server) hasRoute(path string) bool { return s.getPath[path] }

func csrfToken(c echo.Context) string {
	t, _ := c.Get("csrf").(string)
	return t
}
