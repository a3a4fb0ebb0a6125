package db

import (
	"context"
	"testing"
)

func TestGroupNames(t *testing.T) {
	d := openReplicaTest(t)
	newDirectory(t, d)
	write(t, d, func(w *ReplicaWriter) error {
		for _, g := range []DirectoryGroup{{ID: "g3", Name: "Sales"}, {ID: "g1", Name: "engineering"}, {ID: "g2", Name: "Design"}} {
			g.DirectoryID = "directory_1"
			if err := w.ListGroup(g, 1); err != nil {
				return err
			}
		}
		return nil
	})
	ctx := context.Background()
	got, more, err := d.GroupNames(ctx, "directory_1", 5)
	if err != nil || more || len(got) != 3 {
		t.Fatalf("GroupNames = %+v, more %v, %v", got, more, err)
	}
	if got[0].Name != "Design" || got[1].Name != "engineering" || got[2].Name != "Sales" {
		t.Errorf("order = %s, %s, %s; want by name, case-insensitively", got[0].Name, got[1].Name, got[2].Name)
	}
	got, more, _ = d.GroupNames(ctx, "directory_1", 2)
	if len(got) != 2 || !more {
		t.Errorf("limit 2: %d groups, more %v", len(got), more)
	}
}
