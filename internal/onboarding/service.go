package onboarding

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"roster/internal/db"
	"roster/internal/dirsync"
)

// Service carries the onboarding flows: browsing the replica, selection,
// preview, invitations, accounts, settings. Each flow lives in its own file
// as methods on Service.
type Service struct {
	DB        *db.DB
	Log       *slog.Logger
	Now       func() time.Time
	BaseURL   string        // for links in emails, e.g. "http://localhost:8080"
	Demo      bool          // sandbox data, built-in mailbox
	InviteTTL time.Duration // how long an invitation lives, default 7 days
	// WorkOS is the Directory Sync client, used for organisations and
	// Admin Portal links (pages never wait on it otherwise).
	WorkOS *dirsync.Client
	// InvitationHTML renders the HTML part of invitation emails (main
	// passes the views' template); nil sends text-only emails.
	InvitationHTML func(InvitationEmail) (string, error)
}

func (s *Service) now() time.Time {
	if s.Now == nil {
		return time.Now().UTC()
	}
	return s.Now().UTC()
}

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

// OrganizationName returns the name of an organisation, or its id when
// Roster has no name for it.
func (s *Service) OrganizationName(ctx context.Context, id string) (string, error) {
	if id == "" {
		return "", nil
	}
	o, err := s.DB.OrganizationByID(ctx, id)
	if errors.Is(err, db.ErrNotFound) {
		return id, nil
	}
	if err != nil {
		return "", err
	}
	return o.Name, nil
}
