package web

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"roster/internal/onboarding"
	"roster/views"
)

// handleError is Echo's one error handler: it maps errors to a status and a
// page a person can act on, logs server errors with the request id, and
// never shows internals.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	code := http.StatusInternalServerError
	vm := views.MessageVM{LinkHref: "/", LinkLabel: "Go to the start page"}
	var he *echo.HTTPError
	var te *onboarding.ThrottleError
	switch {
	case errors.As(err, &he):
		code = he.Code
		switch code {
		case http.StatusNotFound:
			vm.Heading, vm.Message = "Page not found", "There is nothing at this address. It may have been moved, or you may not have access to it."
		case http.StatusMethodNotAllowed:
			vm.Heading, vm.Message = "Not allowed", "This address does not accept that kind of request."
		case http.StatusForbidden, http.StatusBadRequest:
			vm.Heading, vm.Message = "Request refused", "The request could not be accepted. Reload the page and try again."
			if msg, ok := he.Message.(string); ok && msg != "" && code == http.StatusBadRequest {
				vm.Message = "The request could not be accepted (" + msg + "). Reload the page and try again."
			}
		case http.StatusRequestEntityTooLarge:
			vm.Heading, vm.Message = "Too large", "The request was too large."
		case http.StatusUnauthorized:
			vm.Heading, vm.Message, vm.LinkHref, vm.LinkLabel = "Please sign in", "You need to sign in to see this page.", "/login", "Sign in"
		default:
			if code < 500 {
				vm.Heading, vm.Message = http.StatusText(code), "The request could not be completed."
			}
		}
	case errors.Is(err, onboarding.ErrNotFound):
		code = http.StatusNotFound
		vm.Heading, vm.Message = "Not found", "There is nothing here, or you do not have access to it."
	case errors.As(err, &te):
		code = http.StatusTooManyRequests
		vm.Heading, vm.Message = "Too many attempts", te.Error()
	case errors.Is(err, onboarding.ErrUnavailable):
		code = http.StatusServiceUnavailable
		vm.Heading, vm.Message = "WorkOS is not answering", err.Error()
	case errors.Is(err, onboarding.ErrInvalid):
		code = http.StatusUnprocessableEntity
		vm.Heading, vm.Message = "Not accepted", err.Error()
	case errors.Is(err, context.Canceled):
		return // the client went away; nothing to say to anyone
	}
	if code >= 500 && !errors.Is(err, onboarding.ErrUnavailable) {
		vm.Heading = "Something went wrong"
		vm.Message = "Roster could not complete this request. Nothing was half-done; please try again in a moment."
		vm.RequestID, _ = c.Get("request_id").(string)
		s.reqLog(c).Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "status", code, "err", err)
	} else {
		s.reqLog(c).Info("request refused", "method", c.Request().Method, "path", c.Request().URL.Path, "status", code, "err", err)
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(code)
		return
	}
	if err := s.render(c, code, views.Message(s.page(c, vm.Heading, ""), vm)); err != nil {
		s.reqLog(c).Error("render error page", "err", err)
		_ = c.String(code, vm.Heading)
	}
}

// csrfError explains an expired or missing form token in plain words.
func csrfError(err error, c echo.Context) error {
	return echo.NewHTTPError(http.StatusForbidden, "form expired").SetInternal(err)
}
