// Package timeline joins events into one timeline per pod and decides the
// stages of its start. It is pure state: no I/O, no clock of its own (the
// caller passes time in), and no knowledge of journald, gRPC or Prometheus.
// Finished stages go to an Observer exactly once.
package timeline

import (
	"time"

	"github.com/podstart/podstart/internal/event"
)

// Stage names one interval of a pod start. The names are metric label values.
type Stage string

// Per-pod and per-container stages.
const (
	StageVolumes         Stage = "volumes"          // admission or first mount start → last volume mounted
	StageSandbox         Stage = "sandbox"          // RunPodSandbox called → returned
	StageImagePull       Stage = "image_pull"       // per container: pull started → pulled
	StageContainerCreate Stage = "container_create" // per container: CreateContainer called → returned
	StageContainerStart  Stage = "container_start"  // per container: StartContainer called → returned
	StageInitContainers  Stage = "init_containers"  // first init container running → last init container exited
	StageReadiness       Stage = "readiness"        // all containers started → Ready
	// StageRunning is used only for failures after the pod became Ready
	// (a liveness probe, a crash loop).
	StageRunning Stage = "running"
)

// Stages lists the duration stages in pod start order.
var Stages = []Stage{StageVolumes, StageSandbox, StageImagePull, StageContainerCreate, StageContainerStart, StageInitContainers, StageReadiness}

// StuckStages are the stages a pod can be in while it has not finished
// starting: the label values of podstart_pods_in_stage, in pod start order.
var StuckStages = []Stage{StageVolumes, StageSandbox, StageImagePull, StageContainerCreate, StageContainerStart, StageReadiness}

// Scope names a whole-pod total.
type Scope string

// Totals.
const (
	ScopeNode  Scope = "node"  // first sign of the pod on the node → all containers started
	ScopeReady Scope = "ready" // first sign → Ready
	ScopeE2E   Scope = "e2e"   // the kubelet's startup tracker: podStartE2EDuration
	ScopeSLO   Scope = "slo"   // the kubelet's startup tracker: podStartSLOduration
)

// Scopes lists the totals.
var Scopes = []Scope{ScopeNode, ScopeReady, ScopeE2E, ScopeSLO}

// Pull results.
const (
	PullPulled = "pulled"
	PullCached = "cached"
	PullFailed = "failed"
)

// Observer receives each finished observation exactly once. The metrics sink
// implements it; the timeline calls it with its lock held, so an Observer
// must not call back into the Timeline.
type Observer interface {
	Stage(s Stage, d time.Duration, pod event.PodRef)
	Total(s Scope, d time.Duration, pod event.PodRef)
	ImagePull(d time.Duration, sizeBytes int64, pod event.PodRef)
	VolumeMount(plugin string, d time.Duration, pod event.PodRef)
	PullResult(result string, pod event.PodRef)
	Failure(s Stage, reason string, pod event.PodRef)
	Evicted()
	// NodeProblem is told each kubelet line about a problem of the node
	// (one of event.Problems).
	NodeProblem(problem string)
	// KubeletStart is told each kubelet start: its start line, or lines
	// from a new kubelet PID without one.
	KubeletStart()
	// ContainerRestart is told each restart of a container, with how its
	// previous attempt ended (one of event.ExitReasons).
	ContainerRestart(exitReason string, pod event.PodRef)
	// BackOff is told each new back-off the kubelet applies to a
	// crash-looping container (10s doubling to 5m), once per step.
	BackOff(d time.Duration, pod event.PodRef)
}

// Discard is an Observer that keeps nothing, for a timeline read only
// through Snapshot (the report, which serves no metrics).
type Discard struct{}

func (Discard) Stage(Stage, time.Duration, event.PodRef)        {}
func (Discard) Total(Scope, time.Duration, event.PodRef)        {}
func (Discard) ImagePull(time.Duration, int64, event.PodRef)    {}
func (Discard) VolumeMount(string, time.Duration, event.PodRef) {}
func (Discard) PullResult(string, event.PodRef)                 {}
func (Discard) Failure(Stage, string, event.PodRef)             {}
func (Discard) Evicted()                                        {}
func (Discard) NodeProblem(string)                              {}
func (Discard) KubeletStart()                                   {}
func (Discard) ContainerRestart(string, event.PodRef)           {}
func (Discard) BackOff(time.Duration, event.PodRef)             {}

// Point is one end of an interval and who reported it.
type Point struct {
	At     time.Time
	Source event.Source
}

// IsZero reports whether the point was never set.
func (p Point) IsZero() bool { return p.At.IsZero() }

// Interval is a stage of one pod or container.
type Interval struct {
	Start, End Point
}

// Done reports whether both ends are known and in order.
func (iv Interval) Done() bool {
	return !iv.Start.IsZero() && !iv.End.IsZero() && !iv.End.At.Before(iv.Start.At)
}

// Duration returns End − Start for a done interval.
func (iv Interval) Duration() time.Duration {
	if !iv.Done() {
		return 0
	}
	return iv.End.At.Sub(iv.Start.At)
}
