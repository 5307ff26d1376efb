package timeline

import (
	"time"

	"github.com/podstart/podstart/internal/event"
)

// PodView is a pod's timeline as `report --format json` and `/pods` show it.
type PodView struct {
	Namespace  string                  `json:"namespace"`
	Name       string                  `json:"name"`
	UID        string                  `json:"uid"`
	FirstSeen  time.Time               `json:"first_seen"`
	LastSeen   time.Time               `json:"last_seen"`
	State      string                  `json:"state"`
	Stages     map[string]float64      `json:"stages"`
	Intervals  map[string]IntervalView `json:"intervals"`
	Containers []ContainerView         `json:"containers"`
	Failures   []FailureView           `json:"failures"`
	// Stuck is the stage the pod is in as of the snapshot, when it has not
	// finished starting (or is crash-looping): absent otherwise.
	Stuck *StuckView `json:"stuck,omitempty"`
}

// IntervalView gives a stage's two ends and the source of each
// (kubelet, runtime or cri).
type IntervalView struct {
	Start       time.Time    `json:"start"`
	End         time.Time    `json:"end"`
	StartSource event.Source `json:"start_source"`
	EndSource   event.Source `json:"end_source"`
	Seconds     float64      `json:"seconds"`
}

// ContainerView is one container attempt of a pod.
type ContainerView struct {
	Name          string                  `json:"name"`
	Attempt       int                     `json:"attempt"`
	ID            string                  `json:"id,omitempty"`
	Init          bool                    `json:"init"`
	Image         string                  `json:"image,omitempty"`
	Pull          string                  `json:"pull,omitempty"`
	PullSeconds   *float64                `json:"pull_seconds,omitempty"`
	ImageSize     int64                   `json:"image_size_bytes,omitempty"`
	CreateSeconds *float64                `json:"create_seconds,omitempty"`
	StartSeconds  *float64                `json:"start_seconds,omitempty"`
	ExitCode      *int                    `json:"exit_code,omitempty"`
	ExitReason    string                  `json:"exit_reason,omitempty"`
	Intervals     map[string]IntervalView `json:"intervals,omitempty"`
}

// FailureView is one failure of a pod start, counted once however often
// the kubelet and runtime repeat it.
type FailureView struct {
	Stage     string    `json:"stage"`
	Reason    string    `json:"reason"`
	Container string    `json:"container,omitempty"`
	Message   string    `json:"message"`
	First     time.Time `json:"first"`
	Last      time.Time `json:"last"`
	Count     int       `json:"count"`
}

// Snapshot returns the tracked pods, slowest first, as of the latest event
// (a journal read once). A non-empty filter ("namespace/name") keeps that
// pod only.
func (tl *Timeline) Snapshot(filter string) []PodView {
	return tl.SnapshotAt(filter, time.Time{})
}

// SnapshotAt is Snapshot as of now (serve mode: the wall clock); a zero now
// is the latest event's time.
func (tl *Timeline) SnapshotAt(filter string, now time.Time) []PodView {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	if now.IsZero() {
		now = tl.clock
	}
	out := []PodView{}
	for _, p := range tl.sortedPods() {
		if filter != "" && p.ref.Key() != filter {
			continue
		}
		v := p.view()
		v.Stuck = tl.stuck(p, now)
		out = append(out, v)
	}
	return out
}

func ivView(iv Interval) IntervalView {
	v := IntervalView{Start: iv.Start.At, End: iv.End.At, StartSource: iv.Start.Source, EndSource: iv.End.Source}
	if iv.Done() {
		v.Seconds = iv.Duration().Seconds()
	}
	return v
}

func secs(d time.Duration) *float64 {
	s := d.Seconds()
	return &s
}

func (p *pod) view() PodView {
	v := PodView{
		Namespace: p.ref.Namespace, Name: p.ref.Name, UID: p.ref.UID,
		FirstSeen: p.firstSeen.At, LastSeen: p.lastSeen, State: p.state(),
		Stages: map[string]float64{}, Intervals: map[string]IntervalView{},
		Containers: []ContainerView{}, Failures: []FailureView{},
	}
	add := func(name string, iv Interval) {
		if iv.Start.IsZero() && iv.End.IsZero() {
			return
		}
		v.Intervals[name] = ivView(iv)
		if iv.Done() {
			v.Stages[name] = iv.Duration().Seconds()
		}
	}
	add(string(StageVolumes), p.volStage)
	add(string(StageSandbox), p.sandbox)
	add(string(StageInitContainers), p.initStage)
	if !p.allStarted.IsZero() {
		if p.nodeEmitted || p.readyDone {
			add(string(ScopeNode), Interval{p.firstSeen, p.allStarted})
		}
		if !p.ready.IsZero() {
			add(string(StageReadiness), Interval{p.allStarted, p.ready})
		}
	}
	if !p.ready.IsZero() {
		add(string(ScopeReady), Interval{p.firstSeen, p.ready})
	}
	if p.e2e != nil {
		v.Stages[string(ScopeE2E)] = p.e2e.Seconds()
	}
	if p.slo != nil {
		v.Stages[string(ScopeSLO)] = p.slo.Seconds()
	}
	for _, c := range p.containers {
		cv := ContainerView{Name: c.name, Attempt: c.attempt, ID: c.id, Init: c.init, Image: c.image, Pull: c.pull, ImageSize: c.pullSize, ExitCode: c.exitCode, ExitReason: c.exitReason, Intervals: map[string]IntervalView{}}
		if c.pull == PullPulled {
			switch {
			case c.pullIv.Done():
				cv.PullSeconds = secs(c.pullIv.Duration())
			case c.pullStated > 0:
				cv.PullSeconds = secs(c.pullStated)
			}
		}
		if c.create.Done() {
			cv.CreateSeconds = secs(c.create.Duration())
		}
		if c.start.Done() {
			cv.StartSeconds = secs(c.start.Duration())
		}
		for name, iv := range map[string]Interval{string(StageImagePull): c.pullIv, string(StageContainerCreate): c.create, string(StageContainerStart): c.start} {
			if !iv.Start.IsZero() || !iv.End.IsZero() {
				cv.Intervals[name] = ivView(iv)
			}
		}
		v.Containers = append(v.Containers, cv)
	}
	for _, f := range p.failures {
		v.Failures = append(v.Failures, FailureView{Stage: string(f.stage), Reason: f.reason, Container: f.container, Message: f.message, First: f.first, Last: f.last, Count: f.count})
	}
	return v
}

// state summarises where a pod's start stands.
func (p *pod) state() string {
	switch {
	case p.readyDone:
		return "ready"
	case len(p.failures) > 0 && p.allStarted.IsZero():
		return "failing"
	case !p.removed.IsZero():
		return "removed"
	case p.nodeEmitted:
		return "started"
	default:
		return "starting"
	}
}
