package web

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"roster/internal/dirsync"
)

func TestWebhook(t *testing.T) {
	a := newSyncApp(t)
	body := []byte(`{"id":"event_01HWEBHOOK","event":"dsync.user.created","data":{"id":"directory_user_01X"},"created_at":"2026-11-30T10:00:00.000Z"}`)
	now := time.Now()
	good := dirsync.Sign(body, testWebhookSecret, now)
	tests := []struct {
		name string
		body []byte
		sig  string
		want int
	}{
		{"good", body, good, http.StatusOK},
		{"replayed", body, good, http.StatusUnauthorized},
		{"replayed with other spacing", body, respace(good), http.StatusUnauthorized},
		{"wrong secret", body, dirsync.Sign(body, "whsec_wrong", now), http.StatusUnauthorized},
		{"body changed", append([]byte(nil), append(body[:len(body)-1], ' ', '}')...), dirsync.Sign(body, testWebhookSecret, now.Add(time.Millisecond)), http.StatusUnauthorized},
		{"too old", body, dirsync.Sign(body, testWebhookSecret, now.Add(-10*time.Minute)), http.StatusUnauthorized},
		{"from the future", body, dirsync.Sign(body, testWebhookSecret, now.Add(10*time.Minute)), http.StatusUnauthorized},
		{"no header", body, "", http.StatusUnauthorized},
		{"garbage header", body, "t=abc, v1=zz", http.StatusUnauthorized},
		{"another good one", body, dirsync.Sign(body, testWebhookSecret, now.Add(2*time.Millisecond)), http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := a.postWebhook(tt.body, tt.sig); got != tt.want {
				t.Errorf("status = %d, want %d", got, tt.want)
			}
		})
	}
}

func respace(sig string) string {
	out := []byte{}
	for i := 0; i < len(sig); i++ {
		if sig[i] == ' ' {
			out = append(out, ' ', ' ')
			continue
		}
		out = append(out, sig[i])
	}
	return string(out)
}

func TestWebhook_NoSecretConfigured(t *testing.T) {
	a := newSyncApp(t)
	a.srv.Config.WebhookSecret = ""
	body := []byte(`{"id":"event_1","event":"dsync.user.created","data":{}}`)
	if got := a.postWebhook(body, dirsync.Sign(body, "", time.Now())); got != http.StatusUnauthorized {
		t.Errorf("status = %d, want 401", got)
	}
}

// A good webhook makes the running sync poll at once: the change shows
// although the poll interval is an hour. The payload itself is not applied.
func TestWebhook_PokesTheSync(t *testing.T) {
	a := newSyncApp(t)
	a.syncer.Interval = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	dir := a.dirID()
	before, err := a.srv.App.DB.SyncState(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = a.syncer.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	// Wait for Run's first round to finish, then change the directory.
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, _ := a.srv.App.DB.SyncState(ctx, dir)
		if st.LastPollAt.After(before.LastPollAt) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Run never polled")
		}
		time.Sleep(20 * time.Millisecond)
	}
	mid, _ := a.srv.App.DB.SyncState(ctx, dir)
	hire(t, a.sbURL, dir)
	// A fake payload naming a user that does not exist: it must not appear.
	body := []byte(`{"id":"event_fake","event":"dsync.user.created","data":{"id":"directory_user_fake","directory_id":"` + dir + `","state":"active"}}`)
	if got := a.postWebhook(body, dirsync.Sign(body, testWebhookSecret, time.Now())); got != http.StatusOK {
		t.Fatalf("webhook: %d", got)
	}
	for {
		st, _ := a.srv.App.DB.SyncState(ctx, dir)
		if st.EventsApplied > mid.EventsApplied {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the webhook did not trigger a poll")
		}
		time.Sleep(20 * time.Millisecond)
	}
	snap, _ := a.srv.App.DB.Snapshot(ctx, dir)
	for _, u := range snap.Users {
		if u.ID == "directory_user_fake" {
			t.Errorf("the webhook payload was applied")
		}
	}
}

func hire(t *testing.T, sbURL, dir string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, sbURL+"/_sandbox/scenarios/new-hires",
		strings.NewReader(`{"directory_id":"`+dir+`","count":1}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		t.Fatalf("hire: %d", resp.StatusCode)
	}
}
