package dirsync

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DefaultTolerance is the accepted clock skew for webhook timestamps.
const DefaultTolerance = 180 * time.Second

// SignatureHeader is the header WorkOS signs webhooks with.
const SignatureHeader = "WorkOS-Signature"

// Webhook verification errors.
var (
	// ErrBadSignature: the header is missing, malformed, or no v1 matches.
	ErrBadSignature = errors.New("dirsync: webhook signature does not match")
	// ErrSignatureExpired: the signature is authentic but its timestamp is
	// further from now than the tolerance (a replay or a skewed clock).
	ErrSignatureExpired = errors.New("dirsync: webhook signature timestamp outside tolerance")
)

// Sign returns the WorkOS-Signature header value for body:
// "t=<unix ms>, v1=<hex HMAC-SHA256 of "<t>.<body>">".
func Sign(body []byte, secret string, t time.Time) string {
	ts := strconv.FormatInt(t.UnixMilli(), 10)
	return "t=" + ts + ", v1=" + hex.EncodeToString(signature(ts, body, secret))
}

func signature(ts string, body []byte, secret string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks a WorkOS-Signature header against the raw body. Spacing and the
// case of the keys are ignored; several v1 values are allowed (any may match).
// The timestamp must lie within tolerance of now in either direction
// (tolerance <= 0 means DefaultTolerance). The signature is checked first, so
// ErrSignatureExpired is only reported for authentic messages.
func Verify(header string, body []byte, secret string, tolerance time.Duration, now time.Time) error {
	if secret == "" {
		return fmt.Errorf("%w: no webhook secret configured", ErrBadSignature)
	}
	ts, sigs, err := parseSignatureHeader(header)
	if err != nil {
		return err
	}
	want := signature(ts, body, secret)
	ok := false
	for _, s := range sigs {
		got, err := hex.DecodeString(s)
		if err == nil && hmac.Equal(got, want) {
			ok = true
		}
	}
	if !ok {
		return ErrBadSignature
	}
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp %q is not a number", ErrBadSignature, truncate(ts, 20))
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	skew := now.Sub(time.UnixMilli(ms)) // saturates instead of overflowing
	if skew > tolerance || skew < -tolerance {
		return fmt.Errorf("%w: signed at %s, %s from now", ErrSignatureExpired,
			time.UnixMilli(ms).UTC().Format(time.RFC3339), skew.Round(time.Second))
	}
	return nil
}

// parseSignatureHeader splits "t=…, v1=…" into the timestamp text and the v1 values.
func parseSignatureHeader(header string) (ts string, sigs []string, err error) {
	for part := range strings.SplitSeq(header, ",") {
		k, v, found := strings.Cut(strings.TrimSpace(part), "=")
		if !found {
			continue
		}
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		switch k {
		case "t":
			if ts != "" && ts != v {
				return "", nil, fmt.Errorf("%w: header has two timestamps", ErrBadSignature)
			}
			ts = v
		case "v1":
			sigs = append(sigs, strings.ToLower(v))
		}
	}
	switch {
	case strings.TrimSpace(header) == "":
		return "", nil, fmt.Errorf("%w: no %s header", ErrBadSignature, SignatureHeader)
	case ts == "":
		return "", nil, fmt.Errorf("%w: header has no t= timestamp", ErrBadSignature)
	case len(sigs) == 0:
		return "", nil, fmt.Errorf("%w: header has no v1= signature", ErrBadSignature)
	}
	return ts, sigs, nil
}
