package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/podstart/podstart/internal/event"
	"github.com/podstart/podstart/internal/timeline"
)

// fakeStages is a stageReader with fixed loads; it records the time asked.
type fakeStages struct {
	asked time.Time
	loads []timeline.StageLoad
}

func (f *fakeStages) InStage(now time.Time) []timeline.StageLoad {
	f.asked = now
	return f.loads
}

func TestStuckCollector(t *testing.T) {
	now := time.Date(2026, 11, 29, 16, 0, 0, 0, time.UTC)
	src := &fakeStages{loads: []timeline.StageLoad{
		{Stage: timeline.StageImagePull, Pods: 2, Oldest: now.Add(-10 * time.Minute)},
		{Stage: timeline.StageSandbox},
	}}
	reg := prometheus.NewRegistry()
	NewStuckCollector(reg, src, func() time.Time { return now })
	want := `
# HELP podstart_pods_in_stage Pods on this node that are in this stage of their start now and have not finished it: volumes, sandbox, image_pull, container_create, container_start (crash-looping pods too, once each), readiness (after a failed readiness probe). Removed and started pods are in none.
# TYPE podstart_pods_in_stage gauge
podstart_pods_in_stage{stage="image_pull"} 2
podstart_pods_in_stage{stage="sandbox"} 0
# HELP podstart_stage_oldest_seconds How long the oldest pod in this stage has been in it, 0 when none is: alert on it (e.g. image_pull > 600 means a pod has been pulling for 10 minutes) and find the pod in /pods or node-agent report.
# TYPE podstart_stage_oldest_seconds gauge
podstart_stage_oldest_seconds{stage="image_pull"} 600
podstart_stage_oldest_seconds{stage="sandbox"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	if !src.asked.Equal(now) {
		t.Errorf("asked for %v, want the collector's now %v", src.asked, now)
	}
}

// TestStuckCollectorOnTimeline: on a real timeline every stage has a series
// from the start, at 0.
func TestStuckCollectorOnTimeline(t *testing.T) {
	reg := prometheus.NewRegistry()
	tl := timeline.New(timeline.Config{}, NewSink(reg, Options{}))
	NewStuckCollector(reg, tl, tl.Clock)
	if n := testutil.CollectAndCount(reg, "podstart_pods_in_stage"); n != len(timeline.StuckStages) {
		t.Errorf("%d podstart_pods_in_stage series, want %d", n, len(timeline.StuckStages))
	}
}

// TestNodeSignals: bounded labels, pre-created, and values outside the sets
// never become series.
func TestNodeSignals(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := NewSink(reg, Options{})
	if n := testutil.CollectAndCount(reg, "podstart_node_problems_total"); n != len(event.Problems) {
		t.Errorf("%d node problem series, want %d pre-created", n, len(event.Problems))
	}
	s.NodeProblem(event.ProblemLeaseUpdate)
	s.NodeProblem("made_up")
	s.KubeletStart()
	s.ContainerRestart(event.ExitOOMKilled, event.PodRef{})
	s.ContainerRestart("SomethingNew", event.PodRef{})
	s.BackOff(40*time.Second, event.PodRef{})
	if v := testutil.ToFloat64(s.problems.WithLabelValues(event.ProblemLeaseUpdate)); v != 1 {
		t.Errorf("lease_update_failed %v", v)
	}
	if n := testutil.CollectAndCount(reg, "podstart_node_problems_total"); n != len(event.Problems) {
		t.Errorf("an unknown problem became a series")
	}
	if v := testutil.ToFloat64(s.restarts.WithLabelValues(event.ExitOther)); v != 1 {
		t.Errorf("an unknown exit reason: Other %v, want 1", v)
	}
	if v := testutil.ToFloat64(s.starts); v != 1 {
		t.Errorf("kubelet starts %v", v)
	}
	if n := testutil.CollectAndCount(reg, "podstart_container_restarts_total"); n != len(event.ExitReasons) {
		t.Errorf("%d restart series, want %d", n, len(event.ExitReasons))
	}
}
