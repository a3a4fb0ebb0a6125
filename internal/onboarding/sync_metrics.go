package onboarding

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// syncMetrics are the sync's Prometheus metrics. Counters are kept as the
// sync works; the per-directory gauges are read from the database at scrape
// time (cheap counts), so they are right even for another process's writes.
type syncMetrics struct {
	s       *Syncer
	applied prometheus.Counter
	skipped *prometheus.CounterVec
	errors  *prometheus.CounterVec

	users, groups, memberships, lag, progress *prometheus.Desc
}

func newSyncMetrics(s *Syncer) *syncMetrics {
	dir := []string{"directory_id"}
	m := &syncMetrics{
		s: s,
		applied: prometheus.NewCounter(prometheus.CounterOpts{Name: "roster_sync_events_applied_total",
			Help: "Directory events applied to the replica."}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "roster_sync_events_skipped_total",
			Help: "Directory events not applied, by reason (duplicate, stale, failed)."}, []string{"reason"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "roster_sync_errors_total",
			Help: "Sync failures, by kind (auth, rate_limit, unavailable, malformed, rejected, database)."}, []string{"kind"}),
		users:       prometheus.NewDesc("roster_replica_users", "Live users in the replica.", dir, nil),
		groups:      prometheus.NewDesc("roster_replica_groups", "Live groups in the replica.", dir, nil),
		memberships: prometheus.NewDesc("roster_replica_memberships", "Memberships in the replica.", dir, nil),
		lag:         prometheus.NewDesc("roster_sync_lag_seconds", "How far the replica is behind WorkOS's events.", dir, nil),
		progress:    prometheus.NewDesc("roster_backfill_progress_ratio", "Progress of the current load (1 when live).", dir, nil),
	}
	for _, r := range []string{"duplicate", "stale", "failed"} {
		m.skipped.WithLabelValues(r)
	}
	for _, k := range []string{ErrKindAuth, ErrKindRateLimit, ErrKindUnavailable, ErrKindMalformed, ErrKindRejected, ErrKindDatabase} {
		m.errors.WithLabelValues(k)
	}
	return m
}

// Collectors returns the sync's metrics for registration, e.g.
// prometheus.MustRegister(syncer.Collectors()...).
func (s *Syncer) Collectors() []prometheus.Collector {
	s.init()
	return []prometheus.Collector{s.m, s.m.applied, s.m.skipped, s.m.errors}
}

// Describe implements prometheus.Collector for the per-directory gauges.
func (m *syncMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.users, m.groups, m.memberships, m.lag, m.progress} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (m *syncMetrics) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := m.s.DB.ReplicaCounts(ctx)
	if err != nil {
		m.s.Log.Warn("metrics: replica counts", "err", err)
		return
	}
	states, err := m.s.DB.SyncStates(ctx)
	if err != nil {
		m.s.Log.Warn("metrics: sync states", "err", err)
		return
	}
	now := m.s.now()
	for _, st := range states {
		if st.Phase == "deleted" {
			continue
		}
		c := counts[st.DirectoryID]
		id := st.DirectoryID
		ch <- prometheus.MustNewConstMetric(m.users, prometheus.GaugeValue, float64(c.Users), id)
		ch <- prometheus.MustNewConstMetric(m.groups, prometheus.GaugeValue, float64(c.Groups), id)
		ch <- prometheus.MustNewConstMetric(m.memberships, prometheus.GaugeValue, float64(c.Memberships), id)
		ch <- prometheus.MustNewConstMetric(m.lag, prometheus.GaugeValue, lag(st, now).Seconds(), id)
		ch <- prometheus.MustNewConstMetric(m.progress, prometheus.GaugeValue, progress(st, m.s.memberGroupsDone(ctx, st)), id)
	}
}
