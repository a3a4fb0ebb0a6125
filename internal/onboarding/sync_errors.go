package onboarding

import (
	"context"
	"errors"
	"net"
	"time"

	"roster/internal/db"
	"roster/internal/dirsync"
)

// Error kinds (label of roster_sync_errors_total, sync_state.last_error_kind).
const (
	ErrKindAuth        = "auth"
	ErrKindRateLimit   = "rate_limit"
	ErrKindUnavailable = "unavailable"
	ErrKindMalformed   = "malformed"
	ErrKindRejected    = "rejected"
	ErrKindDatabase    = "database"
	ErrKindOther       = "other"
)

// retryError tells the worker not to try again before at.
type retryError struct {
	err error
	at  time.Time
}

func (e *retryError) Error() string { return e.err.Error() }
func (e *retryError) Unwrap() error { return e.err }

func errorKind(err error) string {
	var dbe dbError
	var ne net.Error
	switch {
	case errors.As(err, &dbe):
		return ErrKindDatabase
	case errors.Is(err, dirsync.ErrUnauthorized):
		return ErrKindAuth
	case errors.Is(err, dirsync.ErrRateLimited):
		return ErrKindRateLimit
	case errors.Is(err, dirsync.ErrServer), errors.As(err, &ne), errors.Is(err, context.DeadlineExceeded):
		return ErrKindUnavailable
	case errors.Is(err, dirsync.ErrMalformed):
		return ErrKindMalformed
	case errors.Is(err, dirsync.ErrValidation), errors.Is(err, dirsync.ErrNotFound):
		return ErrKindRejected
	}
	var ae *dirsync.APIError
	if errors.As(err, &ae) {
		return ErrKindRejected
	}
	// Transport failures the client could not classify (connection reset,
	// refused) surface as plain errors: WorkOS could not be reached.
	return ErrKindUnavailable
}

// describeError puts a sync failure in plain words for the sync page.
func describeError(kind string, err error, retryAt, lastSuccess time.Time) string {
	switch kind {
	case ErrKindAuth:
		return "WorkOS rejected the API key"
	case ErrKindRateLimit:
		return "Rate limited — retrying at " + retryAt.Format("15:04:05")
	case ErrKindUnavailable:
		if lastSuccess.IsZero() {
			return "WorkOS unavailable — no data received yet"
		}
		return "WorkOS unavailable — showing data as of " + lastSuccess.Format("15:04")
	case ErrKindMalformed:
		return "WorkOS sent an answer Roster could not read — retrying"
	case ErrKindRejected:
		return "WorkOS refused a request: " + err.Error()
	case ErrKindDatabase:
		return "Roster could not save the data: " + err.Error()
	}
	return err.Error()
}

// laterThan returns now, or the millisecond after prev when now does not
// come after it at the precision timestamps are stored with (db.ts): the
// last error and the last success are told apart by which is later, and a
// poll that fails and one that succeeds can fall in the same millisecond.
func laterThan(prev, now time.Time) time.Time {
	if p := prev.Truncate(time.Millisecond); !now.Truncate(time.Millisecond).After(p) {
		return p.Add(time.Millisecond)
	}
	return now
}

// fail records a sync failure on the directory (in its own transaction),
// counts it and returns it, as a retryError when WorkOS asked to wait.
func (s *Syncer) fail(ctx context.Context, st *db.SyncState, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	kind := errorKind(err)
	now := s.now()
	retryAt := now.Add(s.Interval)
	var ae *dirsync.APIError
	if errors.As(err, &ae) && ae.RetryAfter > 0 && now.Add(ae.RetryAfter).After(retryAt) {
		retryAt = now.Add(ae.RetryAfter)
	}
	s.m.errors.WithLabelValues(kind).Inc()
	s.Log.Warn("sync failed", "directory", st.DirectoryID, "phase", st.Phase, "kind", kind, "err", err)
	next := *st
	next.LastError = describeError(kind, err, retryAt, st.LastSuccessAt)
	next.LastErrorKind, next.LastErrorAt, next.LastPollAt = kind, laterThan(st.LastSuccessAt, now), now
	werr := s.DB.Tx(ctx, func(tx db.Tx) error { return s.DB.Replica(ctx, tx).PutSyncState(next) })
	if werr == nil {
		*st = next
	}
	if kind == ErrKindRateLimit {
		return &retryError{err: err, at: retryAt}
	}
	return err
}
