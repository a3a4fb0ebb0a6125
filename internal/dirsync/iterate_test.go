package dirsync

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestAllGroups_WalksPagesAndStops(t *testing.T) {
	var queries []string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		queries = append(queries, r.URL.RawQuery)
		switch r.URL.Query().Get("after") {
		case "":
			fmt.Fprint(w, `{"data":[{"id":"g1"},{"id":"g2"}],"list_metadata":{"before":null,"after":"g2"}}`)
		case "g2":
			fmt.Fprint(w, `{"data":[{"id":"g3"}],"list_metadata":{"before":"g3","after":"g3"}}`)
		default:
			fmt.Fprint(w, `{"data":[{"id":"g4"}],"list_metadata":{"before":"g4","after":null}}`)
		}
	})
	c, _ := newTestClient(t, h, nil)
	var ids []string
	for g, err := range c.AllGroups(context.Background(), ListGroupsOptions{Directory: "d", ListOptions: ListOptions{Before: "ignored"}}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, g.ID)
	}
	if strings.Join(ids, ",") != "g1,g2,g3,g4" {
		t.Errorf("ids = %v", ids)
	}
	want := []string{"directory=d&limit=100&order=desc", "after=g2&directory=d&limit=100&order=desc", "after=g3&directory=d&limit=100&order=desc"}
	if strings.Join(queries, " ") != strings.Join(want, " ") {
		t.Errorf("queries = %v", queries)
	}

	// Breaking out early makes no further request.
	queries = nil
	for range c.AllGroups(context.Background(), ListGroupsOptions{Directory: "d"}) {
		break
	}
	if len(queries) != 1 {
		t.Errorf("requests after break = %d", len(queries))
	}
}

func TestAllDirectories_LegacyOrderFollowsBefore(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("order") != "normal" || q.Get("after") != "" {
			t.Errorf("query = %s", r.URL.RawQuery)
		}
		if q.Get("before") == "" {
			fmt.Fprint(w, `{"data":[{"id":"d2"},{"id":"d1"}],"list_metadata":{"before":"d1","after":null}}`)
			return
		}
		fmt.Fprint(w, `{"data":[{"id":"d0"}],"listMetadata":{"before":null,"after":"d0"}}`)
	})
	c, _ := newTestClient(t, h, nil)
	var ids []string
	for d, err := range c.AllDirectories(context.Background(), ListDirectoriesOptions{ListOptions: ListOptions{Order: "normal", Limit: 2}}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, d.ID)
	}
	if strings.Join(ids, ",") != "d2,d1,d0" {
		t.Errorf("ids = %v", ids)
	}
}

func TestAllUsers_ErrorsAndLoops(t *testing.T) {
	t.Run("error ends the walk", func(t *testing.T) {
		s := &scripted{resps: []resp{
			{200, `{"data":[{"id":"u1"}],"list_metadata":{"before":null,"after":"u1"}}`, nil},
			{404, `{"message":"Not Found"}`, nil},
		}}
		c, _ := newTestClient(t, s, nil)
		var ids []string
		var errs []error
		for u, err := range c.AllUsers(context.Background(), ListUsersOptions{Directory: "d"}) {
			if err != nil {
				errs = append(errs, err)
				continue
			}
			ids = append(ids, u.ID)
		}
		if len(ids) != 1 || len(errs) != 1 || !errors.Is(errs[0], ErrNotFound) {
			t.Errorf("ids = %v errs = %v", ids, errs)
		}
	})
	t.Run("repeated cursor", func(t *testing.T) {
		s := &scripted{resps: []resp{{200, `{"data":[{"id":"u1"}],"list_metadata":{"before":null,"after":"u1"}}`, nil}}}
		c, _ := newTestClient(t, s, nil)
		var last error
		n := 0
		for _, err := range c.AllUsers(context.Background(), ListUsersOptions{Directory: "d"}) {
			n++
			last = err
		}
		if last == nil || !strings.Contains(last.Error(), "repeated") || s.count() != 2 {
			t.Errorf("last = %v, requests = %d, yields = %d", last, s.count(), n)
		}
	})
	t.Run("empty page with cursor stops", func(t *testing.T) {
		s := &scripted{resps: []resp{{200, `{"data":[],"list_metadata":{"before":null,"after":"u9"}}`, nil}}}
		c, _ := newTestClient(t, s, nil)
		for _, err := range c.AllUsers(context.Background(), ListUsersOptions{Directory: "d"}) {
			t.Errorf("unexpected yield (err %v)", err)
		}
		if s.count() != 1 {
			t.Errorf("requests = %d", s.count())
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		s := &scripted{resps: []resp{{200, `{"data":[{"id":"u1"}],"list_metadata":{"before":null,"after":null}}`, nil}}}
		c, _ := newTestClient(t, s, nil)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		for _, err := range c.AllUsers(ctx, ListUsersOptions{Directory: "d"}) {
			if !errors.Is(err, context.Canceled) {
				t.Errorf("err = %v", err)
			}
		}
		if s.count() != 0 {
			t.Errorf("requests = %d", s.count())
		}
	})
}
