package dirsync

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// timeLayouts are the timestamp shapes seen in real WorkOS data (Gotcha 12 of the
// API notes): RFC 3339 with a "Z" or "+00:00" offset, a 2021 variant with a
// colon-less offset ("+0000"), and a docs sample with a space and no zone at all.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999Z0700",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02",
}

// ParseTime parses a WorkOS timestamp leniently. Timestamps without a zone are
// taken as UTC. The result is always in UTC.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("dirsync: unrecognised timestamp %q", s)
}

// flexTime decodes a JSON timestamp with ParseTime; null and "" become the zero time.
type flexTime time.Time

func (f *flexTime) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*f = flexTime{}
		return nil
	}
	s, ok := plainString(b)
	if !ok {
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("dirsync: timestamp is not a string: %s", truncate(string(b), 40))
		}
	}
	if s == "" {
		*f = flexTime{}
		return nil
	}
	t, err := ParseTime(s)
	if err != nil {
		return err
	}
	*f = flexTime(t)
	return nil
}

// plainString returns the contents of a JSON string literal made only of
// printable ASCII without escapes (every real timestamp), sparing a nested
// json.Unmarshal; anything else is left to encoding/json.
func plainString(b []byte) (string, bool) {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return "", false
	}
	in := b[1 : len(b)-1]
	for _, c := range in {
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return "", false
		}
	}
	return string(in), true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
