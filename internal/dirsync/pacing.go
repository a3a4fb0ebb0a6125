package dirsync

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// pacer holds the client-side token buckets. Reservations are taken at the
// injected clock's time and waited out with the injected sleep, so tests can
// drive pacing with a fake clock (rate.Limiter.Wait would use real time).
type pacer struct {
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error

	key    *rate.Limiter // whole-key budget; nil = disabled
	perDir rate.Limit    // 0 = per-directory pacing disabled

	mu   sync.Mutex
	dirs map[string]*rate.Limiter
}

// paceMargin keeps the per-directory pace 3% under the limit. WorkOS counts
// requests as they arrive, and arrival times jitter (a new connection, a
// slow hop): spaced exactly 250 ms apart at the client, five requests can
// land within one second at the server and the fifth is refused. 3% leaves
// ~30 ms of slack per second and keeps the quota use above 0.95.
const paceMargin = 0.97

func newPacer(perDir float64, perMinute int, now func() time.Time, sleep func(context.Context, time.Duration) error) *pacer {
	p := &pacer{now: now, sleep: sleep, dirs: map[string]*rate.Limiter{}}
	if perDir > 0 {
		p.perDir = rate.Limit(perDir * paceMargin)
	}
	if perMinute > 0 {
		// A bucket of rate r and burst b admits up to b + 60r requests in any
		// 60 s window; choose r so that this never exceeds the budget.
		burst := max(1, perMinute/100)
		r := float64(perMinute-burst) / 60
		if r <= 0 {
			r, burst = float64(perMinute)/60, 1
		}
		p.key = rate.NewLimiter(rate.Limit(r), burst)
	}
	return p
}

// limiter returns the bucket for a directory key. Burst 1: requests are spaced
// exactly 1/rate apart, so no one-second window sees more than rate requests,
// and a 100-page walk at 4/s takes 24.75 s.
func (p *pacer) limiter(key string) *rate.Limiter {
	p.mu.Lock()
	defer p.mu.Unlock()
	l, ok := p.dirs[key]
	if !ok {
		l = rate.NewLimiter(p.perDir, 1)
		p.dirs[key] = l
	}
	return l
}

// wait blocks until a request under dirKey ("" = no directory bucket) may go.
// On cancellation the reserved tokens are handed back.
func (p *pacer) wait(ctx context.Context, dirKey string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := p.now()
	var delay time.Duration
	var dirRes, keyRes *rate.Reservation
	if dirKey != "" && p.perDir > 0 {
		dirRes = p.limiter(dirKey).ReserveN(now, 1)
		delay = dirRes.DelayFrom(now)
	}
	if p.key != nil {
		// The request leaves only after the directory delay, so take the key
		// token for that moment rather than now.
		keyRes = p.key.ReserveN(now.Add(delay), 1)
		delay = max(delay, keyRes.DelayFrom(now))
	}
	if delay <= 0 {
		return nil
	}
	if err := p.sleep(ctx, delay); err != nil {
		at := p.now()
		if dirRes != nil {
			dirRes.CancelAt(at)
		}
		if keyRes != nil {
			keyRes.CancelAt(at)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	return nil
}
