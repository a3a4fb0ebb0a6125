package onboarding

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"roster/internal/db"
)

// MinPasswordLength is the shortest password an admin may choose.
const MinPasswordLength = 10

// Auth signs admins in and out and keeps their credentials.
type Auth struct {
	DB         *db.DB
	Now        func() time.Time
	BcryptCost int // 0 → bcrypt.DefaultCost+2; tests lower it

	// Throttling: at most MaxFailuresPerAccount failed sign-ins per account
	// and MaxFailuresPerIP per client address within FailureWindow.
	MaxFailuresPerAccount int
	MaxFailuresPerIP      int
	FailureWindow         time.Duration

	mu       sync.Mutex
	failures map[string][]time.Time // "ip:…" / "acct:…" → recent failure times
	dummy    []byte                 // hash compared for unknown emails, so timing does not tell
}

// NewAuth returns an Auth with the default limits.
func NewAuth(d *db.DB) *Auth {
	return &Auth{DB: d, Now: time.Now, MaxFailuresPerAccount: 5, MaxFailuresPerIP: 20, FailureWindow: 15 * time.Minute}
}

func (a *Auth) now() time.Time {
	if a.Now == nil {
		return time.Now()
	}
	return a.Now()
}

func (a *Auth) cost() int {
	if a.BcryptCost == 0 {
		return bcrypt.DefaultCost + 2
	}
	return a.BcryptCost
}

// HashPassword returns the bcrypt hash of a password.
func (a *Auth) HashPassword(pw string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), a.cost())
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// ThrottleError says how long to wait before trying again.
type ThrottleError struct{ RetryAfter time.Duration }

func (e *ThrottleError) Error() string {
	mins := int(e.RetryAfter.Round(time.Minute) / time.Minute)
	if mins < 1 {
		mins = 1
	}
	return fmt.Sprintf("Too many sign-in attempts. Try again in %d minute%s.", mins, plural(mins))
}
func (e *ThrottleError) Unwrap() error { return ErrThrottled }

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// throttled returns how long the key must wait, or 0.
func (a *Auth) throttled(key string, max int) time.Duration {
	now := a.now()
	cut := now.Add(-a.FailureWindow)
	recent := a.failures[key][:0]
	for _, t := range a.failures[key] {
		if t.After(cut) {
			recent = append(recent, t)
		}
	}
	a.failures[key] = recent
	if len(recent) < max {
		return 0
	}
	return recent[0].Add(a.FailureWindow).Sub(now)
}

func (a *Auth) checkThrottle(email, ip string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.failures == nil {
		a.failures = map[string][]time.Time{}
	}
	wait := max(a.throttled("acct:"+email, a.MaxFailuresPerAccount), a.throttled("ip:"+ip, a.MaxFailuresPerIP))
	if wait > 0 {
		return &ThrottleError{RetryAfter: wait}
	}
	return nil
}

func (a *Auth) recordFailure(email, ip string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	a.failures["acct:"+email] = append(a.failures["acct:"+email], now)
	a.failures["ip:"+ip] = append(a.failures["ip:"+ip], now)
}

func (a *Auth) clearAccount(email string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.failures, "acct:"+email)
}

// Session is what a signed-in browser carries: who, and which version of
// that admin's sessions (bumped on sign-out and password change).
type Session struct {
	AdminID int64
	Version int64
}

// SignIn checks credentials and returns the session to store. Unknown
// emails and wrong passwords fail alike (ErrBadCredentials).
func (a *Auth) SignIn(ctx context.Context, email, password, ip string) (Session, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if err := a.checkThrottle(email, ip); err != nil {
		return Session{}, err
	}
	adm, err := a.DB.AdminByEmail(ctx, email)
	if errors.Is(err, db.ErrNotFound) {
		a.compareDummy(password)
		a.recordFailure(email, ip)
		return Session{}, ErrBadCredentials
	}
	if err != nil {
		return Session{}, err
	}
	if bcrypt.CompareHashAndPassword([]byte(adm.PasswordHash), []byte(password)) != nil {
		a.recordFailure(email, ip)
		return Session{}, ErrBadCredentials
	}
	a.clearAccount(email)
	if err := a.DB.Audit(ctx, db.AuditEntry{Actor: adm.Email, OrganizationID: adm.OrganizationID, Action: "admin.sign_in", Target: adm.Email}); err != nil {
		return Session{}, err
	}
	return Session{AdminID: adm.ID, Version: adm.SessionVersion}, nil
}

func (a *Auth) compareDummy(pw string) {
	a.mu.Lock()
	if a.dummy == nil {
		a.dummy, _ = bcrypt.GenerateFromPassword([]byte("not a password"), a.cost())
	}
	h := a.dummy
	a.mu.Unlock()
	_ = bcrypt.CompareHashAndPassword(h, []byte(pw))
}

// Resolve turns a stored session into the actor, or ErrNotFound when the
// admin is gone or the session was ended (sign-out, password change).
func (a *Auth) Resolve(ctx context.Context, s Session) (Actor, error) {
	adm, err := a.DB.AdminByID(ctx, s.AdminID)
	if errors.Is(err, db.ErrNotFound) {
		return Actor{}, ErrNotFound
	}
	if err != nil {
		return Actor{}, err
	}
	if adm.SessionVersion != s.Version {
		return Actor{}, ErrNotFound
	}
	return Actor{AdminID: adm.ID, Email: adm.Email, OrganizationID: adm.OrganizationID}, nil
}

// SignOut ends every session of the admin.
func (a *Auth) SignOut(ctx context.Context, act Actor) error {
	if err := a.DB.BumpSessionVersion(ctx, act.AdminID); err != nil {
		return err
	}
	return a.DB.Audit(ctx, db.AuditEntry{Actor: act.Email, OrganizationID: act.OrganizationID, Action: "admin.sign_out", Target: act.Email})
}

// ChangePassword checks the current password, stores the new one and ends
// every existing session; it returns the new session for this browser.
func (a *Auth) ChangePassword(ctx context.Context, act Actor, current, next string) (Session, error) {
	adm, err := a.DB.AdminByID(ctx, act.AdminID)
	if err != nil {
		return Session{}, err
	}
	if bcrypt.CompareHashAndPassword([]byte(adm.PasswordHash), []byte(current)) != nil {
		return Session{}, fmt.Errorf("%w: the current password is not right", ErrInvalid)
	}
	if err := validPassword(next); err != nil {
		return Session{}, err
	}
	h, err := a.HashPassword(next)
	if err != nil {
		return Session{}, err
	}
	if err := a.DB.SetAdminPassword(ctx, adm.ID, h, db.AuditEntry{Actor: adm.Email, OrganizationID: adm.OrganizationID, Action: "admin.password_changed", Target: adm.Email}); err != nil {
		return Session{}, err
	}
	return Session{AdminID: adm.ID, Version: adm.SessionVersion + 1}, nil
}

func validPassword(pw string) error {
	if len([]rune(pw)) < MinPasswordLength {
		return fmt.Errorf("%w: the password must have at least %d characters", ErrInvalid, MinPasswordLength)
	}
	if len(pw) > 72 { // bcrypt's limit
		return fmt.Errorf("%w: the password must have at most 72 bytes", ErrInvalid)
	}
	return nil
}

func validEmail(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || !strings.Contains(s, "@") {
		return "", fmt.Errorf("%w: %q is not an email address", ErrInvalid, s)
	}
	return s, nil
}

// EnsureAdmin creates the platform admin with this email, or resets its
// password (ending its sessions). Used for ADMIN_EMAIL + ADMIN_PASSWORD.
func (a *Auth) EnsureAdmin(ctx context.Context, email, password string) (created bool, err error) {
	email, err = validEmail(email)
	if err != nil {
		return false, err
	}
	if err := validPassword(password); err != nil {
		return false, err
	}
	h, err := a.HashPassword(password)
	if err != nil {
		return false, err
	}
	_, created, err = a.DB.UpsertAdmin(ctx, email, h, "", db.AuditEntry{Actor: "system", Action: "admin.ensured", Target: email})
	return created, err
}

// DemoAdminEmail is the admin created in demo mode.
const DemoAdminEmail = "admin@example.com"

const demoPasswordKey = "demo_admin_password"

// EnsureDemoAdmin makes sure demo mode can be signed in to: with no admin
// at all it creates admin@example.com with a random password. It returns the
// credentials to print while that password is still the demo one (so a
// salesperson restarting the demo sees them again), or ok=false.
func (a *Auth) EnsureDemoAdmin(ctx context.Context) (email, password string, ok bool, err error) {
	n, err := a.DB.CountAdmins(ctx)
	if err != nil {
		return "", "", false, err
	}
	if n == 0 {
		pw := RandomToken(12)
		h, err := a.HashPassword(pw)
		if err != nil {
			return "", "", false, err
		}
		if _, _, err := a.DB.UpsertAdmin(ctx, DemoAdminEmail, h, "", db.AuditEntry{Actor: "system", Action: "admin.demo_created", Target: DemoAdminEmail}); err != nil {
			return "", "", false, err
		}
		if err := a.DB.SetSetting(ctx, demoPasswordKey, pw); err != nil {
			return "", "", false, err
		}
		return DemoAdminEmail, pw, true, nil
	}
	pw, err := a.DB.Setting(ctx, demoPasswordKey)
	if errors.Is(err, db.ErrNotFound) {
		return "", "", false, nil
	}
	if err != nil {
		return "", "", false, err
	}
	adm, err := a.DB.AdminByEmail(ctx, DemoAdminEmail)
	if err != nil || bcrypt.CompareHashAndPassword([]byte(adm.PasswordHash), []byte(pw)) != nil {
		return "", "", false, nil // the password was changed since: do not print a stale one
	}
	return DemoAdminEmail, pw, true, nil
}

// SetupLinkTTL is how long a first-admin or organisation-admin link lives.
const SetupLinkTTL = 72 * time.Hour

// CreateSetupLink makes a one-time link token that creates an admin:
// organizationID "" for a platform admin. The token is returned once and
// only its hash is kept.
func (a *Auth) CreateSetupLink(ctx context.Context, by Actor, email, organizationID string) (token string, expires time.Time, err error) {
	if email != "" {
		if email, err = validEmail(email); err != nil {
			return "", time.Time{}, err
		}
	}
	token = RandomToken(32)
	expires = a.now().Add(SetupLinkTTL)
	actor := by.Email
	if actor == "" {
		actor = "system"
	}
	err = a.DB.CreateSetupLink(ctx, db.SetupLink{TokenHash: HashToken(token), Email: email, OrganizationID: organizationID, ExpiresAt: expires},
		db.AuditEntry{Actor: actor, OrganizationID: organizationID, Action: "admin.setup_link_created", Target: email})
	return token, expires, err
}

// EnsureFirstAdminLink returns a setup link token when no admin exists yet
// (outside demo mode), or "" when admins exist.
func (a *Auth) EnsureFirstAdminLink(ctx context.Context) (string, error) {
	n, err := a.DB.CountAdmins(ctx)
	if err != nil || n > 0 {
		return "", err
	}
	tok, _, err := a.CreateSetupLink(ctx, Actor{}, "", "")
	return tok, err
}

// SetupLinkInfo describes a setup link for its page.
type SetupLinkInfo struct {
	Email          string
	OrganizationID string
	ExpiresAt      time.Time
}

// Link problems, each with a page that says what to do.
var (
	ErrLinkExpired = errors.New("this link has expired")
	ErrLinkUsed    = errors.New("this link was already used")
)

// SetupLink checks a setup token.
func (a *Auth) SetupLink(ctx context.Context, token string) (SetupLinkInfo, error) {
	l, err := a.DB.SetupLinkByHash(ctx, HashToken(token))
	if errors.Is(err, db.ErrNotFound) {
		return SetupLinkInfo{}, ErrNotFound
	}
	if err != nil {
		return SetupLinkInfo{}, err
	}
	if !l.UsedAt.IsZero() {
		return SetupLinkInfo{}, ErrLinkUsed
	}
	if a.now().After(l.ExpiresAt) {
		return SetupLinkInfo{}, ErrLinkExpired
	}
	return SetupLinkInfo{Email: l.Email, OrganizationID: l.OrganizationID, ExpiresAt: l.ExpiresAt}, nil
}

// CompleteSetup uses a setup link to create the admin and signs them in.
func (a *Auth) CompleteSetup(ctx context.Context, token, email, password string) (Session, error) {
	info, err := a.SetupLink(ctx, token)
	if err != nil {
		return Session{}, err
	}
	if info.Email != "" {
		email = info.Email
	}
	if email, err = validEmail(email); err != nil {
		return Session{}, err
	}
	if err := validPassword(password); err != nil {
		return Session{}, err
	}
	if _, err := a.DB.AdminByEmail(ctx, email); err == nil {
		return Session{}, fmt.Errorf("%w: an admin with this email already exists; sign in instead", ErrInvalid)
	}
	h, err := a.HashPassword(password)
	if err != nil {
		return Session{}, err
	}
	adm, err := a.DB.UseSetupLink(ctx, HashToken(token), email, h, db.AuditEntry{Actor: email, Action: "admin.created_from_link", Target: email})
	if errors.Is(err, db.ErrLinkUsed) {
		return Session{}, ErrLinkUsed
	}
	if err != nil {
		return Session{}, err
	}
	return Session{AdminID: adm.ID, Version: adm.SessionVersion}, nil
}

// SessionKeys returns the cookie signing and encryption keys: derived from
// secret when set, else generated once and kept in the database so restarts
// keep sessions.
func (a *Auth) SessionKeys(ctx context.Context, secret string) (hashKey, blockKey []byte, err error) {
	if secret == "" {
		secret, err = a.DB.SettingOrCreate(ctx, "session_secret", func() (string, error) { return RandomToken(48), nil })
		if err != nil {
			return nil, nil, err
		}
	}
	h := sha256.Sum256([]byte("roster session hash key\x00" + secret))
	b := sha256.Sum256([]byte("roster session block key\x00" + secret))
	return h[:], b[:], nil
}

// RandomToken returns n random bytes, URL-safe base64 encoded.
func RandomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails since Go 1.24
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashToken is how tokens are stored: only their SHA-256.
func HashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}
