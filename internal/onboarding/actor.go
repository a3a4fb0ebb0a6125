// Package onboarding holds Roster's business rules: who may see what, how a
// directory replica is kept, how people are selected, previewed, invited and
// kept in step with their directory. It speaks to storage through
// internal/db and to WorkOS through internal/dirsync, and knows nothing of
// HTTP or HTML.
package onboarding

import "errors"

// Actor is the signed-in admin on whose behalf an operation runs.
type Actor struct {
	AdminID        int64
	Email          string
	OrganizationID string // "" for a platform admin, who sees every organisation
}

// Platform reports whether the actor may see every organisation.
func (a Actor) Platform() bool { return a.OrganizationID == "" }

// CanSee reports whether the actor may see data of the given organisation.
func (a Actor) CanSee(organizationID string) bool {
	return a.Platform() || a.OrganizationID == organizationID
}

// Sentinel errors that the web layer maps to status codes and messages.
var (
	// ErrNotFound: the thing does not exist, or the actor may not see it
	// (cross-organisation access is indistinguishable from absence).
	ErrNotFound = errors.New("not found")
	// ErrInvalid: the input was refused; the wrapped message says why.
	ErrInvalid = errors.New("invalid input")
	// ErrThrottled: too many attempts; try again later.
	ErrThrottled = errors.New("too many attempts")
	// ErrUnavailable: WorkOS could not do what was asked; the wrapped
	// message says why in plain words.
	ErrUnavailable = errors.New("directory service unavailable")
	// ErrBadCredentials: sign-in failed. Deliberately vague.
	ErrBadCredentials = errors.New("email or password is incorrect")
)
