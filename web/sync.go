package web

import "github.com/labstack/echo/v4"

// routesSync registers the sync pages. Placeholder: the replica work
// replaces this file.
func (s *Server) routesSync(g *echo.Group) {}
