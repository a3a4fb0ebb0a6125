package web

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"roster/internal/onboarding"
	"roster/views"
)

const sessionName = "roster"

const (
	actorKey   = "roster.actor"
	sessionKey = "roster.session"
)

func (s *Server) newStore() *sessions.CookieStore {
	st := sessions.NewCookieStore(s.Config.SessionHashKey, s.Config.SessionBlock)
	st.Options = &sessions.Options{
		Path:     "/",
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
		Secure:   strings.HasPrefix(s.Config.BaseURL, "https://"),
		MaxAge:   int(s.maxAge() / time.Second),
	}
	return st
}

func (s *Server) idle() time.Duration {
	if s.Config.SessionIdle <= 0 {
		return 12 * time.Hour
	}
	return s.Config.SessionIdle
}

func (s *Server) maxAge() time.Duration {
	if s.Config.SessionMaxAge <= 0 {
		return 7 * 24 * time.Hour
	}
	return s.Config.SessionMaxAge
}

// session returns the request's session; a bad or old cookie yields a new,
// empty one (never an error page).
func (s *Server) session(c echo.Context) *sessions.Session {
	if sess, ok := c.Get(sessionKey).(*sessions.Session); ok {
		return sess
	}
	sess, err := s.store.Get(c.Request(), sessionName)
	if err != nil || sess == nil {
		sess, _ = s.store.New(c.Request(), sessionName)
	}
	c.Set(sessionKey, sess)
	return sess
}

// startSession replaces whatever session the browser had with a new one for
// this admin (a fresh cookie at every sign-in).
func (s *Server) startSession(c echo.Context, ss onboarding.Session) error {
	sess, _ := s.store.New(c.Request(), sessionName)
	now := s.now().Unix()
	sess.Values["aid"] = ss.AdminID
	sess.Values["ver"] = ss.Version
	sess.Values["iat"] = now
	sess.Values["seen"] = now
	c.Set(sessionKey, sess) // later writes in this request (a flash) go to the new session
	return sess.Save(c.Request(), c.Response())
}

func (s *Server) endSession(c echo.Context) {
	sess := s.session(c)
	sess.Options.MaxAge = -1
	sess.Values = map[any]any{}
	_ = sess.Save(c.Request(), c.Response())
}

// loadActor resolves the session cookie into the signed-in admin, enforcing
// idle and absolute expiry and the admin's session version.
func (s *Server) loadActor(c echo.Context) (onboarding.Actor, bool) {
	if a, ok := actorFrom(c); ok {
		return a, true
	}
	sess := s.session(c)
	aid, ok1 := sess.Values["aid"].(int64)
	ver, ok2 := sess.Values["ver"].(int64)
	iat, _ := sess.Values["iat"].(int64)
	seen, _ := sess.Values["seen"].(int64)
	if !ok1 || !ok2 {
		return onboarding.Actor{}, false
	}
	now := s.now()
	if now.Sub(time.Unix(iat, 0)) > s.maxAge() || now.Sub(time.Unix(seen, 0)) > s.idle() {
		s.endSession(c)
		return onboarding.Actor{}, false
	}
	act, err := s.Auth.Resolve(c.Request().Context(), onboarding.Session{AdminID: aid, Version: ver})
	if err != nil {
		if errors.Is(err, onboarding.ErrNotFound) {
			s.endSession(c)
		}
		return onboarding.Actor{}, false
	}
	// Refresh the idle clock at most once a minute, to spare a Set-Cookie
	// on every request.
	if now.Sub(time.Unix(seen, 0)) > time.Minute {
		sess.Values["seen"] = now.Unix()
		_ = sess.Save(c.Request(), c.Response())
	}
	c.Set(actorKey, act)
	return act, true
}

func actorFrom(c echo.Context) (onboarding.Actor, bool) {
	a, ok := c.Get(actorKey).(onboarding.Actor)
	return a, ok
}

// actor returns the signed-in admin; only for handlers behind requireAdmin.
func (s *Server) actor(c echo.Context) onboarding.Actor {
	a, _ := actorFrom(c)
	return a
}

// requireAdmin lets signed-in admins through and sends everyone else to
// the sign-in page (coming back afterwards).
func (s *Server) requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		_, ok := s.loadActor(c)
		if p := c.Path(); p == "/*" || p == "" {
			// No route matched: a 404 for everyone, not a sign-in detour.
			return echo.ErrNotFound
		}
		if ok {
			return next(c)
		}
		target := "/login"
		if r := c.Request(); r.Method == http.MethodGet && r.URL.Path != "/" {
			target += "?next=" + urlQueryEscape(r.URL.RequestURI())
		}
		if c.Request().Header.Get("HX-Request") == "true" {
			c.Response().Header().Set("HX-Redirect", target)
			return c.NoContent(http.StatusUnauthorized)
		}
		return c.Redirect(http.StatusSeeOther, target)
	}
}

// setFlash keeps a one-time message for the next page.
func (s *Server) setFlash(c echo.Context, kind, msg string) {
	sess := s.session(c)
	sess.Values["flash"] = kind + "\x00" + msg
	_ = sess.Save(c.Request(), c.Response())
}

func (s *Server) popFlash(c echo.Context) (f views.Flash) {
	sess := s.session(c)
	v, ok := sess.Values["flash"].(string)
	if !ok {
		return f
	}
	delete(sess.Values, "flash")
	_ = sess.Save(c.Request(), c.Response())
	kind, msg, _ := strings.Cut(v, "\x00")
	f.Kind, f.Message = kind, msg
	return f
}
