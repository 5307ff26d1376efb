package agent_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/podstart/podstart/internal/agent"
	"github.com/podstart/podstart/internal/event"
	"github.com/podstart/podstart/internal/journal"
	"github.com/podstart/podstart/internal/journaltest"
	"github.com/podstart/podstart/internal/metrics"
	"github.com/podstart/podstart/internal/timeline"
)

// minObserver records the shortest duration observed.
type minObserver struct {
	timeline.Observer
	mu       sync.Mutex
	min, max time.Duration
	n        int
}

func (m *minObserver) see(d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.n == 0 || d < m.min {
		m.min = d
	}
	if d > m.max {
		m.max = d
	}
	m.n++
}

func (m *minObserver) Stage(s timeline.Stage, d time.Duration, p event.PodRef) {
	m.see(d)
	m.Observer.Stage(s, d, p)
}

func (m *minObserver) Total(s timeline.Scope, d time.Duration, p event.PodRef) {
	m.see(d)
	m.Observer.Total(s, d, p)
}

// TestNodeClockSteps: the node's clock is stepped (NTP) back by two
// minutes, or forward by an hour, in the middle of pod starts: the kubelet's
// and containerd's timestamps and journald's receive times all jump, the
// monotonic clock does not. The step is counted, no duration observed is
// negative, and nothing crashes or stalls.
func TestNodeClockSteps(t *testing.T) {
	rec := recorded(t, "realnode-basic")
	// The step comes between a container's create call and its return:
	// inside a pod start.
	cut := -1
	for i, e := range rec {
		if strings.Contains(e.Message(), "CreateContainer within sandbox") && !strings.Contains(e.Message(), "returns") {
			cut = i + 1
			break
		}
	}
	if cut < 0 {
		t.Fatal("no CreateContainer line in the recording")
	}
	for _, step := range []time.Duration{-2 * time.Minute, time.Hour} {
		t.Run(step.String(), func(t *testing.T) {
			var es []journaltest.Entry
			k, c := journaltest.Kubelet(17689), journaltest.Containerd(17640)
			for i, e := range rec {
				d := time.Duration(0)
				if i >= cut {
					d = step
				}
				p := c
				if e.Fields["_SYSTEMD_UNIT"] == "kubelet.service" {
					p = k
				}
				r := p.Replay(e, d, nil)
				// The boot's monotonic clock runs on through the step.
				r.Monotonic = time.Hour + e.Realtime.Sub(rec[0].Realtime)
				es = append(es, r)
			}
			dir := t.TempDir()
			journaltest.Write(t, dir, es)
			reg := prometheus.NewRegistry()
			m := &minObserver{Observer: metrics.NewSink(reg, metrics.Options{})}
			tl := timeline.New(timeline.Config{TTL: 100 * 365 * 24 * time.Hour, Settle: 5 * time.Second}, m)
			hl := metrics.NewHealth(reg, func() float64 { return float64(tl.Len()) })
			h := &harness{reg: reg, tl: tl, a: agent.New(agent.Config{Journal: journal.Config{Path: dir, Matches: podMatches}}, tl, hl)}
			h.readOnce(t)
			if m.n == 0 {
				t.Fatal("nothing observed")
			}
			if m.min < 0 {
				t.Errorf("a negative duration was observed: %s", m.min)
			}
			if got := h.metric(t, "podstart_clock_steps_total"); got != 1 {
				t.Errorf("podstart_clock_steps_total %v, want 1", got)
			}
			// A step forward inside a stage lengthens that stage by the
			// step: the journal's times are all there is (docs/reliability.md).
			t.Logf("%d observations, shortest %s, longest %s", m.n, m.min, m.max)
		})
	}
}
