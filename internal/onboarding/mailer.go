package onboarding

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"net/url"
	"strings"
	"time"
)

// DefaultMailFrom is the sender used when MAIL_FROM is empty.
const DefaultMailFrom = "Roster <roster@localhost>"

// MailMessage is one email handed to a Sender. It is the outbox row as the
// senders see it, so neither they nor the web layer depend on db types.
type MailMessage struct {
	ID      int64 // outbox id; used to build a stable Message-ID
	To      string
	Subject string
	Text    string
	HTML    string
	Kind    string
}

// Sender delivers one email. An error means "not delivered": the Mailer
// retries it later. Wrap an error with ErrPermanent when retrying cannot
// help (e.g. the server refused the recipient for good).
type Sender interface {
	Send(ctx context.Context, m MailMessage) error
}

// ErrPermanent marks a delivery error that no retry can fix.
var ErrPermanent = errors.New("permanent delivery failure")

// NewSender returns the sender for the configuration: SMTP when smtpURL is
// set, the built-in Mailbox otherwise.
func NewSender(smtpURL, from string) (Sender, error) {
	if strings.TrimSpace(smtpURL) == "" {
		return MailboxSender{}, nil
	}
	return NewSMTPSender(smtpURL, from)
}

// MailboxSender is the demo "delivery": nothing leaves the process. The
// Mailer marks each message sent and it stays in the outbox table, where
// the Mailbox page shows it.
type MailboxSender struct{}

// Send accepts every message.
func (MailboxSender) Send(context.Context, MailMessage) error { return nil }

// SMTPSender delivers through an SMTP server with net/smtp.
//
//   - smtp://user:pass@host:587 — plain connection upgraded with STARTTLS
//     whenever the server offers it. With credentials STARTTLS is required
//     (a password never crosses the network in clear) unless the host is a
//     loopback address.
//   - smtps://user:pass@host:465 — TLS from the first byte.
type SMTPSender struct {
	Host     string // host name or address, also the TLS server name
	Port     string
	Implicit bool // smtps: TLS from the start
	Username string
	Password string
	From     *mail.Address
	// TLSConfig, when set, is used for STARTTLS and smtps (tests set RootCAs
	// to trust their own certificate). ServerName defaults to Host.
	TLSConfig *tls.Config
	// Timeout bounds one whole delivery (dial to QUIT); default 30 s.
	Timeout time.Duration
	// LocalName is sent in EHLO; default "localhost".
	LocalName string
	// Now stamps the Date header; default time.Now.
	Now func() time.Time

	dialAddr string // tests: connect here instead of Host:Port, keeping Host as the name
}

// NewSMTPSender parses SMTP_URL and MAIL_FROM.
func NewSMTPSender(rawURL, from string) (*SMTPSender, error) {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil {
		return nil, fmt.Errorf("SMTP_URL: %w", err)
	}
	s := &SMTPSender{Host: u.Hostname(), Port: u.Port()}
	switch u.Scheme {
	case "smtp":
		if s.Port == "" {
			s.Port = "587"
		}
	case "smtps":
		s.Implicit = true
		if s.Port == "" {
			s.Port = "465"
		}
	default:
		return nil, fmt.Errorf("SMTP_URL: scheme must be smtp:// or smtps://, not %q", u.Scheme)
	}
	if s.Host == "" {
		return nil, fmt.Errorf("SMTP_URL: no host")
	}
	if u.User != nil {
		s.Username = u.User.Username()
		s.Password, _ = u.User.Password()
	}
	if strings.TrimSpace(from) == "" {
		from = DefaultMailFrom
	}
	addr, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("MAIL_FROM %q: %w", from, err)
	}
	s.From = addr
	return s, nil
}

// Send delivers one message: connect, STARTTLS when offered (required with
// credentials off loopback), AUTH PLAIN when credentials are set, MAIL,
// RCPT, DATA, QUIT. A refused recipient (5xx on RCPT) is permanent; every
// other failure may be retried.
func (s *SMTPSender) Send(ctx context.Context, m MailMessage) error {
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return fmt.Errorf("%w: recipient %q: %v", ErrPermanent, m.To, err)
	}
	if s.From == nil {
		return fmt.Errorf("smtp: no sender address")
	}
	body, err := s.compose(m, to)
	if err != nil {
		return fmt.Errorf("%w: compose: %v", ErrPermanent, err)
	}

	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	deadline, _ := ctx.Deadline()

	addr := net.JoinHostPort(s.Host, s.Port)
	if s.dialAddr != "" {
		addr = s.dialAddr
	}
	dialer := &net.Dialer{}
	var conn net.Conn
	if s.Implicit {
		conn, err = (&tls.Dialer{NetDialer: dialer, Config: s.tlsConfig()}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = dialer.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return fmt.Errorf("smtp: connect %s: %w", addr, err)
	}
	_ = conn.SetDeadline(deadline)
	// Close the connection if the context ends first, so a stuck server
	// cannot hold the worker past shutdown.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	c, err := smtp.NewClient(conn, s.Host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp: greeting from %s: %w", addr, err)
	}
	defer c.Close()
	if err := c.Hello(s.localName()); err != nil {
		return fmt.Errorf("smtp: EHLO: %w", err)
	}
	secure := s.Implicit
	if !secure {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(s.tlsConfig()); err != nil {
				return fmt.Errorf("smtp: STARTTLS: %w", err)
			}
			secure = true
		}
	}
	if s.Username != "" {
		if !secure && !mailIsLoopback(s.Host) {
			return fmt.Errorf("smtp: %s does not offer STARTTLS; refusing to send the password in clear", addr)
		}
		if ok, _ := c.Extension("AUTH"); !ok {
			return fmt.Errorf("smtp: %s does not offer AUTH but SMTP_URL has credentials", addr)
		}
		if err := c.Auth(smtpPlainAuth{user: s.Username, pass: s.Password}); err != nil {
			return fmt.Errorf("smtp: AUTH: %w", err)
		}
	}
	if err := c.Mail(s.From.Address); err != nil {
		return fmt.Errorf("smtp: MAIL FROM: %w", err)
	}
	if err := c.Rcpt(to.Address); err != nil {
		var te *textproto.Error
		if errors.As(err, &te) && te.Code >= 500 {
			return fmt.Errorf("%w: smtp: RCPT TO %s: %v", ErrPermanent, to.Address, err)
		}
		return fmt.Errorf("smtp: RCPT TO %s: %w", to.Address, err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp: DATA: %w", err)
	}
	if _, err := w.Write(body); err != nil {
		return fmt.Errorf("smtp: write message: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp: message refused: %w", err)
	}
	// The message is accepted once DATA is closed; a failed QUIT changes
	// nothing about that, so it is not reported.
	_ = c.Quit()
	return nil
}

func (s *SMTPSender) tlsConfig() *tls.Config {
	var cfg *tls.Config
	if s.TLSConfig != nil {
		cfg = s.TLSConfig.Clone()
	} else {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		cfg.ServerName = s.Host
	}
	if cfg.MinVersion == 0 {
		cfg.MinVersion = tls.VersionTLS12
	}
	return cfg
}

func (s *SMTPSender) localName() string {
	if s.LocalName != "" {
		return s.LocalName
	}
	return "localhost"
}

func mailIsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// smtpPlainAuth is AUTH PLAIN. net/smtp's PlainAuth refuses to run without TLS
// unless the server is named exactly "localhost"/127.0.0.1/::1; Send has
// already enforced the same rule (TLS, or a loopback host), so this one
// only builds the response.
type smtpPlainAuth struct{ user, pass string }

func (a smtpPlainAuth) Start(*smtp.ServerInfo) (string, []byte, error) {
	return "PLAIN", []byte("\x00" + a.user + "\x00" + a.pass), nil
}

func (a smtpPlainAuth) Next(_ []byte, more bool) ([]byte, error) {
	if more {
		return nil, errors.New("smtp: unexpected AUTH PLAIN challenge")
	}
	return nil, nil
}

// compose builds the RFC 5322 message: headers, then a multipart/
// alternative body with the text part first and the HTML part last (mail
// readers show the last part they understand). Both parts are UTF-8,
// quoted-printable, so long lines and non-ASCII survive any relay.
func (s *SMTPSender) compose(m MailMessage, to *mail.Address) ([]byte, error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := func(k, v string) { fmt.Fprintf(&buf, "%s: %s\r\n", k, v) }
	h("From", s.From.String())
	h("To", to.String())
	h("Subject", mime.QEncoding.Encode("utf-8", mailHeaderLine(m.Subject)))
	h("Date", now().Format(time.RFC1123Z))
	h("Message-ID", mailMessageID(m.ID, s.From.Address))
	h("MIME-Version", "1.0")
	h("Content-Type", `multipart/alternative; boundary="`+mw.Boundary()+`"`)
	buf.WriteString("\r\n")

	parts := []struct{ ctype, body string }{{"text/plain; charset=utf-8", m.Text}}
	if m.HTML != "" {
		parts = append(parts, struct{ ctype, body string }{"text/html; charset=utf-8", m.HTML})
	}
	for _, p := range parts {
		pw, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {p.ctype},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		qp := quotedprintable.NewWriter(pw)
		if _, err := qp.Write([]byte(mailCRLF(p.body))); err != nil {
			return nil, err
		}
		if err := qp.Close(); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// mailMessageID is unique per delivery attempt yet names the outbox row, which
// helps when tracing a message through relays.
func mailMessageID(id int64, from string) string {
	domain := "localhost"
	if at := strings.LastIndexByte(from, '@'); at >= 0 && at < len(from)-1 {
		domain = from[at+1:]
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("<roster.%d.%s@%s>", id, hex.EncodeToString(b[:]), domain)
}

// mailHeaderLine keeps a header value on one line: a subject can never add headers.
func mailHeaderLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// mailCRLF normalises line ends to CRLF, as SMTP expects.
func mailCRLF(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.ReplaceAll(s, "\n", "\r\n")
}
