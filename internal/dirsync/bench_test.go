package dirsync

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// usersPage builds a realistic 100-user list page from the spec-shaped fixture user.
func usersPage(b *testing.B) []byte {
	var env struct {
		Data []json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(readFixture(b, "workos-go_list-directory-user-with-groups.json"), &env); err != nil {
		b.Fatal(err)
	}
	user := string(env.Data[0])
	items := make([]string, 100)
	for i := range items {
		items[i] = strings.Replace(user, "directory_user_01E1JG7J09H96KYP8HM9B0G5SJ", fmt.Sprintf("directory_user_%026d", i), 1)
	}
	return []byte(`{"object":"list","data":[` + strings.Join(items, ",") +
		`],"list_metadata":{"before":null,"after":"directory_user_00000000000000000000000099"}}`)
}

func BenchmarkDecodeUsersPage(b *testing.B) {
	page := usersPage(b)
	b.SetBytes(int64(len(page)))
	b.ReportAllocs()
	for b.Loop() {
		var env listEnvelope[User]
		if err := json.Unmarshal(page, &env); err != nil {
			b.Fatal(err)
		}
		if p := env.page(); len(p.Data) != 100 || p.Data[99].Email == "" {
			b.Fatalf("decoded %d users", len(p.Data))
		}
	}
}
