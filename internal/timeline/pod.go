package timeline

import (
	"time"

	"github.com/podstart/podstart/internal/event"
)

// Bounds on what one pod may hold, so a hostile or broken log cannot grow
// a pod without limit.
const (
	maxContainers = 64
	maxFailures   = 32
	maxVolumes    = 128
)

// pod is the timeline of one pod incarnation (one UID).
type pod struct {
	ref       event.PodRef
	firstSeen Point // first sign of the pod on the node
	lastSeen  time.Time

	admitted  Point // SyncLoop ADD
	volumes   map[string]*volume
	volOrder  []string
	volStage  Interval
	volClosed bool // the sandbox was asked for (or a later step seen)
	// volBound is the step that closed the volumes stage, volBySandbox
	// whether it was the sandbox request; volEmitted: the stage was
	// decided (emitVolumes).
	volBound     Point
	volBySandbox bool
	volEmitted   bool

	sandboxID string
	sandbox   Interval
	sbEmitted bool
	sbAttempt int

	containers []*container
	// lastStepEnd is when the pod's kubelet worker last got an answer from
	// the runtime (sandbox or a container start returned): a pull that began
	// before it cannot be for this pod's next container. Only the runtime's
	// own lines set it: they are in order with its pull lines, while the
	// CRI's events may overtake them.
	lastStepEnd time.Time

	initStage   Interval
	initEmitted bool

	allStarted  Point // last container start of the pod (so far)
	nodeEmitted bool
	ready       Point
	readyDone   bool
	trackerDone bool
	e2e, slo    *time.Duration

	removed  Point
	failures []*failure
	active   bool // in Timeline.active
	gone     bool // expired or evicted
	// failedImage is the image of a failed pull whose container was not
	// named yet ("Failed to pull image" comes before "Error syncing pod").
	failedImage string

	// resync: the pod was first seen, by its volumes or admission only,
	// right after a kubelet start. A restarted kubelet re-admits and
	// re-verifies the volumes of every pod it already runs; such a pod is
	// not taken to be in its volumes stage until it shows a start step of
	// its own (a sandbox request).
	resync bool
	// mountTimedOut: the MountTimeout failure was derived.
	mountTimedOut bool
	evicted       bool
	// again: a new incarnation of a UID seen before (a static pod dropped
	// again after its removal; see reborn).
	again bool
	// A crash loop: the first and the latest back-off of the current
	// streak (back-offs no further apart than crashLoopGap).
	backoffFirst, backoffLast time.Time
}

type volume struct {
	name, plugin string
	iv           Interval
	emitted      bool
	mountStarted bool // "MountVolume started" seen, not only the attach check
}

type container struct {
	name    string
	attempt int
	id      string
	init    bool // from the kubelet's fieldPath, or inferred
	image   string

	pull        string // pulled, cached, failed or ""
	pullIv      Interval
	pullSize    int64
	pullStated  time.Duration // the kubelet's "in X" when it is all we have
	pullEmitted bool

	create        Interval
	createEmitted bool
	start         Interval
	startEmitted  bool
	exited        Point
	exitCode      *int
	exitReason    string
	// oom: the runtime reported an OOM kill in the container.
	oom bool
	// oomCounted: the OOMKilled failure was counted for this attempt.
	oomCounted bool
	// restartCounted: this attempt was counted as a restart.
	restartCounted bool
	// backoff is the last back-off the kubelet stated for this container
	// name (kept on the newest attempt).
	backoff time.Duration
}

type failure struct {
	stage     Stage
	reason    string
	container string
	message   string
	first     time.Time
	last      time.Time
	count     int
}

func newPod(ref event.PodRef, at Point) *pod {
	return &pod{ref: ref, firstSeen: at, lastSeen: at.At, volumes: map[string]*volume{}}
}

func (p *pod) seen(t time.Time, src event.Source) {
	if p.firstSeen.IsZero() || t.Before(p.firstSeen.At) {
		p.firstSeen = Point{t, src}
	}
	if t.After(p.lastSeen) {
		p.lastSeen = t
	}
}

// containerByName returns the newest attempt of a container, creating it
// when create is set.
func (p *pod) containerByName(name string, attempt int, create bool) *container {
	if name == "" {
		return nil
	}
	for i := len(p.containers) - 1; i >= 0; i-- {
		c := p.containers[i]
		if c.name == name && (attempt < 0 || c.attempt == attempt) {
			return c
		}
	}
	if !create || len(p.containers) >= maxContainers {
		return nil
	}
	if attempt < 0 {
		attempt = 0
	}
	c := &container{name: name, attempt: attempt}
	p.containers = append(p.containers, c)
	return c
}

func (p *pod) containerByID(id string) *container {
	for _, c := range p.containers {
		if c.id == id {
			return c
		}
	}
	return nil
}

// holding reports whether an end is known but not yet observed (held for
// the CRI).
func (p *pod) holding() bool {
	if p.volClosed && !p.volEmitted {
		return true
	}
	if p.sandbox.Done() && !p.sbEmitted {
		return true
	}
	for _, c := range p.containers {
		if (c.create.Done() && !c.createEmitted) || (c.start.Done() && !c.startEmitted) {
			return true
		}
	}
	return false
}
