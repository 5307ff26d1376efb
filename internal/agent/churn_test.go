package agent

import (
	"errors"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/podstart/podstart/internal/journal"
	"github.com/podstart/podstart/internal/journaltest"
	"github.com/podstart/podstart/internal/metrics"
	"github.com/podstart/podstart/internal/timeline"
)

// TestChurnMemoryBounded pushes the kubelet's and containerd's lines of
// many pod starts (a busy node's: a quarter of them never start, their
// image missing) through the agent as the journal reader hands them on,
// with the serve defaults (TTL 1h, cap 5,000) and with report's (no TTL:
// only the cap bounds the timeline). The Go heap in use afterwards must
// stay bounded; the figures are logged for docs/reliability.md.
// PODSTART_CHURN_PODS changes the number of pods: the default, 6,000, is
// past the cap and quick (the generator writes 125 lines a pod); the figures
// in docs/reliability.md are from 100,000.
func TestChurnMemoryBounded(t *testing.T) {
	pods := 6000
	if s := os.Getenv("PODSTART_CHURN_PODS"); s != "" {
		var err error
		if pods, err = strconv.Atoi(s); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name string
		ttl  time.Duration
	}{
		{"serve defaults (TTL 1h, cap 5000)", time.Hour},
		{"no TTL (cap 5000)", 100 * 365 * 24 * time.Hour},
	} {
		t.Run(c.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			cfg := timeline.DefaultConfig
			cfg.TTL = c.ttl
			tl := timeline.New(cfg, metrics.NewSink(reg, metrics.Options{}))
			h := metrics.NewHealth(reg, func() float64 { return float64(tl.Len()) })
			a := New(Config{}, tl, h)
			hd := handler{a}
			var lines int
			var t0 time.Time
			// BusyNode starts 4 pods every 10 s of its time.
			episodes := pods / 4
			err := journaltest.BusyNode{Entries: 1 << 40}.Generate(func(e journaltest.Entry) error {
				if t0.IsZero() {
					t0 = e.Realtime
				}
				if e.Realtime.Sub(t0) > time.Duration(episodes)*10*time.Second {
					return errDone
				}
				u := e.Fields["_SYSTEMD_UNIT"]
				if u != "kubelet.service" && u != "containerd.service" {
					return nil
				}
				lines++
				hd.Entry(journal.Entry{Message: e.Message(), Unit: u, PID: e.Fields["_PID"], Time: e.Realtime})
				if lines%4096 == 0 {
					hd.CaughtUp()
				}
				return nil
			})
			if err != nil && !errors.Is(err, errDone) {
				t.Fatal(err)
			}
			hd.CaughtUp()
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			evicted := counter(t, reg, "podstart_timeline_evicted_pods_total")
			t.Logf("%d pods, %d lines: %d pods tracked at the end, %.0f evicted; Go heap in use %.1f MiB",
				pods, lines, tl.Len(), evicted, float64(ms.HeapInuse)/(1<<20))
			if tl.Len() > cfg.MaxPods {
				t.Errorf("%d pods tracked, over the cap of %d", tl.Len(), cfg.MaxPods)
			}
			// 5,000 pods with their containers, volumes and failures take
			// a few tens of MiB; the bound is far below what 100,000 would.
			if limit := uint64(64 << 20); ms.HeapInuse > limit {
				t.Errorf("Go heap in use %.1f MiB after %d pods, want under %d MiB", float64(ms.HeapInuse)/(1<<20), pods, limit>>20)
			}
		})
	}
}

var errDone = errors.New("done")

func counter(t *testing.T, g prometheus.Gatherer, name string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var v float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				v += m.GetCounter().GetValue()
			}
		}
	}
	return v
}
