package web

import (
	"errors"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"roster/internal/onboarding"
)

// maxWebhookBody bounds what a webhook may send; WorkOS events are a few KB.
const maxWebhookBody = 1 << 20

// routesWebhooks registers POST /webhooks/workos (public, signed).
func (s *Server) routesWebhooks(e *echo.Echo) {
	if s.Syncer == nil {
		return
	}
	e.POST("/webhooks/workos", s.receiveWebhook)
}

// receiveWebhook checks the signature on the raw body and, if it is good
// and new, answers 200 at once and makes the sync poll the Events API now.
// Nothing from the body is applied. Bad, replayed or too old → 401.
func (s *Server) receiveWebhook(c echo.Context) error {
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, maxWebhookBody+1))
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "unreadable body")
	}
	if len(body) > maxWebhookBody {
		return c.JSON(http.StatusRequestEntityTooLarge, map[string]string{"error": "body too large"})
	}
	header := c.Request().Header.Get("WorkOS-Signature")
	r, err := s.Syncer.ReceiveWebhook(header, body, s.Config.WebhookSecret)
	if err != nil {
		reason := "bad signature"
		switch {
		case errors.Is(err, onboarding.ErrWebhookReplayed):
			reason = "replayed"
		case errors.Is(err, onboarding.ErrWebhookExpired):
			reason = "too old"
		}
		s.reqLog(c).Warn("webhook refused", "reason", reason, "err", err, "ip", clientIP(c))
		return c.JSON(http.StatusUnauthorized, map[string]string{"error": "webhook refused: " + reason})
	}
	s.reqLog(c).Info("webhook received", "event_id", r.EventID, "event", r.Event)
	return c.JSON(http.StatusOK, map[string]string{"status": "received"})
}
