package sandbox

import "net/http"

// portalSession is one admin portal link (issue 9).
type portalSession struct{}

func (s *Sandbox) routeOrgAPI(mux *http.ServeMux) {}

func (s *Sandbox) routePortal(mux *http.ServeMux) {}
