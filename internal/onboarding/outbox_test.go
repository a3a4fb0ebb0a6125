package onboarding

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"roster/internal/db"
)

type mailClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *mailClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *mailClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func mailDiscardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// scriptSender fails its first n sends (per recipient) with err, then
// accepts; it records every accepted message.
type scriptSender struct {
	mu    sync.Mutex
	fails map[string]int
	err   error
	got   []MailMessage
	tries map[string]int
	block chan struct{} // when set, Send waits for it or for ctx
}

func (s *scriptSender) Send(ctx context.Context, m MailMessage) error {
	if s.block != nil {
		select {
		case <-s.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tries == nil {
		s.tries = map[string]int{}
	}
	s.tries[m.To]++
	if s.tries[m.To] <= s.fails[m.To] {
		return s.err
	}
	s.got = append(s.got, m)
	return nil
}

func (s *scriptSender) sent() []MailMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]MailMessage(nil), s.got...)
}

func TestMailerBackoffSchedule(t *testing.T) {
	ctx := context.Background()
	d := newMailTestDB(t)
	clock := &mailClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	snd := &scriptSender{fails: map[string]int{"slow@example.test": 3}, err: errors.New("421 try later")}
	m := &Mailer{DB: d, Sender: snd, Log: mailDiscardLog(), Now: clock.Now}
	enqueueMailTest(t, d, db.OutboxEmail{To: "slow@example.test", Subject: "s", CreatedAt: clock.Now()})
	enqueueMailTest(t, d, db.OutboxEmail{To: "fast@example.test", Subject: "f", CreatedAt: clock.Now()})

	res, err := m.SendDue(ctx)
	if err != nil || res.Sent != 1 || res.Retried != 1 {
		t.Fatalf("first pass = %+v, %v; want 1 sent, 1 retry", res, err)
	}
	// Default schedule: 30 s, 2 min, 10 min after attempts 1, 2, 3.
	for i, wait := range []time.Duration{30 * time.Second, 2 * time.Minute, 10 * time.Minute} {
		clock.Add(wait - time.Second)
		if res, _ := m.SendDue(ctx); res != (SendResult{}) {
			t.Fatalf("step %d: sent before the backoff elapsed: %+v", i, res)
		}
		clock.Add(time.Second)
		res, err := m.SendDue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if i < 2 && res.Retried != 1 {
			t.Fatalf("step %d: %+v, want a retry", i, res)
		}
		if i == 2 && res.Sent != 1 {
			t.Fatalf("step %d: %+v, want sent", i, res)
		}
	}
	sent := snd.sent()
	if len(sent) != 2 || sent[0].To != "fast@example.test" || sent[1].To != "slow@example.test" {
		t.Errorf("sent = %+v", sent)
	}
	row, _ := d.EmailByID(ctx, 1)
	if row.Status != db.EmailSent || row.Attempts != 4 || row.LastError != "" {
		t.Errorf("slow row = %+v", row)
	}
	// Nothing is sent twice.
	clock.Add(24 * time.Hour)
	if res, _ := m.SendDue(ctx); res != (SendResult{}) {
		t.Errorf("later pass = %+v, want nothing", res)
	}
	if got := testutil.ToFloat64(m.sent.WithLabelValues("sent")); got != 2 {
		t.Errorf("roster_emails_sent_total{result=sent} = %v, want 2", got)
	}
	if got := testutil.ToFloat64(m.sent.WithLabelValues("retry")); got != 3 {
		t.Errorf("roster_emails_sent_total{result=retry} = %v, want 3", got)
	}
}

func TestMailerGivesUpAfterMaxAttempts(t *testing.T) {
	ctx := context.Background()
	d := newMailTestDB(t)
	clock := &mailClock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	snd := &scriptSender{fails: map[string]int{"x@example.test": 100}, err: errors.New("connection refused")}
	m := &Mailer{DB: d, Sender: snd, Log: mailDiscardLog(), Now: clock.Now, MaxAttempts: 4}
	enqueueMailTest(t, d, db.OutboxEmail{To: "x@example.test", Subject: "s", CreatedAt: clock.Now()})
	var total SendResult
	for range 10 {
		res, err := m.SendDue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		total.Retried += res.Retried
		total.Failed += res.Failed
		clock.Add(7 * time.Hour) // past the longest default backoff
	}
	if total.Retried != 3 || total.Failed != 1 {
		t.Errorf("outcomes = %+v; want 3 retries then failed", total)
	}
	row, _ := d.EmailByID(ctx, 1)
	if row.Status != db.EmailFailed || row.Attempts != 4 || row.LastError != "connection refused" {
		t.Errorf("row = %+v", row)
	}
}

func TestMailerPermanentErrorFailsAtOnce(t *testing.T) {
	ctx := context.Background()
	d := newMailTestDB(t)
	snd := &scriptSender{fails: map[string]int{"bad": 1}, err: fmt.Errorf("%w: bad address", ErrPermanent)}
	m := &Mailer{DB: d, Sender: snd, Log: mailDiscardLog()}
	enqueueMailTest(t, d, db.OutboxEmail{To: "bad", Subject: "s"})
	if res, err := m.SendDue(ctx); err != nil || res.Failed != 1 {
		t.Fatalf("SendDue = %+v, %v", res, err)
	}
}

// Batches: more emails than one claim are all sent in one pass.
func TestMailerBatches(t *testing.T) {
	ctx := context.Background()
	d := newMailTestDB(t)
	snd := &scriptSender{}
	m := &Mailer{DB: d, Sender: snd, Log: mailDiscardLog(), BatchSize: 3}
	for i := range 8 {
		enqueueMailTest(t, d, db.OutboxEmail{To: fmt.Sprintf("p%d@example.test", i), Subject: "s"})
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(m.Collectors()...)
	if got := testutil.ToFloat64(m.pending); got != 8 {
		t.Errorf("roster_outbox_pending = %v, want 8", got)
	}
	if res, err := m.SendDue(ctx); err != nil || res.Sent != 8 {
		t.Fatalf("SendDue = %+v, %v", res, err)
	}
	if got := testutil.ToFloat64(m.pending); got != 0 {
		t.Errorf("roster_outbox_pending after = %v, want 0", got)
	}
	if n, err := testutil.GatherAndCount(reg, "roster_emails_sent_total", "roster_outbox_pending"); err != nil || n != 4 {
		t.Errorf("gathered %d series (%v), want 3 results + 1 gauge", n, err)
	}
}

// Run sends what is poked, and on shutdown hands a claimed but unsent email
// back without spending an attempt.
func TestMailerRunPokeAndShutdown(t *testing.T) {
	d := newMailTestDB(t)
	snd := &scriptSender{}
	m := &Mailer{DB: d, Sender: snd, Log: mailDiscardLog(), Interval: time.Hour}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()

	enqueueMailTest(t, d, db.OutboxEmail{To: "poked@example.test", Subject: "s"})
	m.Poke()
	mailWaitFor(t, func() bool { return len(snd.sent()) == 1 })

	// Now a send that hangs until shutdown.
	snd.block = make(chan struct{})
	enqueueMailTest(t, d, db.OutboxEmail{To: "hung@example.test", Subject: "s"})
	m.Poke()
	mailWaitFor(t, func() bool {
		row, err := d.EmailByID(context.Background(), 2)
		return err == nil && row.Status == db.EmailSending
	})
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop on shutdown")
	}
	row, _ := d.EmailByID(context.Background(), 2)
	if row.Status != db.EmailPending || row.Attempts != 0 {
		t.Errorf("interrupted email = %+v; want pending with no attempt spent", row)
	}
}

// A claim left by a crashed worker is released when Run starts, and the
// email is sent (again: at-least-once).
func TestMailerReleasesAbandonedClaimsAtStart(t *testing.T) {
	d := newMailTestDB(t)
	enqueueMailTest(t, d, db.OutboxEmail{To: "crash@example.test", Subject: "s"})
	if got, err := d.ClaimDueEmails(context.Background(), time.Now(), 10); err != nil || len(got) != 1 {
		t.Fatal(got, err)
	}
	snd := &scriptSender{}
	m := &Mailer{DB: d, Sender: snd, Log: mailDiscardLog(), Interval: time.Hour}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go m.Run(ctx)
	mailWaitFor(t, func() bool { return len(snd.sent()) == 1 })
}

// mailWaitFor polls cond until it holds; the deadline only guards against a
// hang, it is not what the test measures.
func mailWaitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestMailboxTenancy(t *testing.T) {
	ctx := context.Background()
	d := newMailTestDB(t)
	s := &Service{DB: d}
	for i := range 30 {
		org := "org_a"
		if i%3 == 0 {
			org = "org_b"
		}
		enqueueMailTest(t, d, db.OutboxEmail{To: fmt.Sprintf("p%d@example.test", i), Subject: "s", OrganizationID: org})
	}
	a := Actor{Email: "a@example.test", OrganizationID: "org_a"}
	p, err := s.Mailbox(ctx, a, 0, 15)
	if err != nil || len(p.Entries) != 15 || p.OlderBefore == 0 {
		t.Fatalf("page 1 = %d entries, older %d, %v", len(p.Entries), p.OlderBefore, err)
	}
	p2, err := s.Mailbox(ctx, a, p.OlderBefore, 15)
	if err != nil || len(p2.Entries) != 5 || p2.OlderBefore != 0 {
		t.Fatalf("page 2 = %d entries, older %d, %v", len(p2.Entries), p2.OlderBefore, err)
	}
	for _, e := range append(p.Entries, p2.Entries...) {
		if e.OrganizationID != "org_a" {
			t.Errorf("org_a admin sees %+v", e)
		}
	}
	if p.Entries[0].ID < p.Entries[1].ID {
		t.Error("not newest first")
	}
	if _, err := s.MailboxMessage(ctx, a, 1); !errors.Is(err, ErrNotFound) { // id 1 is org_b's
		t.Errorf("other org's email: %v, want ErrNotFound", err)
	}
	if _, err := s.MailboxMessage(ctx, a, 999); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown email: %v, want ErrNotFound", err)
	}
	if e, err := s.MailboxMessage(ctx, Actor{Email: "root@example.test"}, 1); err != nil || e.OrganizationID != "org_b" {
		t.Errorf("platform admin: %+v, %v", e, err)
	}
}
