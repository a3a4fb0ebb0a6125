package dirsync

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// TestWireTypesMirrorPublicTypes keeps the one-pass wire types in step with
// the public types: same fields, same order, same JSON tags.
func TestWireTypesMirrorPublicTypes(t *testing.T) {
	for _, pair := range [][2]any{{User{}, userWire{}}, {Group{}, groupWire{}}, {Event{}, eventWire{}}} {
		pub, wire := reflect.TypeOf(pair[0]), reflect.TypeOf(pair[1])
		if pub.NumField() != wire.NumField() {
			t.Fatalf("%s has %d fields, %s %d", pub, pub.NumField(), wire, wire.NumField())
		}
		for i := range pub.NumField() {
			p, w := pub.Field(i), wire.Field(i)
			if p.Name != w.Name || p.Tag.Get("json") != w.Tag.Get("json") {
				t.Errorf("%s field %d: %s %q, %s has %s %q", pub, i, p.Name, p.Tag.Get("json"), wire, w.Name, w.Tag.Get("json"))
			}
		}
	}
}

// TestUsersPageDecodesLikeSingleUsers checks that a page decoded in one pass
// gives the same users, lenient timestamps, null strings and nested groups
// included, as decoding each user on its own.
func TestUsersPageDecodesLikeSingleUsers(t *testing.T) {
	user := `{"id":"directory_user_1","email":null,"first_name":null,"state":"active",` +
		`"created_at":"2021-07-31T05:10:19+0000","updated_at":"2021-07-31 05:10:19",` +
		`"groups":[{"id":"g1","name":"Eng","created_at":"2021-06-25T19:07:33.155Z","updated_at":null}],` +
		`"raw_attributes":{"a":1},"roles":[{"slug":"admin"}]}`
	var env listEnvelope[User]
	if err := json.Unmarshal([]byte(`{"data":[`+user+`,null],"list_metadata":{"before":null,"after":"x"}}`), &env); err != nil {
		t.Fatal(err)
	}
	var one User
	if err := json.Unmarshal([]byte(user), &one); err != nil {
		t.Fatal(err)
	}
	p := env.page()
	if len(p.Data) != 2 || !reflect.DeepEqual(p.Data[0], one) || !reflect.DeepEqual(p.Data[1], User{}) || p.After != "x" {
		t.Fatalf("page = %+v, want %+v", p, one)
	}
	want := time.Date(2021, 7, 31, 5, 10, 19, 0, time.UTC)
	if !one.CreatedAt.Equal(want) || !one.UpdatedAt.Equal(want) || one.Email != "" || len(one.Groups) != 1 ||
		one.Groups[0].CreatedAt.IsZero() || !one.Groups[0].UpdatedAt.IsZero() {
		t.Errorf("user = %+v", one)
	}
	if err := json.Unmarshal([]byte(`{"data":[{"id":"u","created_at":12}]}`), &env); err == nil {
		t.Error("numeric timestamp accepted")
	}
}

// TestUserEventKeepsPreviousAttributes decodes user event data in one pass.
func TestUserEventKeepsPreviousAttributes(t *testing.T) {
	data := `{"id":"directory_user_1","email":"a@example.com","previous_attributes":{"email":"b@example.com"},"created_at":"2021-07-31T05:10:19+0000"}`
	v, err := Event{ID: "event_1", Event: "dsync.user.updated", Data: json.RawMessage(data)}.Decode()
	if err != nil {
		t.Fatal(err)
	}
	u := v.(*UserEvent)
	var direct UserEvent
	if err := json.Unmarshal([]byte(data), &direct); err != nil {
		t.Fatal(err)
	}
	if u.Email != "a@example.com" || u.PreviousAttributes["email"] != "b@example.com" || u.CreatedAt.IsZero() || !reflect.DeepEqual(*u, direct) {
		t.Errorf("event = %+v, direct = %+v", u, direct)
	}
}
