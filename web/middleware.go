package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"

	"github.com/labstack/echo/v4"
)

type ctxKey int

const loggerKey ctxKey = 1

// requestID gives every request an id (kept from X-Request-Id when sane),
// returns it in the response and attaches a logger carrying it, so every
// log line of the request names it.
func (s *Server) requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(echo.HeaderXRequestID)
		if len(id) == 0 || len(id) > 64 {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		log := s.logger().With("request_id", id)
		c.Set("request_id", id)
		c.SetRequest(c.Request().WithContext(context.WithValue(c.Request().Context(), loggerKey, log)))
		return next(c)
	}
}

func (s *Server) logger() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

// reqLog is the request's logger (with its request id).
func (s *Server) reqLog(c echo.Context) *slog.Logger {
	if l, ok := c.Request().Context().Value(loggerKey).(*slog.Logger); ok {
		return l
	}
	return s.logger()
}

// recoverPanic turns a panic into a logged 500 page.
func (s *Server) recoverPanic(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				s.reqLog(c).Error("panic", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return next(c)
	}
}

// contentSecurityPolicy allows only Roster's own files: no inline script.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'"

func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if c.Request().TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		return next(c)
	}
}

// clientIP is the address used for sign-in throttling: the direct peer.
// (Behind a trusted proxy, Echo's IPExtractor can be configured in main.)
func clientIP(c echo.Context) string {
	return c.RealIP()
}

var _ = http.StatusOK
