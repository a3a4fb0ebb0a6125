package web

import "github.com/labstack/echo/v4"

// routesBrowse registers the directory, group and user pages.
// Placeholder: the browse work replaces this file.
func (s *Server) routesBrowse(g *echo.Group) {}
