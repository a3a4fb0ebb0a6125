package web

import "github.com/labstack/echo/v4"

// routesPublicInvite registers the invitee's pages (no admin session).
// Placeholder: the invitation work replaces this file.
func (s *Server) routesPublicInvite(g *echo.Group) {}
