package onboarding

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"roster/internal/db"
)

// smtpBox is a real in-process SMTP server that keeps what it receives.
type smtpBox struct {
	srv  *smtp.Server
	addr string
	pool *x509.CertPool // trusts the server's certificate

	mu       sync.Mutex
	msgs     []smtpMsg
	authTry  int
	user     string
	pass     string
	rejectTo string // RCPT TO this address gets 550
}

type smtpMsg struct {
	From string
	To   []string
	Data []byte
	TLS  bool
	User string
}

type smtpSession struct {
	box  *smtpBox
	conn *smtp.Conn
	user string
	cur  smtpMsg
}

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *smtpSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		s.box.mu.Lock()
		defer s.box.mu.Unlock()
		s.box.authTry++
		if user != s.box.user || pass != s.box.pass {
			return smtp.ErrAuthFailed
		}
		s.user = user
		return nil
	}), nil
}
func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.box.user != "" && s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.cur = smtpMsg{From: from}
	return nil
}
func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if to == s.box.rejectTo {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}
	s.cur.To = append(s.cur.To, to)
	return nil
}
func (s *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, s.cur.TLS = s.conn.TLSConnectionState()
	s.cur.Data, s.cur.User = b, s.user
	s.box.mu.Lock()
	s.box.msgs = append(s.box.msgs, s.cur)
	s.box.mu.Unlock()
	return nil
}
func (s *smtpSession) Reset()        { s.cur = smtpMsg{} }
func (s *smtpSession) Logout() error { return nil }

type smtpBoxOpts struct {
	startTLS, implicitTLS bool
	user, pass            string
	insecureAuth          bool
}

func newSMTPBox(t *testing.T, o smtpBoxOpts) *smtpBox {
	t.Helper()
	box := &smtpBox{user: o.user, pass: o.pass}
	box.srv = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &smtpSession{box: box, conn: c}, nil
	}))
	box.srv.Domain = "localhost"
	box.srv.AllowInsecureAuth = o.insecureAuth
	box.srv.ReadTimeout, box.srv.WriteTimeout = 10*time.Second, 10*time.Second
	var tlsCfg *tls.Config
	if o.startTLS || o.implicitTLS {
		tlsCfg, box.pool = mailSelfSigned(t)
		box.srv.TLSConfig = tlsCfg
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if o.implicitTLS {
		l = tls.NewListener(l, tlsCfg)
	}
	box.addr = l.Addr().String()
	go box.srv.Serve(l)
	t.Cleanup(func() { box.srv.Close() })
	return box
}

func (b *smtpBox) received() []smtpMsg {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]smtpMsg(nil), b.msgs...)
}

func (b *smtpBox) port() string { _, p, _ := net.SplitHostPort(b.addr); return p }

// mailSelfSigned makes a certificate for 127.0.0.1/localhost and a pool that
// trusts it.
func mailSelfSigned(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "roster test smtp"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"localhost", "mail.example.test"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, pool
}

func newMailTestDB(t *testing.T) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func enqueueMailTest(t *testing.T, d *db.DB, m db.OutboxEmail) {
	t.Helper()
	ctx := context.Background()
	if err := d.Tx(ctx, func(tx db.Tx) error { return db.EnqueueEmail(ctx, tx, m) }); err != nil {
		t.Fatal(err)
	}
}

const inviteLink = "https://roster.example.test/invite/tok_4f9a1c0d2e3b4a5f6789abcdef012345"

// A whole delivery through the Mailer and a real server with STARTTLS and
// AUTH PLAIN: the message arrives once, with proper headers and both parts.
func TestSMTPSenderSTARTTLSDelivery(t *testing.T) {
	ctx := context.Background()
	box := newSMTPBox(t, smtpBoxOpts{startTLS: true, user: "mailer", pass: "s3cret/+pw"})
	snd, err := NewSMTPSender("smtp://mailer:s3cret%2F%2Bpw@127.0.0.1:"+box.port(), "Roster Team <roster@example.test>")
	if err != nil {
		t.Fatal(err)
	}
	snd.TLSConfig = &tls.Config{RootCAs: box.pool}
	date := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	snd.Now = func() time.Time { return date }

	d := newMailTestDB(t)
	subject := "Willkommen bei Roster, Zoë 👋"
	text := "Hello Zoë,\n\nYou are invited. Open this link to set your password:\n" + inviteLink + "\n\nThe link works for 7 days.\n"
	html := `<p>Hello Zoë,</p><p><a href="` + inviteLink + `">Accept the invitation</a></p>`
	enqueueMailTest(t, d, db.OutboxEmail{To: "zoe@example.test", Subject: subject, Text: text, HTML: html, Kind: "invitation", OrganizationID: "org_1"})
	m := &Mailer{DB: d, Sender: snd, Log: mailDiscardLog()}
	res, err := m.SendDue(ctx)
	if err != nil || res.Sent != 1 {
		t.Fatalf("SendDue = %+v, %v; want 1 sent", res, err)
	}
	if res, _ := m.SendDue(ctx); res.Sent != 0 {
		t.Errorf("second pass sent %d again", res.Sent)
	}
	got := box.received()
	if len(got) != 1 {
		t.Fatalf("server got %d messages, want 1", len(got))
	}
	msg := got[0]
	if !msg.TLS || msg.User != "mailer" {
		t.Errorf("session TLS=%v user=%q; want TLS and user mailer", msg.TLS, msg.User)
	}
	if msg.From != "roster@example.test" || len(msg.To) != 1 || msg.To[0] != "zoe@example.test" {
		t.Errorf("envelope from=%q to=%v", msg.From, msg.To)
	}

	pm, err := mail.ReadMessage(strings.NewReader(string(msg.Data)))
	if err != nil {
		t.Fatal(err)
	}
	dec := new(mime.WordDecoder)
	gotSubj, err := dec.DecodeHeader(pm.Header.Get("Subject"))
	if err != nil || gotSubj != subject {
		t.Errorf("Subject = %q (%v), want %q", gotSubj, err, subject)
	}
	if raw := pm.Header.Get("Subject"); !strings.HasPrefix(raw, "=?utf-8?") {
		t.Errorf("non-ASCII subject not RFC 2047 encoded: %q", raw)
	}
	if from, err := pm.Header.AddressList("From"); err != nil || from[0].Address != "roster@example.test" || from[0].Name != "Roster Team" {
		t.Errorf("From = %v, %v", from, err)
	}
	if to, err := pm.Header.AddressList("To"); err != nil || to[0].Address != "zoe@example.test" {
		t.Errorf("To = %v, %v", to, err)
	}
	if dt, err := pm.Header.Date(); err != nil || !dt.Equal(date) {
		t.Errorf("Date = %v, %v; want %v", dt, err, date)
	}
	if id := pm.Header.Get("Message-ID"); !strings.HasPrefix(id, "<roster.") || !strings.HasSuffix(id, "@example.test>") {
		t.Errorf("Message-ID = %q", id)
	}
	if v := pm.Header.Get("MIME-Version"); v != "1.0" {
		t.Errorf("MIME-Version = %q", v)
	}
	mt, params, err := mime.ParseMediaType(pm.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type = %q, %v", pm.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(pm.Body, params["boundary"])
	var parts []string
	var bodies []string
	for {
		p, err := mr.NextPart() // decodes quoted-printable
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		parts = append(parts, p.Header.Get("Content-Type"))
		bodies = append(bodies, string(b))
	}
	if len(parts) != 2 || parts[0] != "text/plain; charset=utf-8" || parts[1] != "text/html; charset=utf-8" {
		t.Fatalf("parts = %v; want text then html", parts)
	}
	if !strings.Contains(bodies[0], inviteLink) || !strings.Contains(bodies[0], "Hello Zoë,\r\n") {
		t.Errorf("text part lost the link or the greeting: %q", bodies[0])
	}
	if !strings.Contains(bodies[1], `href="`+inviteLink+`"`) {
		t.Errorf("html part lost the link: %q", bodies[1])
	}
	row, _ := d.EmailByID(ctx, 1)
	if row.Status != db.EmailSent || row.Attempts != 1 || !row.SentAt.After(time.Time{}) {
		t.Errorf("outbox row after delivery = %+v", row)
	}
}

// A wrong password is retried with backoff, then failed with the server's
// error kept on the row.
func TestSMTPAuthFailureRetriedThenFailed(t *testing.T) {
	ctx := context.Background()
	box := newSMTPBox(t, smtpBoxOpts{startTLS: true, user: "mailer", pass: "right"})
	snd, err := NewSMTPSender("smtp://mailer:wrong@127.0.0.1:"+box.port(), "roster@example.test")
	if err != nil {
		t.Fatal(err)
	}
	snd.TLSConfig = &tls.Config{RootCAs: box.pool}
	d := newMailTestDB(t)
	clock := &mailClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	d.Now = clock.Now
	enqueueMailTest(t, d, db.OutboxEmail{To: "a@example.test", Subject: "Hi", Text: "x", CreatedAt: clock.Now()})
	m := &Mailer{DB: d, Sender: snd, Log: mailDiscardLog(), Now: clock.Now, MaxAttempts: 3,
		Backoff: []time.Duration{30 * time.Second, 2 * time.Minute}}

	for i, wait := range []time.Duration{30 * time.Second, 2 * time.Minute} {
		res, err := m.SendDue(ctx)
		if err != nil || res.Retried != 1 {
			t.Fatalf("attempt %d: %+v, %v; want a retry", i+1, res, err)
		}
		row, _ := d.EmailByID(ctx, 1)
		if row.Status != db.EmailPending || !strings.Contains(row.LastError, "535") || !row.NextAttemptAt.Equal(clock.Now().Add(wait)) {
			t.Errorf("after attempt %d: %+v", i+1, row)
		}
		clock.Add(wait)
	}
	res, err := m.SendDue(ctx)
	if err != nil || res.Failed != 1 {
		t.Fatalf("last attempt: %+v, %v; want failed", res, err)
	}
	row, _ := d.EmailByID(ctx, 1)
	if row.Status != db.EmailFailed || row.Attempts != 3 || !strings.Contains(row.LastError, "535") {
		t.Errorf("final row = %+v", row)
	}
	if n := len(box.received()); n != 0 {
		t.Errorf("server received %d messages despite failed auth", n)
	}
	box.mu.Lock()
	tries := box.authTry
	box.mu.Unlock()
	if tries != 3 {
		t.Errorf("auth tried %d times, want 3", tries)
	}
}

// smtps:// speaks TLS from the first byte.
func TestSMTPSenderImplicitTLS(t *testing.T) {
	box := newSMTPBox(t, smtpBoxOpts{implicitTLS: true, user: "u", pass: "p"})
	snd, err := NewSMTPSender("smtps://u:p@127.0.0.1:"+box.port(), "roster@example.test")
	if err != nil {
		t.Fatal(err)
	}
	snd.TLSConfig = &tls.Config{RootCAs: box.pool}
	if err := snd.Send(context.Background(), MailMessage{ID: 7, To: "b@example.test", Subject: "Plain subject", Text: "hello"}); err != nil {
		t.Fatal(err)
	}
	got := box.received()
	if len(got) != 1 || !got[0].TLS || got[0].User != "u" {
		t.Fatalf("received = %+v", got)
	}
	pm, _ := mail.ReadMessage(strings.NewReader(string(got[0].Data)))
	if s := pm.Header.Get("Subject"); s != "Plain subject" {
		t.Errorf("ASCII subject = %q, want it unencoded", s)
	}
}

// Credentials are never sent in clear to a server that is not on loopback
// and offers no STARTTLS; on loopback, plain AUTH is accepted.
func TestSMTPSenderRefusesClearPassword(t *testing.T) {
	box := newSMTPBox(t, smtpBoxOpts{user: "u", pass: "p", insecureAuth: true})
	snd, err := NewSMTPSender("smtp://u:p@mail.example.test:587", "roster@example.test")
	if err != nil {
		t.Fatal(err)
	}
	snd.dialAddr = box.addr
	err = snd.Send(context.Background(), MailMessage{To: "a@example.test", Subject: "x", Text: "x"})
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("err = %v; want a refusal naming STARTTLS", err)
	}
	box.mu.Lock()
	tries := box.authTry
	box.mu.Unlock()
	if tries != 0 || len(box.received()) != 0 {
		t.Errorf("password was offered (%d auth tries) or mail sent", tries)
	}

	loop, err := NewSMTPSender("smtp://u:p@127.0.0.1:"+box.port(), "roster@example.test")
	if err != nil {
		t.Fatal(err)
	}
	if err := loop.Send(context.Background(), MailMessage{To: "a@example.test", Subject: "x", Text: "x"}); err != nil {
		t.Fatalf("loopback without TLS: %v", err)
	}
	if got := box.received(); len(got) != 1 || got[0].TLS || got[0].User != "u" {
		t.Errorf("received = %+v", got)
	}
}

// A recipient the server refuses for good is failed at once, not retried.
func TestSMTPRejectedRecipientIsPermanent(t *testing.T) {
	ctx := context.Background()
	box := newSMTPBox(t, smtpBoxOpts{})
	box.rejectTo = "gone@example.test"
	snd, err := NewSMTPSender("smtp://127.0.0.1:"+box.port(), "")
	if err != nil {
		t.Fatal(err)
	}
	if snd.From.Address != "roster@localhost" {
		t.Errorf("default From = %v", snd.From)
	}
	d := newMailTestDB(t)
	enqueueMailTest(t, d, db.OutboxEmail{To: "gone@example.test", Subject: "x", Text: "x"})
	m := &Mailer{DB: d, Sender: snd, Log: mailDiscardLog()}
	res, err := m.SendDue(ctx)
	if err != nil || res.Failed != 1 {
		t.Fatalf("SendDue = %+v, %v; want failed at once", res, err)
	}
	row, _ := d.EmailByID(ctx, 1)
	if row.Status != db.EmailFailed || row.Attempts != 1 || !strings.Contains(row.LastError, "550") {
		t.Errorf("row = %+v", row)
	}
}

func TestNewSMTPSenderConfig(t *testing.T) {
	for _, tc := range []struct {
		url, from string
		host      string
		port      string
		implicit  bool
		user      string
		wantErr   string
	}{
		{url: "smtp://user:pass@mail.example.com", host: "mail.example.com", port: "587", user: "user"},
		{url: "smtp://mail.example.com:25", host: "mail.example.com", port: "25"},
		{url: "smtps://u:p@mail.example.com", host: "mail.example.com", port: "465", implicit: true, user: "u"},
		{url: "http://mail.example.com", wantErr: "scheme"},
		{url: "smtp://", wantErr: "no host"},
		{url: "smtp://h", from: "not an address", wantErr: "MAIL_FROM"},
	} {
		s, err := NewSMTPSender(tc.url, tc.from)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: err = %v, want %q", tc.url, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.url, err)
			continue
		}
		if s.Host != tc.host || s.Port != tc.port || s.Implicit != tc.implicit || s.Username != tc.user {
			t.Errorf("%s: got %+v", tc.url, s)
		}
	}
	if s, err := NewSender("", ""); err != nil {
		t.Error(err)
	} else if _, ok := s.(MailboxSender); !ok {
		t.Errorf("no SMTP_URL: sender = %T, want MailboxSender", s)
	}
}
