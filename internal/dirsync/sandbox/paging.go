package sandbox

import (
	"net/url"
	"sort"
	"strconv"
)

// pageReq is the parsed pagination part of a list request.
type pageReq struct {
	order         string // desc, asc or normal
	before, after string
	limit         int
}

const (
	defaultLimit = 10
	maxLimit     = 100
)

// parsePage reads limit/order/before/after. The spec declares limit as an
// integer in 1..100 and order as an enum; values outside those are
// rejected with 422 rather than silently clamped, so that a client bug
// shows up in tests instead of in production.
func parsePage(q url.Values) (pageReq, error) {
	p := pageReq{order: "desc", limit: defaultLimit, before: q.Get("before"), after: q.Get("after")}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLimit {
			return p, invalid("limit", "limit must be an integer between 1 and 100")
		}
		p.limit = n
	}
	if v := q.Get("order"); v != "" {
		switch v {
		case "desc", "asc", "normal":
			p.order = v
		default:
			return p, invalid("order", "order must be one of normal, desc, asc")
		}
	}
	return p, nil
}

// pageResult is one page plus its list_metadata cursors ("" = null).
type pageResult[T any] struct {
	items         []T
	before, after string
}

// paginate applies p to items sorted by ascending id.
//
// desc and asc: `after=X` returns the items that follow X in list order,
// `before=X` the `limit` items immediately preceding X; list_metadata.before
// is the first item's id when items precede the page and .after the last
// item's id when items follow it.
//
// normal (the legacy default): newest first, but `before=X` returns older
// records (the next page) and `after=X` newer ones; list_metadata.before
// points at older records (last item) and .after at newer ones (first item).
//
// Cursors are compared by id, so a cursor whose object has since been
// deleted still marks the right place.
func paginate[T any](items []T, idOf func(T) string, p pageReq) pageResult[T] {
	n := len(items)
	// lt: number of items with id < X; le: number with id <= X.
	lt := func(x string) int { return sort.Search(n, func(i int) bool { return idOf(items[i]) >= x }) }
	le := func(x string) int { return sort.Search(n, func(i int) bool { return idOf(items[i]) > x }) }
	at := func(pos int) T {
		if p.order == "asc" {
			return items[pos]
		}
		return items[n-1-pos]
	}
	var start, end int
	switch p.order {
	case "asc":
		switch {
		case p.after != "":
			start = le(p.after)
			end = min(start+p.limit, n)
		case p.before != "":
			end = lt(p.before)
			start = max(0, end-p.limit)
		default:
			end = min(p.limit, n)
		}
	default: // desc and normal: newest first
		forward, backward := p.after, p.before
		if p.order == "normal" {
			forward, backward = p.before, p.after
		}
		switch {
		case forward != "":
			start = n - lt(forward)
			end = min(start+p.limit, n)
		case backward != "":
			end = n - le(backward)
			start = max(0, end-p.limit)
		default:
			end = min(p.limit, n)
		}
	}
	var r pageResult[T]
	if start >= end {
		return r
	}
	r.items = make([]T, 0, end-start)
	for pos := start; pos < end; pos++ {
		r.items = append(r.items, at(pos))
	}
	first, last := idOf(r.items[0]), idOf(r.items[len(r.items)-1])
	hasPrev, hasNext := start > 0, end < n
	if p.order == "normal" {
		if hasNext {
			r.before = last
		}
		if hasPrev {
			r.after = first
		}
		return r
	}
	if hasPrev {
		r.before = first
	}
	if hasNext {
		r.after = last
	}
	return r
}
