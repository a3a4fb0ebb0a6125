package web

import "github.com/labstack/echo/v4"

// routesWebhooks registers POST /webhooks/workos (public, signed).
// Placeholder: the replica work replaces this file.
func (s *Server) routesWebhooks(e *echo.Echo) {}
