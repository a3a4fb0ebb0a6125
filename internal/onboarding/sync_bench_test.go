package onboarding

import (
	"context"
	"database/sql"
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

// pageAPI serves users pages from JSON, decoding them as the client would.
type pageAPI struct {
	SyncAPI
	page []byte
}

func (p *pageAPI) ListUsers(_ context.Context, _ dirsync.ListUsersOptions) (dirsync.Page[dirsync.User], error) {
	var users []dirsync.User
	if err := json.Unmarshal(p.page, &users); err != nil {
		return dirsync.Page[dirsync.User]{}, err
	}
	return dirsync.Page[dirsync.User]{Data: users, After: users[len(users)-1].ID}, nil
}

func benchSyncer(b *testing.B) (*Syncer, *db.DB) {
	store := openTestDB(b, "")
	s := NewSyncer(store, nil, quietLog())
	ctx := context.Background()
	err := store.Tx(ctx, func(tx *sql.Tx) error {
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

// BenchmarkBackfillUsersPage measures one backfill step: decode a 100-user
// JSON page, map it and store it with the progress in one transaction
// (network excluded). Target: ≥ 15,000 users/s.
func BenchmarkBackfillUsersPage(b *testing.B) {
	s, store := benchSyncer(b)
	api := &pageAPI{}
	s.API = api
	ctx := context.Background()
	st, err := store.SyncState(ctx, benchDir)
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	b.ReportAllocs()
	b.ResetTimer()
	cpu := startCPU()
	for b.Loop() {
		b.StopTimer()
		api.page = benchPage(n, benchT0)
		n += 100
		b.StartTimer()
		if err := s.loadStep(ctx, &st); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "users/s")
	b.ReportMetric(float64(n)/cpu.since().Seconds(), "users/cpu-s")
}

// BenchmarkApplyEvents measures applying a batch of 100 dsync.user.updated
// events (decode, dedupe, guarded upsert, record, counters) in one
// transaction against 20,000 stored users. Target: ≥ 10,000 events/s.
func BenchmarkApplyEvents(b *testing.B) {
	s, store := benchSyncer(b)
	ctx := context.Background()
	const users = 20_000
	api := &pageAPI{}
	s.API = api
	st, _ := store.SyncState(ctx, benchDir)
	for i := 0; i < users; i += 100 {
		api.page = benchPage(i, benchT0)
		if err := s.loadStep(ctx, &st); err != nil {
			b.Fatal(err)
		}
	}
	err := store.Tx(ctx, func(tx *sql.Tx) error {
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
