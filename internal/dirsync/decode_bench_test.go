package dirsync

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// eventsPage builds a 100-event GET /events body from the fixture events,
// alternating dsync.user.updated and dsync.group.user_added.
func eventsPage(b *testing.B) []byte {
	fixtures := []string{
		string(readFixture(b, "workos-go_dsync-user-updated-event.json")),
		string(readFixture(b, "workos-go_dsync-group-user-added-event.json")),
	}
	items := make([]string, 100)
	for i := range items {
		items[i] = strings.Replace(fixtures[i%2], "event_01EHZNVPK3SFK441A1RGBFSHRT", fmt.Sprintf("event_%026d", i), 1)
	}
	return []byte(`{"object":"list","data":[` + strings.Join(items, ",") +
		`],"list_metadata":{"after":"event_00000000000000000000000099"}}`)
}

// BenchmarkDecodeEventsPage decodes a page of events as ListEvents does and
// then each event's data as the sync worker does.
func BenchmarkDecodeEventsPage(b *testing.B) {
	page := eventsPage(b)
	b.SetBytes(int64(len(page)))
	b.ReportAllocs()
	for b.Loop() {
		var env eventsEnvelope
		if err := json.Unmarshal(page, &env); err != nil {
			b.Fatal(err)
		}
		p := env.page()
		if len(p.Data) != 100 || p.After == "" {
			b.Fatalf("decoded %d events", len(p.Data))
		}
		for _, e := range p.Data {
			v, err := e.Decode()
			if err != nil {
				b.Fatal(err)
			}
			if u, ok := v.(*UserEvent); ok && u.Email == "" {
				b.Fatal("user event without email")
			}
		}
	}
}
