package db

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"
)

// TestBrowseUsers_SearchStrategiesAgree: a full-text search read by walking
// the name index returns the same pages (rows, order, prev/next) as one
// that reads every match and sorts, for broad and narrow searches, with the
// state filter, forwards and backwards; and the automatic choice walks for
// a broad search and sorts for a narrow one.
func TestBrowseUsers_SearchStrategiesAgree(t *testing.T) {
	d := btOpen(t)
	ctx := context.Background()
	titles := []string{"Software Engineer", "Account Executive", "Staff Engineer"}
	depts := []string{"Engineering", "Sales", "Customer Success", "Engineering"}
	mk := func(dir string, n int) []DirectoryUser {
		out := make([]DirectoryUser, n)
		for i := range out {
			u := DirectoryUser{
				ID:         fmt.Sprintf("%s_u%05d", dir, i),
				FirstName:  fmt.Sprintf("Given%02d", (i*7)%60),
				LastName:   fmt.Sprintf("Family%03d", (i*13)%300), // shared names: the id breaks ties
				Email:      fmt.Sprintf("p%05d@%s.example", i, dir),
				JobTitle:   titles[i%len(titles)],
				Department: depts[i%len(depts)],
			}
			if i%9 == 0 {
				u.State = "inactive"
			}
			if i%17 == 0 {
				u.LastName = "" // sorts by first name alone
			}
			if i%101 == 0 {
				u.DeletedAt = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			}
			out[i] = u
		}
		return out
	}
	btSeed(t, d, btDir{ID: "dir_a", Org: "org", Users: mk("dir_a", 1500), Indexed: true})
	// Another directory matching the same words must never leak in.
	btSeed(t, d, btDir{ID: "dir_b", Org: "org", Users: mk("dir_b", 300), Indexed: true})

	for q, wantWalk := range map[string]bool{"engineer": true, "eng": true, "family012": false, "given05 fam": false} {
		got, err := d.searchWalks(ctx, UserFilter{DirectoryID: "dir_a", Search: q, FullText: true}, searchAuto)
		if err != nil {
			t.Fatal(err)
		}
		if got != wantWalk {
			t.Errorf("search %q: walks %v, want %v", q, got, wantWalk)
		}
	}

	// read pages forwards to the end, then backwards from the last row.
	read := func(f UserFilter, limit int, s searchStrategy) (fwd, back [][]string, flags []string) {
		t.Helper()
		p := PageRequest{Limit: limit}
		var last UserPage
		for {
			page, err := d.browseUsers(ctx, f, p, s)
			if err != nil {
				t.Fatalf("%+v: %v", f, err)
			}
			fwd = append(fwd, ids(page.Rows))
			flags = append(flags, fmt.Sprint(page.HasPrev, page.HasNext))
			last = page
			if !page.HasNext || len(page.Rows) == 0 {
				break
			}
			c := page.Rows[len(page.Rows)-1].Cursor()
			p = PageRequest{Limit: limit, After: &c}
		}
		if len(last.Rows) == 0 {
			return fwd, back, flags
		}
		c := last.Rows[len(last.Rows)-1].Cursor()
		p = PageRequest{Limit: limit, Before: &c}
		for {
			page, err := d.browseUsers(ctx, f, p, s)
			if err != nil {
				t.Fatalf("%+v: %v", f, err)
			}
			back = append(back, ids(page.Rows))
			flags = append(flags, fmt.Sprint(page.HasPrev, page.HasNext))
			if !page.HasPrev || len(page.Rows) == 0 {
				break
			}
			c := page.Rows[0].Cursor()
			p = PageRequest{Limit: limit, Before: &c}
		}
		return fwd, back, flags
	}
	for _, q := range []string{"engineer", "eng", "sales", "customer success", "family012", "given05 fam", "nobody", "p0001"} {
		for _, state := range []string{"", "active", "inactive"} {
			f := UserFilter{DirectoryID: "dir_a", Search: q, State: state, FullText: true}
			want, err := d.CountUsers(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			sf, sb, sfl := read(f, 100, searchFTSFirst)
			wf, wb, wfl := read(f, 100, searchWalk)
			af, ab, afl := read(f, 100, searchAuto)
			if !reflect.DeepEqual(sf, wf) || !reflect.DeepEqual(sb, wb) || !reflect.DeepEqual(sfl, wfl) {
				t.Errorf("search %q state %q: walking the name index differs from sorting the matches", q, state)
			}
			if !reflect.DeepEqual(sf, af) || !reflect.DeepEqual(sb, ab) || !reflect.DeepEqual(sfl, afl) {
				t.Errorf("search %q state %q: the automatic choice differs from sorting the matches", q, state)
			}
			n := 0
			for _, p := range sf {
				for _, id := range p {
					if id[:6] != "dir_a_" {
						t.Fatalf("search %q: row %s of another directory", q, id)
					}
				}
				n += len(p)
			}
			if int64(n) != want {
				t.Errorf("search %q state %q: %d rows over the pages, count %d", q, state, n, want)
			}
			if q == "engineer" && state == "" && n < 1000 {
				t.Fatalf("search %q: %d rows, too few to exercise the walk", q, n)
			}
		}
	}
}
