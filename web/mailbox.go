package web

import (
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"roster/internal/onboarding"
	"roster/views"
)

// The Mailbox (demo mode only) shows the emails Roster would have sent.
// Routes are registered by routesMailAudit in audit.go.

// mailboxLimits are the page sizes offered (?limit=); the default is
// generous because a demo invite of a few dozen people should fit one page.
var mailboxLimits = []int{10, 25, 50, 100}

const mailboxDefaultLimit = 50

func (s *Server) showMailbox(c echo.Context) error {
	ctx := c.Request().Context()
	act := s.actor(c)
	var vm views.MailboxVM
	var before int64
	limit, extra := mailboxDefaultLimit, ""
	if n, err := strconv.Atoi(c.QueryParam("limit")); err == nil && slices.Contains(mailboxLimits, n) {
		limit = n
		if n != mailboxDefaultLimit {
			extra = "limit=" + strconv.Itoa(n)
		}
	}
	if v := c.QueryParam("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			vm.Notice = "That page link is not valid, so the newest messages are shown."
		} else {
			before = n
		}
	}
	page, err := s.App.Mailbox(ctx, act, before, limit)
	if err != nil {
		return err
	}
	if before > 0 && len(page.Entries) == 0 {
		vm.Notice = "There are no older messages, so the newest are shown."
		before = 0
		if page, err = s.App.Mailbox(ctx, act, 0, limit); err != nil {
			return err
		}
	}
	if before > 0 {
		vm.NewestHref = "/mailbox"
		if extra != "" {
			vm.NewestHref += "?" + extra
		}
	}
	if page.OlderBefore > 0 {
		vm.OlderHref = "/mailbox?before=" + strconv.FormatInt(page.OlderBefore, 10)
		if extra != "" {
			vm.OlderHref += "&" + extra
		}
	}
	for _, e := range page.Entries {
		status, kind := mailStatus(e.Status)
		t := e.CreatedAt
		if !e.SentAt.IsZero() {
			t = e.SentAt
		}
		vm.Rows = append(vm.Rows, views.MailboxRow{
			Href: "/mailbox/" + strconv.FormatInt(e.ID, 10), To: e.To, Subject: mailSubject(e.Subject), Kind: e.Kind,
			Status: status, StatusKind: kind, When: mailTime(t), WhenISO: t.UTC().Format(time.RFC3339),
		})
	}
	return s.render(c, http.StatusOK, views.Mailbox(s.page(c, "Mailbox", "mailbox"), vm))
}

// mailByID reads the :id email the actor may see; a malformed id is
// treated like an unknown one (404).
func (s *Server) mailByID(c echo.Context) (onboarding.MailboxEntry, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return onboarding.MailboxEntry{}, onboarding.ErrNotFound
	}
	return s.App.MailboxMessage(c.Request().Context(), s.actor(c), id)
}

func (s *Server) showMail(c echo.Context) error {
	e, err := s.mailByID(c)
	if err != nil {
		return err
	}
	status, kind := mailStatus(e.Status)
	vm := views.MailVM{
		To: e.To, Subject: mailSubject(e.Subject), Kind: e.Kind, Status: status, StatusKind: kind,
		Created: mailTime(e.CreatedAt), Sent: mailTime(e.SentAt), Attempts: e.Attempts, LastError: e.LastError,
		Lines: mailLines(e.Text),
	}
	if e.HTML != "" {
		vm.HTMLHref = "/mailbox/" + strconv.FormatInt(e.ID, 10) + "/html"
	}
	return s.render(c, http.StatusOK, views.MailboxMessage(s.page(c, vm.Subject, "mailbox"), vm))
}

// mailHTMLPolicy lets an email's HTML show its inline styles and nothing
// else: no script, no remote images or fonts, no forms, and (sandbox) a
// unique origin even when opened on its own. It may be framed only by
// Roster's own message page.
const mailHTMLPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; " +
	"base-uri 'none'; form-action 'none'; sandbox; frame-ancestors 'self'"

// mailHTML serves an email's HTML body for the sandboxed iframe.
func (s *Server) mailHTML(c echo.Context) error {
	e, err := s.mailByID(c)
	if err != nil {
		return err
	}
	if e.HTML == "" {
		return onboarding.ErrNotFound
	}
	h := c.Response().Header()
	h.Set("Content-Security-Policy", mailHTMLPolicy)
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("Cache-Control", "private, no-store")
	return c.HTMLBlob(http.StatusOK, []byte(e.HTML))
}

func mailStatus(st string) (label, kind string) {
	switch st {
	case "sent":
		return "sent", "ok"
	case "failed":
		return "failed", "bad"
	case "sending":
		return "sending", "warn"
	default:
		return "waiting", "warn"
	}
}

func mailSubject(s string) string {
	if strings.TrimSpace(s) == "" {
		return "(no subject)"
	}
	return s
}

func mailTime(t time.Time) string {
	if t.IsZero() {
		return "not yet"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// mailURL finds web links in a text email. Trailing punctuation is not part
// of a link ("Open https://x/y." links https://x/y).
var mailURL = regexp.MustCompile(`https?://[^\s<>"]+`)

// mailLines splits a text email into lines of text and links, so the page
// can show the text as written with its links clickable. Only http(s) links
// are made clickable; the text itself is escaped by the template.
func mailLines(text string) []views.MailLine {
	text = strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\r", "\n")
	var out []views.MailLine
	for _, line := range strings.Split(text, "\n") {
		var l views.MailLine
		rest := line
		for _, loc := range mailURL.FindAllStringIndex(line, -1) {
			start, end := loc[0], loc[1]
			for end > start && strings.ContainsRune(".,;:!?)]}'", rune(line[end-1])) {
				end--
			}
			// Offsets are into line; rest is the part not yet emitted.
			done := len(line) - len(rest)
			if start < done {
				continue
			}
			if start > done {
				l.Parts = append(l.Parts, views.MailPart{Text: line[done:start]})
			}
			l.Parts = append(l.Parts, views.MailPart{Text: line[start:end], Href: line[start:end]})
			rest = line[end:]
		}
		if rest != "" {
			l.Parts = append(l.Parts, views.MailPart{Text: rest})
		}
		out = append(out, l)
	}
	// A trailing newline does not make an empty last line.
	if n := len(out); n > 0 && len(out[n-1].Parts) == 0 {
		out = out[:n-1]
	}
	return out
}

// pokeMailer wakes the email worker so mail just queued (an invitation, a
// resend) goes out now rather than at its next tick. Call it after the
// transaction that enqueued the mail has committed; it is a no-op when no
// Mailer is wired (tests).
func (s *Server) pokeMailer() {
	if s.Mailer != nil {
		s.Mailer.Poke()
	}
}
