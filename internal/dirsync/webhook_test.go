package dirsync

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestVerify_PythonVectors(t *testing.T) {
	tests := []struct {
		name, header, secret string
		body                 []byte
	}{
		{
			"2024 vector",
			"t=1722443701539, v1=bd54a3768f461461c8439c2f97ab0d646ef3976f84d5d5b132d18f2fa89cdad5",
			"2sAZJlbjP8Ce3rwkKEv2GfKef",
			readFixture(t, "workos-python_webhook-signed-body.json"),
		},
		{
			"2021 vector",
			"t=1632409405772, v1=67612f0e74f008b436a13b00266f90ef5c13f9cbcf6262206f5f4a539ff61702",
			"1lyKDzhJjuCkIscIWqkSe4YsQ",
			[]byte(`{"id":"wh_01FG9JXJ9C9S052FX59JVG4EG1","data":{"id":"conn_01EHWNC0FCBHZ3BJ7EGKYXK0E6","name":"Foo Corp's Connection","state":"active","object":"connection","domains":[{"id":"conn_domain_01EHWNFTAFCF3CQAE5A9Q0P1YB","domain":"foo-corp.com","object":"connection_domain"}],"connection_type":"OktaSAML","organization_id":"org_01EHWNCE74X7JSDV0X3SZ3KJNY"},"event":"connection.activated"}`),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, _, err := parseSignatureHeader(tt.header)
			if err != nil {
				t.Fatal(err)
			}
			ms := mustInt(t, ts)
			now := time.UnixMilli(ms)
			if err := Verify(tt.header, tt.body, tt.secret, 0, now); err != nil {
				t.Fatalf("Verify = %v", err)
			}
			if got := Sign(tt.body, tt.secret, now); got != tt.header {
				t.Errorf("Sign = %q, want %q", got, tt.header)
			}
			// One changed byte, a wrong secret, or a stale clock must fail.
			tampered := append([]byte(nil), tt.body...)
			tampered[len(tampered)-2] ^= 1
			if err := Verify(tt.header, tampered, tt.secret, 0, now); !errors.Is(err, ErrBadSignature) {
				t.Errorf("tampered body: %v", err)
			}
			if err := Verify(tt.header, tt.body, tt.secret+"x", 0, now); !errors.Is(err, ErrBadSignature) {
				t.Errorf("wrong secret: %v", err)
			}
			if err := Verify(tt.header, tt.body, tt.secret, 0, now.Add(DefaultTolerance+time.Second)); !errors.Is(err, ErrSignatureExpired) {
				t.Errorf("late: %v", err)
			}
		})
	}
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	for _, c := range s {
		if c < '0' || c > '9' {
			t.Fatalf("not a number: %q", s)
		}
		n = n*10 + int64(c-'0')
	}
	return n
}

func TestVerify_Tolerance(t *testing.T) {
	body := []byte(`{"id":"event_1","event":"dsync.user.created","data":{"id":"directory_user_1"}}`)
	signed := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	h := Sign(body, "whsec", signed)
	tests := []struct {
		name      string
		tolerance time.Duration
		now       time.Time
		want      error
	}{
		{"exact", 0, signed, nil},
		{"edge of default, late", 0, signed.Add(180 * time.Second), nil},
		{"edge of default, early", 0, signed.Add(-180 * time.Second), nil},
		{"too late", 0, signed.Add(181 * time.Second), ErrSignatureExpired},
		{"from the future", 0, signed.Add(-181 * time.Second), ErrSignatureExpired},
		{"custom tolerance", 10 * time.Second, signed.Add(11 * time.Second), ErrSignatureExpired},
		{"negative means default", -1, signed.Add(170 * time.Second), nil},
		{"ancient clock", 0, time.Unix(0, 0), ErrSignatureExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(h, body, "whsec", tt.tolerance, tt.now)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerify_HeaderShapes(t *testing.T) {
	body := []byte(`{"id":"event_1"}`)
	now := time.UnixMilli(1722443701539)
	good := Sign(body, "s", now)
	ts, sig, _ := strings.Cut(strings.TrimPrefix(good, "t="), ", v1=")
	tests := []struct {
		name, header string
		ok           bool
	}{
		{"canonical", good, true},
		{"no space", "t=" + ts + ",v1=" + sig, true},
		{"extra spaces", "  t = " + ts + " ,   v1 = " + sig + "  ", true},
		{"upper case keys", "T=" + ts + ", V1=" + sig, true},
		{"upper case hex", "t=" + ts + ", v1=" + strings.ToUpper(sig), true},
		{"reversed", "v1=" + sig + ", t=" + ts, true},
		{"second v1 matches", "t=" + ts + ", v1=00ff, v1=" + sig, true},
		{"unknown scheme ignored", "t=" + ts + ", v0=abc, v1=" + sig, true},
		{"empty", "", false},
		{"no timestamp", "v1=" + sig, false},
		{"no signature", "t=" + ts, false},
		{"two timestamps", "t=" + ts + ", t=1, v1=" + sig, false},
		{"seconds not ms", "t=" + ts[:len(ts)-3] + ", v1=" + sig, false},
		{"not hex", "t=" + ts + ", v1=zz" + sig[2:], false},
		{"short sig", "t=" + ts + ", v1=" + sig[:10], false},
		{"garbage", "hello world", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.header, body, "s", 0, now)
			if tt.ok != (err == nil) {
				t.Errorf("Verify(%q) = %v, want ok=%v", tt.header, err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrBadSignature) {
				t.Errorf("error %v is not ErrBadSignature", err)
			}
		})
	}
	if err := Verify(good, body, "", 0, now); !errors.Is(err, ErrBadSignature) {
		t.Errorf("empty secret: %v", err)
	}
}
