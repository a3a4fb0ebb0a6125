package onboarding

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"roster/internal/db"
)

// Mailer is the outbox's sender worker: one background loop (Run) that
// claims due emails in small batches, hands them to the Sender and records
// the outcome, retrying failures with exponential backoff.
//
// Delivery guarantee: at least once. A batch is claimed (status "sending")
// in one transaction before anything is sent, so two passes never send the
// same row and the happy path sends each email exactly once. If the process
// dies after the SMTP server accepted a message but before it was marked
// sent, the claim is released at the next start and the email is sent
// again: a rare duplicate is preferred to a lost invitation.
//
// Use: m := &Mailer{DB: d, Sender: s, Log: log}; go m.Run(ctx); call
// m.Poke() after enqueueing mail to send it now instead of at the next tick.
// Run assumes it is the only worker on its database.
type Mailer struct {
	DB       *db.DB
	Sender   Sender
	Log      *slog.Logger
	Now      func() time.Time
	Interval time.Duration // fallback poll when not poked; default 30 s

	BatchSize   int             // emails claimed per transaction; default 10
	MaxAttempts int             // attempts before an email is failed; default 6
	Backoff     []time.Duration // wait after the n-th failed attempt; the last entry repeats. Default 30 s, 2 min, 10 min, 1 h, 6 h
	ClaimLease  time.Duration   // a claim older than this is presumed abandoned; default 10 min

	initOnce sync.Once
	poke     chan struct{}
	sent     *prometheus.CounterVec
	pending  prometheus.Collector
}

// DefaultBackoff is the wait before each retry: attempt 1 failed → 30 s,
// attempt 2 → 2 min, and so on.
var DefaultBackoff = []time.Duration{30 * time.Second, 2 * time.Minute, 10 * time.Minute, time.Hour, 6 * time.Hour}

func (m *Mailer) init() {
	m.initOnce.Do(func() {
		m.poke = make(chan struct{}, 1)
		m.sent = prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roster_emails_sent_total",
			Help: "Email delivery attempts by result: sent, retry (failed, will be tried again) or failed (given up).",
		}, []string{"result"})
		for _, r := range []string{"sent", "retry", "failed"} {
			m.sent.WithLabelValues(r)
		}
		m.pending = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "roster_outbox_pending",
			Help: "Emails waiting in the outbox (pending or being sent).",
		}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			n, err := m.DB.CountEmails(ctx)
			if err != nil {
				return 0
			}
			return float64(n[db.EmailPending] + n[db.EmailSending])
		})
	})
}

// Collectors returns the mailer's metrics for registration.
func (m *Mailer) Collectors() []prometheus.Collector {
	m.init()
	return []prometheus.Collector{m.sent, m.pending}
}

// Poke wakes the worker to send now. It never blocks; pokes while the
// worker is busy collapse into one more pass.
func (m *Mailer) Poke() {
	m.init()
	select {
	case m.poke <- struct{}{}:
	default:
	}
}

func (m *Mailer) now() time.Time {
	if m.Now == nil {
		return time.Now().UTC()
	}
	return m.Now().UTC()
}

func (m *Mailer) log() *slog.Logger {
	if m.Log == nil {
		return slog.Default()
	}
	return m.Log
}

func (m *Mailer) interval() time.Duration {
	if m.Interval <= 0 {
		return 30 * time.Second
	}
	return m.Interval
}

func (m *Mailer) maxAttempts() int {
	if m.MaxAttempts <= 0 {
		return 6
	}
	return m.MaxAttempts
}

func (m *Mailer) lease() time.Duration {
	if m.ClaimLease <= 0 {
		return 10 * time.Minute
	}
	return m.ClaimLease
}

// backoff is the wait after the given failed attempt (1-based).
func (m *Mailer) backoff(attempt int) time.Duration {
	b := m.Backoff
	if len(b) == 0 {
		b = DefaultBackoff
	}
	if attempt < 1 {
		attempt = 1
	}
	if attempt > len(b) {
		return b[len(b)-1]
	}
	return b[attempt-1]
}

// Run sends due email until ctx ends, then returns nil. Emails claimed but
// not yet tried when ctx ends are handed back untouched.
func (m *Mailer) Run(ctx context.Context) error {
	m.init()
	if m.Sender == nil {
		return errors.New("mailer: no sender")
	}
	// Only one worker uses the database, so every claim left at start was
	// abandoned by a previous process.
	if n, err := m.DB.ReleaseStaleClaims(ctx, m.now().Add(time.Millisecond)); err != nil {
		m.log().Error("mailer: release abandoned claims", "err", err)
	} else if n > 0 {
		m.log().Warn("mailer: emails claimed by a stopped worker will be sent again", "count", n)
	}
	for {
		if _, err := m.SendDue(ctx); err != nil && ctx.Err() == nil {
			m.log().Error("mailer: send pass", "err", err)
		}
		if ctx.Err() != nil {
			return nil
		}
		wait := m.interval()
		if at, ok, err := m.DB.NextEmailDue(ctx); err == nil && ok {
			if d := at.Sub(m.now()); d < wait {
				wait = max(d, 100*time.Millisecond)
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-m.poke:
			t.Stop()
		case <-t.C:
		}
	}
}

// SendResult counts one pass's outcomes.
type SendResult struct {
	Sent, Retried, Failed int
}

// SendDue runs one pass: claims and delivers batches until nothing is due.
// Run calls it; tests call it directly with a fake clock.
func (m *Mailer) SendDue(ctx context.Context) (SendResult, error) {
	m.init()
	var res SendResult
	if _, err := m.DB.ReleaseStaleClaims(ctx, m.now().Add(-m.lease())); err != nil {
		return res, err
	}
	batch := m.BatchSize
	if batch <= 0 {
		batch = 10
	}
	for ctx.Err() == nil {
		emails, err := m.DB.ClaimDueEmails(ctx, m.now(), batch)
		if err != nil {
			return res, err
		}
		if len(emails) == 0 {
			return res, nil
		}
		for i, e := range emails {
			if ctx.Err() != nil {
				m.unclaim(emails[i:])
				return res, nil
			}
			if err := m.deliver(ctx, e, &res); err != nil {
				m.unclaim(emails[i+1:])
				return res, err
			}
		}
	}
	return res, nil
}

// deliver sends one claimed email and records the outcome. The outcome is
// written even when ctx has just ended, so a delivered email is never left
// claimed by a clean shutdown.
func (m *Mailer) deliver(ctx context.Context, e db.OutboxEmail, res *SendResult) error {
	err := m.Sender.Send(ctx, MailMessage{ID: e.ID, To: e.To, Subject: e.Subject, Text: e.Text, HTML: e.HTML, Kind: e.Kind})
	bg := context.WithoutCancel(ctx)
	log := m.log().With("email_id", e.ID, "kind", e.Kind, "attempt", e.Attempts)
	switch {
	case err == nil:
		if err := m.DB.MarkEmailSent(bg, e.ID, m.now()); err != nil {
			return fmt.Errorf("mailer: mark email %d sent: %w", e.ID, err)
		}
		m.sent.WithLabelValues("sent").Inc()
		res.Sent++
		log.Info("mailer: email sent")
	case ctx.Err() != nil:
		// Interrupted by shutdown, not refused: try again next start,
		// without spending an attempt.
		m.unclaim([]db.OutboxEmail{e})
	case errors.Is(err, ErrPermanent) || e.Attempts >= m.maxAttempts():
		if err := m.DB.MarkEmailFailed(bg, e.ID, mailErrText(err)); err != nil {
			return fmt.Errorf("mailer: mark email %d failed: %w", e.ID, err)
		}
		m.sent.WithLabelValues("failed").Inc()
		res.Failed++
		log.Error("mailer: email failed, giving up", "err", err)
	default:
		next := m.now().Add(m.backoff(e.Attempts))
		if err := m.DB.MarkEmailRetry(bg, e.ID, next, mailErrText(err)); err != nil {
			return fmt.Errorf("mailer: reschedule email %d: %w", e.ID, err)
		}
		m.sent.WithLabelValues("retry").Inc()
		res.Retried++
		log.Warn("mailer: email not sent, will retry", "err", err, "next_attempt", next)
	}
	return nil
}

func (m *Mailer) unclaim(emails []db.OutboxEmail) {
	for _, e := range emails {
		if err := m.DB.UnclaimEmail(context.Background(), e.ID); err != nil && !errors.Is(err, db.ErrNotFound) {
			m.log().Error("mailer: hand back claimed email", "email_id", e.ID, "err", err)
		}
	}
}

// mailErrText keeps a stored error readable and bounded.
func mailErrText(err error) string {
	s := err.Error()
	if len(s) > 1000 {
		s = s[:1000] + "…"
	}
	return s
}

// MailboxEntry is one outbox email as the Mailbox page shows it.
type MailboxEntry struct {
	ID             int64
	To             string
	Subject        string
	Kind           string
	Status         string // pending, sending, sent, failed
	Attempts       int
	LastError      string
	CreatedAt      time.Time
	SentAt         time.Time
	Text           string
	HTML           string
	OrganizationID string
}

// MailboxPage is one page of the Mailbox, newest first.
type MailboxPage struct {
	Entries []MailboxEntry
	// OlderBefore, when not 0, is the `before` cursor of the next (older) page.
	OlderBefore int64
}

// Mailbox lists the emails the actor may see (their organisation's; all
// for a platform admin), newest first, older than beforeID when set.
func (s *Service) Mailbox(ctx context.Context, act Actor, beforeID int64, limit int) (MailboxPage, error) {
	if limit <= 0 || limit > 100 {
		limit = 25
	}
	rows, err := s.DB.ListEmails(ctx, db.EmailFilter{
		OrganizationID: act.OrganizationID, AllOrgs: act.Platform(), BeforeID: beforeID, Limit: limit + 1,
	})
	if err != nil {
		return MailboxPage{}, err
	}
	var p MailboxPage
	if len(rows) > limit {
		rows = rows[:limit]
		p.OlderBefore = rows[len(rows)-1].ID
	}
	for _, r := range rows {
		p.Entries = append(p.Entries, mailboxEntry(r))
	}
	return p, nil
}

// MailboxMessage returns one email with its bodies. Another organisation's
// email is ErrNotFound, like a missing one.
func (s *Service) MailboxMessage(ctx context.Context, act Actor, id int64) (MailboxEntry, error) {
	r, err := s.DB.EmailByID(ctx, id)
	if errors.Is(err, db.ErrNotFound) || (err == nil && !act.CanSee(r.OrganizationID)) {
		return MailboxEntry{}, ErrNotFound
	}
	if err != nil {
		return MailboxEntry{}, err
	}
	return mailboxEntry(r), nil
}

func mailboxEntry(r db.OutboxEmail) MailboxEntry {
	return MailboxEntry{ID: r.ID, To: r.To, Subject: r.Subject, Kind: r.Kind, Status: r.Status, Attempts: r.Attempts,
		LastError: r.LastError, CreatedAt: r.CreatedAt, SentAt: r.SentAt, Text: r.Text, HTML: r.HTML, OrganizationID: r.OrganizationID}
}
