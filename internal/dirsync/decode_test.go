package dirsync

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2021-10-28T13:29:54.451Z", time.Date(2021, 10, 28, 13, 29, 54, 451e6, time.UTC)},
		{"2021-07-31T05:10:19+0000", time.Date(2021, 7, 31, 5, 10, 19, 0, time.UTC)},
		{"2021-07-31T07:10:19+0200", time.Date(2021, 7, 31, 5, 10, 19, 0, time.UTC)},
		{"2023-04-28 20:05:31.093", time.Date(2023, 4, 28, 20, 5, 31, 93e6, time.UTC)},
		{"2023-04-28T20:05:31", time.Date(2023, 4, 28, 20, 5, 31, 0, time.UTC)},
		{"2021-06-25T19:07:33.155+00:00", time.Date(2021, 6, 25, 19, 7, 33, 155e6, time.UTC)},
	}
	for _, tt := range tests {
		got, err := ParseTime(tt.in)
		if err != nil || !got.Equal(tt.want) || got.Location() != time.UTC {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"yesterday", "2021-13-01T00:00:00Z", "1722443701"} {
		if _, err := ParseTime(bad); err == nil {
			t.Errorf("ParseTime(%q) succeeded", bad)
		}
	}
}

func TestUser_NullsAndBadTimestamps(t *testing.T) {
	var u User
	err := json.Unmarshal([]byte(`{"id":"directory_user_1","email":null,"first_name":null,"name":null,
		"job_title":null,"username":null,"emails":[],"created_at":"2021-07-31T05:10:19+0000","updated_at":null}`), &u)
	if err != nil {
		t.Fatal(err)
	}
	if u.Email != "" || u.FirstName != "" || u.Name != "" || !u.UpdatedAt.IsZero() || u.CreatedAt.Year() != 2021 {
		t.Errorf("user = %+v", u)
	}
	if err := json.Unmarshal([]byte(`{"id":"x","created_at":"soon"}`), &u); err == nil {
		t.Error("bad timestamp accepted")
	}
	if err := json.Unmarshal([]byte(`{"id":"x","created_at":12}`), &u); err == nil {
		t.Error("numeric timestamp accepted")
	}
}

func TestDirectory_MetadataAndLinked(t *testing.T) {
	var d Directory
	err := json.Unmarshal([]byte(`{"id":"directory_1","state":"unlinked","metadata":{"users":{"active":42,"inactive":3},"groups":5}}`), &d)
	if err != nil {
		t.Fatal(err)
	}
	if d.Metadata == nil || d.Metadata.Users.Active != 42 || d.Metadata.Users.Inactive != 3 || d.Metadata.Groups != 5 {
		t.Errorf("metadata = %+v", d.Metadata)
	}
	if d.Linked() {
		t.Error("unlinked directory reported linked")
	}
	for state, want := range map[string]bool{"linked": true, "active": true, "inactive": false, "validating": false} {
		if got := (DirectoryEvent{State: state}).Linked(); got != want {
			t.Errorf("DirectoryEvent{%s}.Linked() = %v", state, got)
		}
		if got := (Directory{State: state}).Linked(); got != want {
			t.Errorf("Directory{%s}.Linked() = %v", state, got)
		}
	}
}

func TestEvent_DecodeEveryType(t *testing.T) {
	user := `{"object":"directory_user","id":"directory_user_1","directory_id":"directory_1","email":null,"state":"active","created_at":"2026-01-15T12:00:00.000Z","updated_at":"2026-01-15T12:00:00.000Z"}`
	group := `{"object":"directory_group","id":"directory_group_1","directory_id":"directory_1","name":"Eng","created_at":"2026-01-15T12:00:00.000Z","updated_at":"2026-01-15T12:00:00.000Z"}`
	dir := `{"object":"directory","id":"directory_1","organization_id":"org_1","type":"okta scim v2.0","state":"active","name":"Foo","external_key":"k","domains":[{"object":"organization_domain","id":"org_domain_1","domain":"foo.com"}],"created_at":"2026-01-15T12:00:00.000Z","updated_at":"2026-01-15T12:00:00.000Z"}`
	check := map[string]func(t *testing.T, v any){
		"dsync.activated": func(t *testing.T, v any) {
			d := v.(*DirectoryEvent)
			if !d.Linked() || d.ExternalKey != "k" || len(d.Domains) != 1 || d.Domains[0].Domain != "foo.com" || d.Type != "okta scim v2.0" {
				t.Errorf("%+v", d)
			}
		},
		"dsync.deleted": func(t *testing.T, v any) {
			if d := v.(*DirectoryEvent); d.State != "deleting" || d.Domains != nil {
				t.Errorf("%+v", d)
			}
		},
		"dsync.user.created": func(t *testing.T, v any) { checkUserEvent(t, v, false) },
		"dsync.user.updated": func(t *testing.T, v any) { checkUserEvent(t, v, true) },
		"dsync.user.deleted": func(t *testing.T, v any) { checkUserEvent(t, v, false) },
		"dsync.group.created": func(t *testing.T, v any) {
			if g := v.(*GroupEvent); g.Name != "Eng" || g.PreviousAttributes != nil {
				t.Errorf("%+v", g)
			}
		},
		"dsync.group.updated": func(t *testing.T, v any) {
			if g := v.(*GroupEvent); g.PreviousAttributes["name"] != "Engineering" || g.CreatedAt.IsZero() {
				t.Errorf("%+v", g)
			}
		},
		"dsync.group.deleted": func(t *testing.T, v any) {
			if g := v.(*GroupEvent); g.ID != "directory_group_1" {
				t.Errorf("%+v", g)
			}
		},
		"dsync.group.user_added": func(t *testing.T, v any) {
			if m := v.(*MembershipEvent); m.User.ID != "directory_user_1" || m.Group.ID != "directory_group_1" || m.DirectoryID != "directory_1" {
				t.Errorf("%+v", m)
			}
		},
		"dsync.group.user_removed": func(t *testing.T, v any) {
			if m := v.(*MembershipEvent); m.Group.Name != "Eng" {
				t.Errorf("%+v", m)
			}
		},
		"dsync.token.created": func(t *testing.T, v any) {
			if tok := v.(*TokenEvent); tok.TokenSuffix != "abcd" || tok.DirectoryID != "directory_1" || tok.CreatedAt.Year() != 2026 {
				t.Errorf("%+v", tok)
			}
		},
		"dsync.token.revoked": func(t *testing.T, v any) {
			if tok := v.(*TokenEvent); tok.ID != "directory_token_1" {
				t.Errorf("%+v", tok)
			}
		},
	}
	data := map[string]string{
		"dsync.activated":          dir,
		"dsync.deleted":            `{"object":"directory","id":"directory_1","state":"deleting","name":"Foo","type":"s3","created_at":"2026-01-15T12:00:00.000Z","updated_at":"2026-01-15T12:00:00.000Z"}`,
		"dsync.user.created":       user,
		"dsync.user.updated":       strings.TrimSuffix(user, "}") + `,"previous_attributes":{"first_name":"Old"}}`,
		"dsync.user.deleted":       user,
		"dsync.group.created":      group,
		"dsync.group.updated":      strings.TrimSuffix(group, "}") + `,"previous_attributes":{"name":"Engineering"}}`,
		"dsync.group.deleted":      group,
		"dsync.group.user_added":   `{"directory_id":"directory_1","user":` + user + `,"group":` + group + `}`,
		"dsync.group.user_removed": `{"user":` + user + `,"group":` + group + `}`,
		"dsync.token.created":      `{"object":"directory_token","id":"directory_token_1","directory_id":"directory_1","token_suffix":"abcd","created_at":"2026-01-15T12:00:00.000Z"}`,
		"dsync.token.revoked":      `{"object":"directory_token","id":"directory_token_1","directory_id":"directory_1","token_suffix":"abcd","created_at":"2026-01-15 12:00:00"}`,
	}
	if len(DsyncEventTypes) != len(check) {
		t.Fatalf("DsyncEventTypes has %d names, test covers %d", len(DsyncEventTypes), len(check))
	}
	for _, name := range DsyncEventTypes {
		t.Run(name, func(t *testing.T) {
			if name == "dsync.deactivated" {
				t.Fatal("removed event listed")
			}
			v, err := Event{ID: "event_1", Event: name, Data: json.RawMessage(data[name])}.Decode()
			if err != nil {
				t.Fatal(err)
			}
			check[name](t, v)
		})
	}
}

func checkUserEvent(t *testing.T, v any, updated bool) {
	t.Helper()
	u := v.(*UserEvent)
	if u.ID != "directory_user_1" || u.Email != "" || u.State != "active" {
		t.Errorf("%+v", u)
	}
	if updated != (u.PreviousAttributes["first_name"] == "Old") {
		t.Errorf("previous = %v", u.PreviousAttributes)
	}
}

func TestEvent_DecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		ev   Event
	}{
		{"unknown type", Event{Event: "dsync.deactivated", Data: json.RawMessage(`{"id":"x"}`)}},
		{"nil data", Event{Event: "dsync.user.created"}},
		{"null data", Event{Event: "dsync.user.created", Data: json.RawMessage(`null`)}},
		{"array data", Event{Event: "dsync.group.created", Data: json.RawMessage(`[1]`)}},
		{"wrong field type", Event{Event: "dsync.user.created", Data: json.RawMessage(`{"id":5}`)}},
		{"no id", Event{Event: "dsync.user.created", Data: json.RawMessage(`{"email":"a@b"}`)}},
		{"membership without group", Event{Event: "dsync.group.user_added", Data: json.RawMessage(`{"user":{"id":"u"}}`)}},
		{"truncated", Event{Event: "dsync.token.created", Data: json.RawMessage(`{"id":"t"`)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := tt.ev.Decode()
			if err == nil {
				t.Fatalf("Decode = %#v, want error", v)
			}
		})
	}
	_, err := Event{Event: "user.created", Data: json.RawMessage(`{}`)}.Decode()
	if !errors.Is(err, ErrUnknownEvent) {
		t.Errorf("err = %v, want ErrUnknownEvent", err)
	}
}
