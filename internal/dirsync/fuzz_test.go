package dirsync

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// FuzzVerifyHeader feeds arbitrary headers and bodies to Verify: it must never
// panic, must only fail with the documented sentinels, and a header made by
// Sign must always verify.
func FuzzVerifyHeader(f *testing.F) {
	f.Add("t=1722443701539, v1=bd54a3768f461461c8439c2f97ab0d646ef3976f84d5d5b132d18f2fa89cdad5", []byte(`{"id":"event_1"}`), int64(1722443701539))
	f.Add("T=1,V1=00", []byte{}, int64(0))
	f.Fuzz(func(t *testing.T, header string, body []byte, ms int64) {
		now := time.UnixMilli(ms)
		err := Verify(header, body, "secret", 0, now)
		if err != nil && !errors.Is(err, ErrBadSignature) && !errors.Is(err, ErrSignatureExpired) {
			t.Fatalf("Verify(%q) = %v: not a documented error", header, err)
		}
		if err := Verify(Sign(body, "secret", now), body, "secret", 0, now); err != nil {
			t.Fatalf("own signature rejected: %v", err)
		}
	})
}

// FuzzDecodeEvent feeds arbitrary bytes through ParseEvent and Decode, and the
// same bytes as the data of every dsync event type: errors are fine, panics
// and typed results without ids are not.
func FuzzDecodeEvent(f *testing.F) {
	f.Add([]byte(`{"id":"event_1","event":"dsync.user.created","data":{"id":"directory_user_1","email":null},"created_at":"2021-06-25T19:07:33.155Z"}`))
	f.Add([]byte(`{"id":"event_2","event":"dsync.group.user_added","data":{"user":{"id":"u"},"group":{"id":"g"}}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		if e, err := ParseEvent(raw); err == nil {
			_, _ = e.Decode()
		}
		for _, name := range DsyncEventTypes {
			v, err := Event{ID: "event_f", Event: name, Data: json.RawMessage(raw)}.Decode()
			if err != nil {
				continue
			}
			if v == nil {
				t.Fatalf("%s: nil result without error", name)
			}
			switch x := v.(type) {
			case *UserEvent:
				if x.ID == "" {
					t.Fatalf("%s: user without id", name)
				}
			case *MembershipEvent:
				if x.User.ID == "" || x.Group.ID == "" {
					t.Fatalf("%s: membership without ids", name)
				}
			}
		}
	})
}
