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

// With the matches counted beforehand (SearchMatches, as callers cache it),
// a search plans without counting again and, while its directory is the
// only one indexed, takes the matches as its total; the totals are the ones
// counted the long way in every case.
func TestCountUsers_KnownMatches(t *testing.T) {
	d := btOpen(t)
	ctx := context.Background()
	people := func(dir string, n int) []DirectoryUser {
		out := make([]DirectoryUser, n)
		for i := range out {
			out[i] = DirectoryUser{ID: fmt.Sprintf("%s_%04d", dir, i), FirstName: fmt.Sprintf("Ada%d", i%3), LastName: "Lovelace",
				Email: fmt.Sprintf("p%04d@%s.example", i, dir), State: "active", JobTitle: "Engineer"}
		}
		return out
	}
	// Every tenth person leaves after the index is built.
	leave := func(dir string, n int) {
		err := d.Tx(ctx, func(tx Tx) error {
			w := d.Replica(ctx, tx)
			for i := 0; i < n; i += 10 {
				if _, err := w.DeleteUser(DirectoryUser{ID: fmt.Sprintf("%s_%04d", dir, i), DirectoryID: dir}, 1); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	check := func(stage string) {
		t.Helper()
		for _, q := range []string{"ada", "ada1", "lovelace engineer", "nobody", "!!"} {
			f := UserFilter{DirectoryID: "dir_a", Search: q, FullText: true}
			want, err := d.CountUsers(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if f.Matches, err = d.SearchMatches(ctx, q); err != nil {
				t.Fatal(err)
			}
			f.MatchesKnown = true
			got, err := d.CountUsers(ctx, f)
			if err != nil || got != want {
				t.Errorf("%s: %q with known matches (%d): %d, %v; counted %d", stage, q, f.Matches, got, err, want)
			}
			walk, err := d.searchWalks(ctx, f, searchAuto)
			if err != nil || walk != (f.Matches > searchWalkAbove) {
				t.Errorf("%s: %q: walk %v with %d matches", stage, q, walk, f.Matches)
			}
		}
	}
	btSeed(t, d, btDir{ID: "dir_a", Org: "org", Users: people("dir_a", 1200), Indexed: true})
	leave("dir_a", 1200)
	check("one directory")
	if n, _ := d.SearchMatches(ctx, "ada"); n != 1080 {
		t.Errorf("SearchMatches(ada) = %d, want the 1,080 live people", n)
	}
	btSeed(t, d, btDir{ID: "dir_b", Org: "org", Users: people("dir_b", 50), Indexed: true})
	check("two directories")
}
