package dirsync

import (
	"context"
	"fmt"
	"iter"
)

// IteratorPageSize is the page size the All* iterators use when the caller sets no Limit.
const IteratorPageSize = 100

// walk yields every item of every page, starting at o.After. It asks for
// IteratorPageSize items per page unless o.Limit is set, sends order desc
// unless o.Order is set, and follows list_metadata.after until it is null or a
// page is empty. With the legacy order "normal" the next page is "before".
// An error is yielded once, with the zero item, and ends the walk.
func walk[T any](ctx context.Context, o ListOptions, list func(ListOptions) (Page[T], error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		if o.Limit <= 0 {
			o.Limit = IteratorPageSize
		}
		if o.Order == "" {
			o.Order = "desc"
		}
		legacy := o.Order == "normal"
		if !legacy {
			o.Before = ""
		}
		seen := map[string]bool{}
		for {
			if err := ctx.Err(); err != nil {
				yield(zero, err)
				return
			}
			p, err := list(o)
			if err != nil {
				yield(zero, err)
				return
			}
			for _, item := range p.Data {
				if !yield(item, nil) {
					return
				}
			}
			next := p.After
			if legacy {
				next = p.Before
			}
			if next == "" || len(p.Data) == 0 {
				return
			}
			// A server that hands back a cursor twice would loop forever.
			if seen[next] {
				yield(zero, fmt.Errorf("dirsync: pagination cursor %q repeated; stopping", next))
				return
			}
			seen[next] = true
			if legacy {
				o.Before, o.After = next, ""
			} else {
				o.After = next
			}
		}
	}
}
