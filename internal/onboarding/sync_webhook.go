package onboarding

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"roster/internal/dirsync"
)

// WebhookTolerance is how old (or early) a webhook signature may be.
const WebhookTolerance = 180 * time.Second

// Webhook refusals. The caller answers 401 to all of them.
var (
	ErrWebhookSignature = errors.New("webhook signature does not match")
	ErrWebhookExpired   = errors.New("webhook signature is too old")
	ErrWebhookReplayed  = errors.New("webhook was already received")
)

// WebhookReceipt says what a verified webhook announced (for the log).
type WebhookReceipt struct {
	EventID, Event string
}

// webhookSeen remembers the signatures received within the tolerance
// window, so that a captured request cannot be played again.
type webhookSeen struct {
	mu   sync.Mutex
	seen map[string]time.Time // replayKey → when it expires from memory
}

// replayKey identifies a signed message whatever the header's spacing or
// case: its timestamp and the hash of its body.
func replayKey(header string, body []byte) string {
	t := ""
	for part := range strings.SplitSeq(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		if strings.EqualFold(strings.TrimSpace(k), "t") {
			t = strings.TrimSpace(v)
		}
	}
	sum := sha256.Sum256(body)
	return t + ":" + hex.EncodeToString(sum[:])
}

// ReceiveWebhook checks a WorkOS webhook (header WorkOS-Signature, raw body)
// against the secret and refuses replays; a good one triggers an immediate
// poll. Its payload is never applied: the Events API stays the ordered
// source of truth.
func (s *Syncer) ReceiveWebhook(header string, body []byte, secret string) (WebhookReceipt, error) {
	s.init()
	now := s.now()
	if secret == "" {
		return WebhookReceipt{}, fmt.Errorf("%w: no webhook secret is configured", ErrWebhookSignature)
	}
	if err := dirsync.Verify(header, body, secret, WebhookTolerance, now); err != nil {
		if errors.Is(err, dirsync.ErrSignatureExpired) {
			return WebhookReceipt{}, fmt.Errorf("%w: %v", ErrWebhookExpired, err)
		}
		return WebhookReceipt{}, fmt.Errorf("%w: %v", ErrWebhookSignature, err)
	}
	s.hooks.mu.Lock()
	if s.hooks.seen == nil {
		s.hooks.seen = map[string]time.Time{}
	}
	for k, exp := range s.hooks.seen {
		if now.After(exp) {
			delete(s.hooks.seen, k)
		}
	}
	key := replayKey(header, body)
	_, dup := s.hooks.seen[key]
	if !dup {
		// Kept twice the tolerance: a signature is accepted up to the
		// tolerance either side of now.
		s.hooks.seen[key] = now.Add(2 * WebhookTolerance)
	}
	s.hooks.mu.Unlock()
	if dup {
		return WebhookReceipt{}, ErrWebhookReplayed
	}
	var r WebhookReceipt
	if ev, err := dirsync.ParseEvent(body); err == nil {
		r = WebhookReceipt{EventID: ev.ID, Event: ev.Event}
	}
	s.Poke()
	return r, nil
}
