package db

import (
	"context"
	"testing"
)

// BenchmarkSearchStrategies: the first 100 of a search's matches in name
// order, by term (from ~1 to ~20,000 matches of 100,000) and by strategy.
func BenchmarkSearchStrategies(b *testing.B) {
	d := benchDB(b)
	ctx := context.Background()
	strategies := []struct {
		name string
		s    searchStrategy
	}{{"auto", searchAuto}, {"fts-first", searchFTSFirst}, {"walk", searchWalk}}
	for _, term := range []string{"p031337", "last123", "first042", "dept07", "title1 dept1", "last4"} {
		for _, st := range strategies {
			b.Run(term+"/"+st.name, func(b *testing.B) {
				f := UserFilter{DirectoryID: "dir_big", Search: term, FullText: true}
				for i := 0; i < b.N; i++ {
					if _, err := d.browseUsers(ctx, f, PageRequest{Limit: 100}, st.s); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
