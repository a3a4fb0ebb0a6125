package onboarding

import (
	"context"
	"encoding/json"
	"fmt"
	"syscall"
	"testing"
	"time"

	"roster/internal/db"
	"roster/internal/dirsync"
)

const benchDir = "directory_bench"

var benchT0 = time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)

// benchUserJSON renders a WorkOS-shaped directory user (about 1.2 KB).
func benchUserJSON(i int, updated time.Time) []byte {
	return fmt.Appendf(nil, `{"object":"directory_user","id":"directory_user_%08d","directory_id":%q,"organization_id":"org_bench",`+
		`"idp_id":"00u%08d","email":"person%d@bench.example","first_name":"First%d","last_name":"Last%d","name":"First%d Last%d",`+
		`"emails":[],"job_title":null,"username":null,"state":"active","raw_attributes":{},`+
		`"custom_attributes":{"department":"Engineering","job_title":"Engineer %d","manager_email":"boss%d@bench.example",`+
		`"cost_center":"CC-%d","location":"Berlin","employee_id":"E%d","division":"R&D","employment_type":"full_time"},`+
		`"role":{"slug":"member"},"roles":[{"slug":"member"}],"created_at":%q,"updated_at":%q}`,
		i, benchDir, i, i, i, i%977, i, i%977, i%13, i%50, i%40, i,
		benchT0.Format(time.RFC3339Nano), updated.Format(time.RFC3339Nano))
}

func benchPage(from int, updated time.Time) []byte {
	b := []byte(`[`)
	for i := range 100 {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, benchUserJSON(from+i, updated)...)
	}
	return append(b, ']')
}

// pageAPI serves pages of users from JSON, decoding them as the client
// would: pages numbered from 0, the last one (pages-1) without a next cursor.
type pageAPI struct {
	SyncAPI
	pages int
}

func (p *pageAPI) ListUsers(_ context.Context, o dirsync.ListUsersOptions) (dirsync.Page[dirsync.User], error) {
	n := 0
	if o.After != "" {
		if _, err := fmt.Sscanf(o.After, "page_%d", &n); err != nil {
			return dirsync.Page[dirsync.User]{}, err
		}
	}
	var users []dirsync.User
	if err := json.Unmarshal(benchPage(n*100, benchT0), &users); err != nil {
		return dirsync.Page[dirsync.User]{}, err
	}
	page := dirsync.Page[dirsync.User]{Data: users}
	if n+1 < p.pages {
		page.After = fmt.Sprintf("page_%d", n+1)
	}
	return page, nil
}

func benchSyncer(b *testing.B) (*Syncer, *db.DB) {
	store := openTestDB(b, "")
	s := NewSyncer(store, nil, quietLog())
	ctx := context.Background()
	err := store.Tx(ctx, func(tx db.Tx) error {
		w := store.Replica(ctx, tx)
		if err := w.UpsertDirectory(db.Directory{ID: benchDir, OrganizationID: "org_bench", Name: "Bench", State: "linked"}); err != nil {
			return err
		}
		return w.PutSyncState(db.SyncState{DirectoryID: benchDir, OrganizationID: "org_bench", Phase: db.PhaseUsers,
			Mode: db.ModeBackfill, Generation: 1})
	})
	if err != nil {
		b.Fatal(err)
	}
	return s, store
}

// BenchmarkBackfillUsersPage measures the users phase of a backfill, per
// page: decode a 100-user JSON page (rendering it is excluded from the
// CPU figure only), map it and store it with the progress, several pages
// per transaction (network excluded). Target: ≥ 15,000 users/s.
func BenchmarkBackfillUsersPage(b *testing.B) {
	s, store := benchSyncer(b)
	api := &pageAPI{pages: b.N}
	s.API = api
	ctx := context.Background()
	st, err := store.SyncState(ctx, benchDir)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := startCPU()
	if err := s.loadStep(ctx, &st); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if st.UsersDone != int64(b.N*100) || st.Phase == db.PhaseUsers {
		b.Fatalf("stored %d users, phase %s; want %d and the users phase over", st.UsersDone, st.Phase, b.N*100)
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "users/s")
	b.ReportMetric(float64(b.N*100)/cpu.since().Seconds(), "users/cpu-s")
}

// BenchmarkApplyEvents measures applying a batch of 100 dsync.user.updated
// events (decode, dedupe, guarded upsert, record, counters) in one
// transaction against 20,000 stored users. Target: ≥ 10,000 events/s.
func BenchmarkApplyEvents(b *testing.B) {
	s, store := benchSyncer(b)
	ctx := context.Background()
	const users = 20_000
	s.API = &pageAPI{pages: users / 100}
	st, _ := store.SyncState(ctx, benchDir)
	if err := s.loadStep(ctx, &st); err != nil {
		b.Fatal(err)
	}
	err := store.Tx(ctx, func(tx db.Tx) error {
		w := store.Replica(ctx, tx)
		st.Phase = db.PhaseLive
		if err := w.BuildSearchIndex(benchDir); err != nil {
			return err
		}
		return w.PutSyncState(st)
	})
	if err != nil {
		b.Fatal(err)
	}
	batch := make([]dirsync.Event, 100)
	seq := 0
	b.ReportAllocs()
	b.ResetTimer()
	cpu := startCPU()
	for b.Loop() {
		b.StopTimer()
		for i := range batch {
			seq++
			u := (seq * 7919) % users // scattered users
			batch[i] = dirsync.Event{ID: fmt.Sprintf("event_%012d", seq), Event: "dsync.user.updated", CreatedAt: benchT0,
				Data: benchUserJSON(u, benchT0.Add(time.Duration(seq)*time.Millisecond))}
		}
		b.StartTimer()
		if err := s.ApplyEvents(ctx, benchDir, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(seq)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(seq)/cpu.since().Seconds(), "events/cpu-s")
}

// cpuClock measures the process's CPU time (user + system): on a shared,
// overloaded machine wall-clock rates say more about the neighbours.
// It includes the untimed setup of each iteration, so it is a lower bound.
type cpuClock struct{ start time.Duration }

func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU() cpuClock { return cpuClock{processCPU()} }

func (c cpuClock) since() time.Duration { return processCPU() - c.start }
