package sandbox

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// webhooks delivers events, in order, to one endpoint. A failed delivery
// is retried with exponential backoff; after maxAttempts the event is
// dropped (and logged) so that one poisoned event cannot stall the rest.
type webhooks struct {
	s      *Sandbox
	client *http.Client

	mu        sync.Mutex
	url       string
	secret    string
	queue     []*event
	delivered int
	dropped   int
	lastError string

	wake        chan struct{}
	base        time.Duration // first retry delay
	maxDelay    time.Duration
	maxAttempts int
}

func newWebhooks(s *Sandbox, url, secret string) *webhooks {
	return &webhooks{
		s: s, url: url, secret: secret,
		client:   &http.Client{Timeout: 10 * time.Second},
		wake:     make(chan struct{}, 1),
		base:     250 * time.Millisecond,
		maxDelay: 30 * time.Second, maxAttempts: 8,
	}
}

// enqueue queues e when an endpoint is configured. Called with Sandbox.mu held.
func (h *webhooks) enqueue(e *event) {
	h.mu.Lock()
	if h.url != "" {
		h.queue = append(h.queue, e)
	}
	h.mu.Unlock()
	h.signal()
}

func (h *webhooks) signal() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// configure changes the endpoint; an empty URL turns delivery off and
// forgets queued events.
func (h *webhooks) configure(url, secret string) {
	h.mu.Lock()
	h.url, h.secret = url, secret
	if url == "" {
		h.queue = nil
	}
	h.mu.Unlock()
	h.signal()
}

type webhookStatus struct {
	URL                string
	HasSecret          bool
	Pending            int
	Delivered, Dropped int
	LastError          string
}

func (h *webhooks) status() webhookStatus {
	h.mu.Lock()
	defer h.mu.Unlock()
	return webhookStatus{URL: h.url, HasSecret: h.secret != "", Pending: len(h.queue), Delivered: h.delivered, Dropped: h.dropped, LastError: h.lastError}
}

func (h *webhooks) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.wake:
		}
		for {
			h.mu.Lock()
			if len(h.queue) == 0 || h.url == "" {
				h.mu.Unlock()
				break
			}
			e, url, secret := h.queue[0], h.url, h.secret
			h.mu.Unlock()
			ok := h.deliver(ctx, e, url, secret)
			if ctx.Err() != nil {
				return
			}
			h.mu.Lock()
			if len(h.queue) > 0 && h.queue[0] == e {
				h.queue = h.queue[1:]
				if ok {
					h.delivered++
				} else {
					h.dropped++
				}
			}
			h.mu.Unlock()
		}
	}
}

// deliver tries to POST e until it succeeds, attempts run out or ctx ends.
func (h *webhooks) deliver(ctx context.Context, e *event, url, secret string) bool {
	var j jw
	writeEvent(&j, e, false)
	body := j.b
	delay := h.base
	for attempt := 1; ; attempt++ {
		err := h.post(ctx, url, secret, body)
		if err == nil {
			return true
		}
		h.mu.Lock()
		h.lastError = err.Error()
		h.mu.Unlock()
		if attempt >= h.maxAttempts {
			h.s.log.Warn("sandbox webhook dropped", "event", e.id, "attempts", attempt, "err", err)
			return false
		}
		h.s.log.Info("sandbox webhook failed, retrying", "event", e.id, "attempt", attempt, "in", delay, "err", err)
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
		delay = min(delay*2, h.maxDelay)
	}
}

// signature computes the WorkOS-Signature header for body at t (unix ms).
func signature(secret string, t int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(t, 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "t=" + strconv.FormatInt(t, 10) + ", v1=" + hex.EncodeToString(mac.Sum(nil))
}

func (h *webhooks) post(ctx context.Context, url, secret string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "WorkOS Sandbox")
	req.Header.Set("WorkOS-Signature", signature(secret, h.s.now(), body))
	resp, err := h.client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("webhook endpoint answered %s", resp.Status)
	}
	return nil
}

func (h *webhooks) currentSecret() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.secret
}
