package timeline

import (
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/podstart/podstart/internal/event"
)

// Config bounds the timeline.
type Config struct {
	// TTL: a pod leaves the timeline this long after its last event.
	TTL time.Duration
	// MaxPods caps tracked pods; past it the least recently seen is evicted
	// and counted.
	MaxPods int
	// Settle: when no container of a pod has been created, started or
	// pulled for this long after its last container started, all its
	// containers are taken to have started. Nothing in the kubelet's or
	// runtime's lines says how many containers a pod has.
	Settle time.Duration
	// AwaitCRI: when a CRI source runs, sandbox and container ends that the
	// logs gave are held this long for the CRI's own timestamps, which win;
	// zero observes them at once.
	AwaitCRI time.Duration
}

// DefaultConfig is what the agent uses unless told otherwise.
var DefaultConfig = Config{TTL: time.Hour, MaxPods: 5000, Settle: 5 * time.Second}

// Timeline holds the pods being started on a node. Its methods are safe
// for concurrent use.
type Timeline struct {
	cfg Config
	obs Observer

	mu          sync.Mutex
	pods        []*pod // in order of first sign; removals are rare and amortised
	byUID       map[string]*pod
	byName      map[nameKey]*pod // latest incarnation of namespace/name
	bySandbox   map[string]*pod
	byContainer map[string]*pod
	pulls       pullQueue
	lastSweep   time.Time
	lastExpire  time.Time
	// active holds the pods that may still settle or have ends held for
	// the CRI; sweeping visits only them, so its cost does not grow with
	// the pods kept for /pods and the report.
	active []*pod
	clock  time.Time // latest event time seen

	// The kubelet process: the PID of its latest lines, the PID whose start
	// was last counted, and when it last started.
	kubeletPID     int
	countedPID     int
	kubeletStartAt time.Time
}

// New returns an empty timeline that reports to obs.
func New(cfg Config, obs Observer) *Timeline {
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultConfig.TTL
	}
	if cfg.MaxPods <= 0 {
		cfg.MaxPods = DefaultConfig.MaxPods
	}
	if cfg.Settle <= 0 {
		cfg.Settle = DefaultConfig.Settle
	}
	return &Timeline{
		cfg: cfg, obs: obs,
		byUID: map[string]*pod{}, byName: map[nameKey]*pod{},
		bySandbox: map[string]*pod{}, byContainer: map[string]*pod{},
	}
}

// Apply adds one event to the timeline.
func (tl *Timeline) Apply(ev event.Event) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	if ev.Time.After(tl.clock) {
		tl.clock = ev.Time
	}
	tl.apply(ev)
	// Settle and expire by event time, so replaying a journal decides the
	// same as following it.
	if tl.clock.Sub(tl.lastSweep) >= time.Second {
		tl.sweep(tl.clock)
	}
}

// Tick settles and expires pods as of now. The agent calls it on a timer
// while following; Flush is the end-of-input form.
func (tl *Timeline) Tick(now time.Time) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	tl.sweep(now)
}

// Flush decides what the input allows once no more events will come (the
// end of a read-once journal): every pod whose containers all started gets
// its node total, without waiting to settle. Pods stay in the timeline.
func (tl *Timeline) Flush() {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	tl.attributeFailures(farFuture)
	for _, p := range tl.pods {
		tl.emitReady(p, farFuture)
		tl.settle(p, time.Time{}, true)
		tl.mountTimeout(p, tl.clock)
	}
}

// Clock returns the time of the latest event applied: "now" for a journal
// that is read once.
func (tl *Timeline) Clock() time.Time {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	return tl.clock
}

// farFuture makes every held end final.
var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// Len returns the number of tracked pods.
func (tl *Timeline) Len() int {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	return len(tl.pods)
}

// InFlightSince returns when the earliest pod still in flight was first
// seen, or the zero time when none is: a pod that may still settle (the
// active set), or that is neither Ready nor removed, may still emit
// observations. A restarted agent replays the journal from there, so that
// those pods' timelines are whole again.
func (tl *Timeline) InFlightSince() time.Time {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	var t time.Time
	for _, p := range tl.pods {
		if p.gone || (!p.active && (p.readyDone || !p.removed.IsZero())) {
			continue
		}
		if t.IsZero() || p.firstSeen.At.Before(t) {
			t = p.firstSeen.At
		}
	}
	return t
}

func (tl *Timeline) apply(ev event.Event) {
	if ev.Source == event.SourceKubelet {
		tl.kubeletProcess(ev)
	}
	switch ev.Kind {
	case event.NodeProblem:
		tl.obs.NodeProblem(ev.Reason)
		return
	case event.ImagePullStart, event.ImagePulled, event.ImagePullDetail, event.ImagePullFailed:
		if ev.Pod.Name == "" && ev.Pod.UID == "" && ev.SandboxID == "" {
			tl.runtimePull(ev)
			return
		}
	case event.StartupTracker:
		// The tracker line names the pod by namespace/name only.
	case event.KubeletStart, event.Unrecognised:
		return
	}
	if len(ev.Pods) > 1 {
		for _, ref := range ev.Pods {
			one := ev
			one.Pods, one.Pod = nil, ref
			tl.applyPod(one)
		}
		return
	}
	tl.applyPod(ev)
}

// nameKey is a pod's namespace and name, as a map key that costs no
// allocation to build (PodRef.Key joins them into a new string).
type nameKey struct{ namespace, name string }

func keyOf(r event.PodRef) nameKey { return nameKey{r.Namespace, r.Name} }

// creates reports whether an event may open a new pod timeline: only the
// signs of a pod start do; later lines about a pod we never saw starting
// (a pod older than the journal, or than the agent) are ignored.
func creates(k event.Kind) bool {
	switch k {
	case event.PodAdd, event.PodNoSandbox, event.VolumeVerifyStarted, event.VolumeMountStarted,
		event.SandboxStart, event.SandboxReady, event.SandboxFailed, event.VolumeMountFailed,
		event.ImagePullStart, event.ImagePullFailed, event.ImagePullBackOff, event.ImageCached,
		event.ContainerCreateFailed, event.PodAdmissionDenied:
		return true
	}
	return false
}

// lookup finds the pod an event is about, and creates it when the event
// opens a pod start.
func (tl *Timeline) lookup(ev event.Event) *pod {
	if ev.SandboxID != "" {
		if p := tl.bySandbox[ev.SandboxID]; p != nil {
			return p
		}
	}
	if ev.ContainerID != "" {
		if p := tl.byContainer[ev.ContainerID]; p != nil {
			return p
		}
		if p := tl.bySandbox[ev.ContainerID]; p != nil {
			return p
		}
	}
	ref := ev.Pod
	key := keyOf(ref)
	if ref.UID != "" {
		if p := tl.byUID[ref.UID]; p != nil && !reborn(p, ev) {
			if p.ref.Name == "" && ref.Name != "" {
				p.ref.Namespace, p.ref.Name = ref.Namespace, ref.Name
				tl.byName[keyOf(ref)] = p
			}
			return p
		}
		if key.name != "" {
			if p := tl.byName[key]; p != nil && p.ref.UID == "" && !reborn(p, ev) {
				p.ref.UID = ref.UID
				tl.byUID[ref.UID] = p
				return p
			}
		}
	} else if key.name != "" {
		if p := tl.byName[key]; p != nil && !reborn(p, ev) {
			return p
		}
	} else if ev.Pod.Name != "" {
		// A line with a pod name but no namespace (volume messages of old
		// kubelets): take the latest pod of that name.
		for i := len(tl.pods) - 1; i >= 0; i-- {
			if tl.pods[i].ref.Name == ev.Pod.Name {
				return tl.pods[i]
			}
		}
	}
	if !creates(ev.Kind) || (key.name == "" && ref.UID == "") {
		return nil
	}
	// A new incarnation of a name replaces the old one in byName; the old
	// one stays reachable by UID, sandbox and container IDs.
	p := newPod(ref, Point{ev.Time, ev.Source})
	p.again = ref.UID != "" && tl.byUID[ref.UID] != nil
	switch ev.Kind {
	case event.PodAdd, event.VolumeVerifyStarted, event.VolumeMountStarted:
		p.resync = !tl.kubeletStartAt.IsZero() && ev.Time.Sub(tl.kubeletStartAt) < resyncWindow
	}
	tl.pods = append(tl.pods, p)
	if ref.UID != "" {
		tl.byUID[ref.UID] = p
	}
	if key.name != "" {
		tl.byName[key] = p
	}
	if len(tl.pods) > tl.cfg.MaxPods {
		tl.evictOldest()
	}
	return p
}

// reborn reports whether ev opens a new incarnation of the pod p, which
// went away: a pod's UID is unique, except a static pod's, which is a hash
// of its manifest, so the same manifest dropped again after its pod was
// removed comes back under the same name and UID. Its start must be a new
// record, not a continuation of the removed one.
//
// Admission and volume steps come only for a pod the kubelet is starting;
// after a removal they are the new incarnation's. A sandbox request after
// the kubelet removed the pod (SyncLoop REMOVE or DELETE, --v>=1) is too.
// After a removal seen only as the runtime's StopPodSandbox (--v=0), a new
// sandbox is taken as the kubelet replacing a dead one (the same
// incarnation): at --v=0 a re-created static pod without volumes cannot be
// told from that, and stays one record.
func reborn(p *pod, ev event.Event) bool {
	if p.removed.IsZero() {
		return false
	}
	switch ev.Kind {
	case event.PodAdd, event.VolumeVerifyStarted, event.VolumeMountStarted:
		return true
	case event.SandboxStart:
		return p.removed.Source == event.SourceKubelet && (ev.SandboxID == "" || ev.SandboxID != p.sandboxID)
	}
	return false
}

func (tl *Timeline) applyPod(ev event.Event) {
	p := tl.lookup(ev)
	if p == nil {
		return
	}
	p.seen(ev.Time, ev.Source)
	tl.activate(p)
	at := Point{ev.Time, ev.Source}
	defer tl.emitReady(p, tl.clock)
	switch ev.Kind {
	case event.ImagePullStart, event.ImagePulled, event.ImageCached, event.ContainerCreateStart, event.ContainerCreated, event.ContainerStarted:
		// Containers come after the sandbox, and the sandbox after every
		// volume: when the sandbox itself went unlogged, the volumes stage
		// ends with the last mount seen.
		tl.closeVolumesAt(p, at, false)
	}
	switch ev.Kind {
	case event.PodAdd:
		if p.admitted.IsZero() {
			p.admitted = at
		}
	case event.PodRemove, event.PodDelete:
		if p.removed.IsZero() {
			p.removed = at
			tl.settle(p, ev.Time, true)
		}
	case event.SandboxStopped:
		// The sandbox a pod runs in stopped: the pod is going away. (When
		// the kubelet replaces a dead sandbox, the new one's start clears
		// this again.)
		if ev.SandboxID == p.sandboxID && p.removed.IsZero() {
			p.removed = at
			tl.settle(p, ev.Time, true)
		}
	case event.VolumeVerifyStarted, event.VolumeMountStarted:
		v := tl.volume(p, ev)
		if v != nil && (v.iv.Start.IsZero() || ev.Kind == event.VolumeMountStarted && v.iv.Start.Source != event.SourceKubelet) {
			v.iv.Start = at
		}
		if v != nil && ev.Kind == event.VolumeMountStarted {
			v.iv.Start = at // the mount itself starts here; verify is the attach check before it
			v.mountStarted = true
		}
	case event.VolumeMounted:
		if v := tl.volume(p, ev); v != nil && v.iv.End.IsZero() {
			v.iv.End = at
			if v.iv.Done() && !v.emitted {
				v.emitted = true
				tl.obs.VolumeMount(v.plugin, v.iv.Duration(), p.ref)
			}
		}
	case event.VolumeMountFailed:
		tl.volume(p, ev)
		tl.fail(p, StageVolumes, ev)
	case event.SandboxStart:
		p.resync = false
		switch {
		case ev.Attempt > 0 && ev.SandboxID == "" && p.sbAttempt < ev.Attempt:
			// A new sandbox for the pod (the old one died): a new interval.
			p.sandbox = Interval{Start: at}
			p.sbEmitted = false
			p.sbAttempt = ev.Attempt
			if p.removed.Source == event.SourceRuntime {
				p.removed = Point{} // the stop was the old sandbox's
			}
		case better(p.sandbox.Start, at):
			p.sandbox.Start = at
		}
		tl.closeVolumes(p, at)
	case event.SandboxReady:
		tl.sandboxReady(p, ev.SandboxID, at)
	case event.SandboxFailed:
		tl.closeVolumes(p, at)
		tl.fail(p, StageSandbox, ev)
	case event.ImagePullStart:
		if c := p.containerByName(ev.Container, -1, true); c != nil {
			c.init = c.init || ev.Init
			c.image = ev.Image
			if c.pullIv.Start.IsZero() {
				c.pullIv.Start = at
			}
		}
	case event.ImagePulled:
		tl.kubeletPulled(p, ev, at)
	case event.ImageCached:
		if c := p.containerByName(ev.Container, -1, true); c != nil {
			c.init = c.init || ev.Init
			c.image = ev.Image
			tl.setPull(p, c, PullCached)
		}
	case event.ImagePullFailed, event.ImagePullBackOff:
		c := p.containerByName(ev.Container, -1, true)
		if c == nil && ev.Image != "" {
			// "Failed to pull image" names the image, not the container:
			// give it to the container whose pull failed without one.
			for _, x := range p.containers {
				if x.image == "" && (x.pull == "" || x.pull == PullFailed) {
					c = x
					break
				}
			}
		}
		if c != nil {
			c.init = c.init || ev.Init
			if ev.Image != "" {
				c.image = ev.Image
			} else if c.image == "" {
				c.image = p.failedImage
			}
			if c.image == "" {
				c.image = tl.pulls.failedImage(ev.Time)
			}
			tl.setPull(p, c, PullFailed)
		} else if ev.Image != "" {
			p.failedImage = ev.Image
		}
		if ev.Kind == event.ImagePullFailed {
			img := ev.Image
			if c != nil {
				img = c.image
			}
			tl.pulls.accountPull(img, ev.Time)
		}
		tl.fail(p, StageImagePull, ev)
	case event.ContainerCreateStart:
		c := p.containerByName(ev.Container, ev.Attempt, true)
		if c == nil {
			return
		}
		tl.restart(p, c)
		if c.create.Start.IsZero() {
			c.create.Start = at
		}
		tl.closeInit(p, c, at)
		if c.pull == "" {
			tl.claimPull(p, c, ev.Time)
		}
	case event.ContainerCreated:
		tl.containerCreated(p, ev, at)
	case event.ContainerCreateFailed:
		if c := p.containerByName(ev.Container, -1, true); c != nil {
			c.init = c.init || ev.Init
		}
		tl.fail(p, StageContainerCreate, ev)
	case event.ContainerStartStart:
		if c := p.containerByID(ev.ContainerID); c != nil && c.start.Start.IsZero() {
			c.start.Start = at
		}
	case event.ContainerStarted:
		tl.containerStarted(p, ev, at)
	case event.ContainerStartFailed:
		tl.fail(p, StageContainerStart, ev)
	case event.ContainerExited:
		if c := p.containerByID(ev.ContainerID); c != nil {
			if better(c.exited, at) {
				c.exited = at
				if ev.HasExit {
					code := ev.ExitCode
					c.exitCode = &code
				}
				if ev.Reason != "" {
					c.exitReason = ev.Reason
				}
			}
			tl.oomKilled(p, c, ev)
		}
	case event.ContainerOOM:
		if c := p.containerByID(ev.ContainerID); c != nil {
			c.oom = true
		}
	case event.ContainerBackOff:
		tl.backOff(p, ev)
	case event.PodEvicted:
		p.evicted = true
		tl.fail(p, StageRunning, ev)
	case event.ProbeFailed:
		st := StageReadiness
		if p.readyDone {
			st = StageRunning
		}
		tl.fail(p, st, ev)
	case event.PodReady:
		tl.podReady(p, at)
	case event.StartupTracker:
		if !p.trackerDone {
			p.trackerDone = true
			if ev.HasDuration && ev.Duration >= 0 {
				d := ev.Duration
				p.e2e = &d
				tl.obs.Total(ScopeE2E, d, p.ref)
			}
			// A negative SLO is the kubelet's zero-time pull bug or clock
			// skew (kubelet-and-cri.md §5.3): not a duration.
			if ev.HasSLO && ev.SLO >= 0 {
				d := ev.SLO
				p.slo = &d
				tl.obs.Total(ScopeSLO, d, p.ref)
			}
		}
	case event.PodAdmissionDenied:
		tl.fail(p, StageVolumes, ev)
	case event.PodSyncError:
		switch ev.Reason {
		case event.ReasonOther:
		case event.ReasonNetworkNotReady:
			tl.fail(p, StageSandbox, ev)
		default:
			tl.fail(p, StageContainerStart, ev)
		}
	}
}

// resyncWindow: pods first seen this soon after a kubelet start, by their
// volumes or admission only, may be pods the kubelet already ran.
const resyncWindow = 2 * time.Minute

// kubeletProcess counts kubelet starts: the start line, or the first line
// of a new kubelet PID when its start line was not seen (the journal began
// after it, or dropped it).
func (tl *Timeline) kubeletProcess(ev event.Event) {
	start := false
	switch {
	case ev.Kind == event.KubeletStart && (ev.PID == 0 || ev.PID != tl.countedPID):
		start = true
	case ev.PID != 0 && tl.kubeletPID != 0 && ev.PID != tl.kubeletPID && ev.PID != tl.countedPID:
		start = true
	}
	if ev.PID != 0 {
		tl.kubeletPID = ev.PID
	}
	if !start {
		return
	}
	tl.countedPID = ev.PID
	tl.kubeletStartAt = ev.Time
	tl.obs.KubeletStart()
}

// restart counts a container attempt after the first as a restart, with how
// the attempt before it ended.
func (tl *Timeline) restart(p *pod, c *container) {
	if c.restartCounted || c.attempt == 0 {
		return
	}
	c.restartCounted = true
	var prev *container
	for _, x := range p.containers {
		if x != c && x.name == c.name && x.attempt < c.attempt && (prev == nil || x.attempt > prev.attempt) {
			prev = x
		}
	}
	if prev != nil {
		c.backoff = prev.backoff
	} else if p.again {
		// A static pod dropped again numbers its containers on from the
		// removed incarnation's (the runtime still has them): its first
		// attempt here is no restart.
		return
	}
	tl.obs.ContainerRestart(exitReason(prev), p.ref)
}

// exitReason says how a container attempt ended, as a bounded label: the
// CRI's reason when it gave one, else what containerd would say for the
// exit code (0 Completed, else Error; OOMKilled after a TaskOOM and a
// SIGKILL), Unknown when no exit was seen.
func exitReason(c *container) string {
	if c == nil {
		return event.ExitUnknown
	}
	switch c.exitReason {
	case event.ExitCompleted, event.ExitError, event.ExitOOMKilled, event.ExitContainerCannotRun, event.ExitDeadlineExceeded:
		return c.exitReason
	case "":
	default:
		return event.ExitOther
	}
	switch {
	case c.exitCode == nil:
		return event.ExitUnknown
	case c.oom && *c.exitCode == 137:
		return event.ExitOOMKilled
	case *c.exitCode == 0:
		return event.ExitCompleted
	}
	return event.ExitError
}

// oomKilled counts an OOMKilled failure once per container attempt: when the
// CRI says so, or when the runtime reported an OOM kill and the container
// then died of SIGKILL (137).
func (tl *Timeline) oomKilled(p *pod, c *container, ev event.Event) {
	if c.oomCounted || exitReason(c) != event.ExitOOMKilled {
		return
	}
	c.oomCounted = true
	st := StageContainerStart
	if p.readyDone {
		st = StageRunning
	}
	msg := ev.Message
	if msg == "" {
		msg = "container killed by the kernel for exceeding its memory limit (exit 137)"
	}
	tl.fail(p, st, event.Event{Time: ev.Time, Container: c.name, Reason: event.ReasonOOMKilled, Message: msg})
}

// crashLoopGap: back-offs further apart than the kubelet's longest (5m)
// plus a sync period start a new crash loop streak.
const crashLoopGap = 5*time.Minute + 10*time.Second

// backOff records a crash loop: the failure (once per pod, container and
// stage), the streak, and each new back-off step.
func (tl *Timeline) backOff(p *pod, ev event.Event) {
	st := StageContainerStart
	if p.readyDone {
		st = StageRunning
	}
	tl.fail(p, st, ev)
	if p.backoffLast.IsZero() || ev.Time.Sub(p.backoffLast) > crashLoopGap {
		p.backoffFirst = ev.Time
	}
	if ev.Time.After(p.backoffLast) {
		p.backoffLast = ev.Time
	}
	if !ev.HasDuration {
		return
	}
	c := p.containerByName(ev.Container, -1, false)
	if c == nil {
		return
	}
	if c.backoff != ev.Duration {
		c.backoff = ev.Duration
		tl.obs.BackOff(ev.Duration, p.ref)
	}
}

func (tl *Timeline) volume(p *pod, ev event.Event) *volume {
	if ev.Volume == "" {
		return nil
	}
	v := p.volumes[ev.Volume]
	if v == nil {
		if len(p.volumes) >= maxVolumes {
			return nil
		}
		v = &volume{name: ev.Volume, plugin: ev.Plugin}
		p.volumes[ev.Volume] = v
		p.volOrder = append(p.volOrder, ev.Volume)
	}
	if v.plugin == "" {
		v.plugin = ev.Plugin
	}
	return v
}

// closeVolumes ends the volumes stage when the sandbox is asked for: the
// kubelet waits for every volume to be mounted before it creates the
// sandbox. Its start is the pod's admission or first mount start; its end the
// last mount seen, or, when mounts are not logged (kubelet --v=0), the
// sandbox request itself.
func (tl *Timeline) closeVolumes(p *pod, at Point) {
	tl.closeVolumesAt(p, at, true)
}

// closeVolumesAt marks the volumes stage over at at; without a logged mount
// end, the stage ends at at only when at is the sandbox request (sandboxAt).
// The stage is computed and observed later, by emitVolumes, once it is
// final: the kubelet's mount lines come through the journal and the
// sandbox's start may come first through the CRI, read by another
// goroutine, so the lines from before the sandbox request are waited for as
// long as the other CRI ends are (AwaitCRI).
func (tl *Timeline) closeVolumesAt(p *pod, at Point, sandboxAt bool) {
	if p.volClosed {
		return
	}
	p.volClosed = true
	p.volBound, p.volBySandbox = at, sandboxAt
}

// emitVolumes computes and observes the volumes stage of a pod whose
// sandbox was asked for, once the bound is final as of now. The end is the
// sandbox's start as the most precise source gave it by then (or the step
// that closed the stage), the start the admission or first volume step,
// whichever of their lines arrived in the meantime.
func (tl *Timeline) emitVolumes(p *pod, now time.Time) {
	if !p.volClosed || p.volEmitted {
		return
	}
	bound, bySandbox := p.volBound, p.volBySandbox
	if !p.sandbox.Start.IsZero() {
		bound, bySandbox = p.sandbox.Start, true
	}
	if tl.cfg.AwaitCRI > 0 && now.Sub(bound.At) < tl.cfg.AwaitCRI {
		return
	}
	p.volEmitted = true
	start := p.admitted
	end := Point{}
	for _, name := range p.volOrder {
		v := p.volumes[name]
		if !v.iv.Start.IsZero() && (start.IsZero() || v.iv.Start.At.Before(start.At)) {
			start = v.iv.Start
		}
		if !v.iv.End.IsZero() && (end.IsZero() || v.iv.End.At.After(end.At)) {
			end = v.iv.End
		}
	}
	if start.IsZero() || (end.IsZero() && !bySandbox) {
		return
	}
	if end.IsZero() || end.At.After(bound.At) {
		end = bound
	}
	p.volStage = Interval{start, end}
	if p.volStage.Done() {
		tl.obs.Stage(StageVolumes, p.volStage.Duration(), p.ref)
	}
}

func (tl *Timeline) sandboxReady(p *pod, id string, at Point) {
	if id != "" {
		if p.sandboxID != "" && p.sandboxID != id {
			delete(tl.bySandbox, p.sandboxID)
		}
		p.sandboxID = id
		tl.bySandbox[id] = p
	}
	if at.Source == event.SourceRuntime && at.At.After(p.lastStepEnd) {
		p.lastStepEnd = at.At
	}
	if !better(p.sandbox.End, at) {
		return
	}
	p.sandbox.End = at
	tl.closeVolumes(p, at)
}

func (tl *Timeline) containerCreated(p *pod, ev event.Event, at Point) {
	var c *container
	if ev.Source == event.SourceKubelet {
		c = p.containerByName(ev.Container, -1, true)
	} else {
		c = p.containerByName(ev.Container, ev.Attempt, true)
	}
	if c == nil {
		return
	}
	c.init = c.init || ev.Init
	if ev.ContainerID != "" {
		c.id = ev.ContainerID
		tl.byContainer[ev.ContainerID] = p
	}
	if c.pull == "" && ev.Source == event.SourceRuntime {
		// Only the runtime's own lines order a pull before its container;
		// the CRI's events may overtake the journal.
		tl.claimPull(p, c, ev.Time)
	}
	if ev.ImageSize > 0 && c.pullSize == 0 {
		c.pullSize = ev.ImageSize
	}
	if ev.Image != "" && c.image == "" {
		c.image = ev.Image
	}
	if !better(c.create.End, at) {
		return
	}
	c.create.End = at
	if ev.Source == event.SourceKubelet && c.start.Start.IsZero() {
		// Without the runtime's lines, the Created event is the closest
		// mark of StartContainer being called.
		c.start.Start = at
	}
}

func (tl *Timeline) containerStarted(p *pod, ev event.Event, at Point) {
	var c *container
	switch {
	case ev.ContainerID != "":
		if ev.ContainerID == p.sandboxID {
			tl.sandboxReady(p, "", at)
			return
		}
		c = p.containerByID(ev.ContainerID)
		if c == nil && ev.Container == "" {
			// A container known only by ID (PLEG without runtime lines).
			// It may be the sandbox: a relist reports the sandbox and the
			// first container in no fixed order (seen in the realnode
			// recording), so which one it is stays unknown.
			if len(p.containers) < maxContainers {
				c = &container{id: ev.ContainerID}
				p.containers = append(p.containers, c)
				tl.byContainer[ev.ContainerID] = p
			}
		}
	default:
		c = p.containerByName(ev.Container, -1, true)
	}
	if c == nil {
		return
	}
	c.init = c.init || ev.Init
	// The CRI's timestamp beats the runtime's return line, which beats the
	// kubelet's event; a PLEG relist is up to a second late and only used
	// when nothing else said it.
	if at.Source == event.SourceRuntime && at.At.After(p.lastStepEnd) {
		p.lastStepEnd = at.At
	}
	if !better(c.start.End, at) {
		return
	}
	c.start.End = at
	p.allStarted = Point{}
	for _, x := range p.containers {
		if e := x.start.End; !e.IsZero() && (p.allStarted.IsZero() || e.At.After(p.allStarted.At)) {
			p.allStarted = e
		}
	}
}

// rank orders sources by the precision of their timestamps.
func rank(s event.Source) int {
	switch s {
	case event.SourceCRI:
		return 3
	case event.SourceRuntime:
		return 2
	case event.SourceKubelet:
		return 1
	}
	return 0
}

// better reports whether a new point should replace the current one: the
// first one always, then only a point from a more precise source.
func better(cur, next Point) bool {
	return cur.IsZero() || rank(next.Source) > rank(cur.Source)
}

// emitReady observes the stages of p whose ends are final: given by the
// CRI, or held for AwaitCRI without it. now is the event clock or the wall
// clock of a Tick.
func (tl *Timeline) emitReady(p *pod, now time.Time) {
	final := func(pt Point) bool {
		return tl.cfg.AwaitCRI <= 0 || pt.Source == event.SourceCRI || now.Sub(pt.At) >= tl.cfg.AwaitCRI
	}
	tl.emitVolumes(p, now)
	if !p.sbEmitted && p.sandbox.Done() && final(p.sandbox.End) {
		p.sbEmitted = true
		tl.obs.Stage(StageSandbox, p.sandbox.Duration(), p.ref)
	}
	for _, c := range p.containers {
		if !c.createEmitted && c.create.Done() && final(c.create.End) {
			c.createEmitted = true
			tl.obs.Stage(StageContainerCreate, c.create.Duration(), p.ref)
		}
		if !c.startEmitted && c.start.Done() && final(c.start.End) {
			c.startEmitted = true
			tl.obs.Stage(StageContainerStart, c.start.Duration(), p.ref)
		}
	}
}

func (tl *Timeline) podReady(p *pod, at Point) {
	if p.readyDone {
		return
	}
	p.readyDone = true
	p.ready = at
	tl.settle(p, at.At, true)
	if !p.allStarted.IsZero() && !at.At.Before(p.allStarted.At) {
		tl.obs.Stage(StageReadiness, at.At.Sub(p.allStarted.At), p.ref)
	}
	if !p.firstSeen.IsZero() && !at.At.Before(p.firstSeen.At) {
		tl.obs.Total(ScopeReady, at.At.Sub(p.firstSeen.At), p.ref)
	}
}

// closeInit decides, when a container is being created, whether the
// containers before it were init containers: the kubelet creates an app
// container only after every init container has exited.
func (tl *Timeline) closeInit(p *pod, next *container, at Point) {
	if p.initEmitted {
		return
	}
	var inits []*container
	for _, c := range p.containers {
		if c == next {
			break
		}
		if c.name == next.name {
			return // a restart of the same container, not a new one
		}
		if c.exited.IsZero() && !c.init {
			return
		}
		inits = append(inits, c)
	}
	if len(inits) == 0 {
		return
	}
	first, last := Point{}, Point{}
	for _, c := range inits {
		c.init = true
		if s := c.start.End; !s.IsZero() && (first.IsZero() || s.At.Before(first.At)) {
			first = s
		}
		if e := c.exited; !e.IsZero() && (last.IsZero() || e.At.After(last.At)) {
			last = e
		}
	}
	if next.init {
		return // another init container follows
	}
	p.initEmitted = true
	p.initStage = Interval{first, last}
	if p.initStage.Done() {
		tl.obs.Stage(StageInitContainers, p.initStage.Duration(), p.ref)
	}
}

func (tl *Timeline) fail(p *pod, st Stage, ev event.Event) {
	reason := ev.Reason
	if reason == "" {
		reason = event.ReasonOther
	}
	if reason == event.ReasonErrImagePull {
		// The kubelet's generic "Error: ErrImagePull" event (--v>=3) after
		// the pull's own error, which said why (not found, unauthorized,
		// unreachable): the same failure, counted once under its reason.
		for _, f := range p.failures {
			if f.stage == st && specificPull(f.reason) && (f.container == ev.Container || f.container == "" || ev.Container == "") {
				reason = f.reason
				break
			}
		}
	}
	for _, f := range p.failures {
		// A failure first seen without its container (the runtime's line)
		// is the same failure as the kubelet's that names it.
		if f.stage == st && f.reason == reason && (f.container == ev.Container || f.container == "" || ev.Container == "") {
			if f.container == "" {
				f.container = ev.Container
			}
			f.count++
			if ev.Time.After(f.last) {
				f.last = ev.Time
			}
			if f.message == "" {
				f.message = ev.Message
			}
			return
		}
	}
	if len(p.failures) >= maxFailures {
		return
	}
	p.failures = append(p.failures, &failure{stage: st, reason: reason, container: ev.Container, message: ev.Message, first: ev.Time, last: ev.Time, count: 1})
	tl.obs.Failure(st, reason, p.ref)
}

// specificPull: the pull failure reasons the error text splits
// ErrImagePull into.
func specificPull(reason string) bool {
	switch reason {
	case event.ReasonImageNotFound, event.ReasonRegistryUnauthorized, event.ReasonRegistryUnavailable:
		return true
	}
	return false
}

// settle emits the node total of a pod whose containers have all started:
// when force is set (Ready, removal, end of input), or when the pod has been
// quiet for Settle as of now.
func (tl *Timeline) settle(p *pod, now time.Time, force bool) {
	if p.nodeEmitted || p.allStarted.IsZero() {
		return
	}
	for _, c := range p.containers {
		if !c.create.Start.IsZero() && c.start.End.IsZero() && c.exited.IsZero() {
			return // a container is still being created or started
		}
	}
	if !force {
		if now.Sub(p.allStarted.At) < tl.cfg.Settle || now.Sub(p.lastSeen) < tl.cfg.Settle {
			return
		}
		if tl.pulls.waitsFor(p) {
			return // a pull under way may be for this pod's next container
		}
	}
	p.nodeEmitted = true
	if !p.firstSeen.IsZero() && !p.allStarted.At.Before(p.firstSeen.At) {
		tl.obs.Total(ScopeNode, p.allStarted.At.Sub(p.firstSeen.At), p.ref)
	}
}

// sweep settles quiet pods and expires old ones.
func (tl *Timeline) sweep(now time.Time) {
	tl.lastSweep = now
	tl.attributeFailures(now)
	act := tl.active[:0]
	for _, p := range tl.active {
		if p.gone {
			p.active = false
			continue
		}
		tl.emitReady(p, now)
		tl.settle(p, now, false)
		tl.mountTimeout(p, now)
		if !p.holding() && (p.nodeEmitted || !p.removed.IsZero() || now.Sub(p.lastSeen) > quietAfter) {
			p.active = false // a later event makes it active again
			continue
		}
		act = append(act, p)
	}
	clear(tl.active[len(act):])
	tl.active = act
	// Expiry scans every pod, so it runs at most every expireEvery.
	if now.Sub(tl.lastExpire) < min(tl.cfg.TTL/10, expireEvery) {
		return
	}
	tl.lastExpire = now
	keep := tl.pods[:0]
	for _, p := range tl.pods {
		if now.Sub(p.lastSeen) > tl.cfg.TTL {
			tl.forget(p)
			continue
		}
		keep = append(keep, p)
	}
	clear(tl.pods[len(keep):])
	tl.pods = keep
	tl.pulls.expire(now.Add(-tl.cfg.TTL))
}

// A pod with nothing pending leaves the active set once it has been quiet
// for quietAfter; expiry by TTL runs at most every expireEvery.
const (
	quietAfter  = 10 * time.Minute
	expireEvery = time.Minute
)

// activate puts p in the active set.
func (tl *Timeline) activate(p *pod) {
	if !p.active {
		p.active = true
		tl.active = append(tl.active, p)
	}
}

func (tl *Timeline) evictOldest() {
	// The least recently seen pods go, one in a hundred of the cap at a
	// time (one for a cap under 100): finding the oldest takes a look at
	// every pod, which per new pod would cost a look at 5,000 pods per
	// pod once a busy node reached the cap.
	n := len(tl.pods) - tl.cfg.MaxPods + tl.cfg.MaxPods/100
	if n <= 0 {
		return
	}
	order := make([]*pod, len(tl.pods))
	copy(order, tl.pods)
	slices.SortStableFunc(order, func(a, b *pod) int { return a.lastSeen.Compare(b.lastSeen) })
	for _, p := range order[:n] {
		tl.forget(p)
		tl.obs.Evicted()
	}
	keep := tl.pods[:0]
	for _, p := range tl.pods {
		if !p.gone {
			keep = append(keep, p)
		}
	}
	clear(tl.pods[len(keep):])
	tl.pods = keep
}

// forget drops a pod's index entries; the caller removes it from tl.pods.
func (tl *Timeline) forget(p *pod) {
	p.gone = true
	if tl.byUID[p.ref.UID] == p {
		delete(tl.byUID, p.ref.UID)
	}
	if tl.byName[keyOf(p.ref)] == p {
		delete(tl.byName, keyOf(p.ref))
	}
	if p.sandboxID != "" && tl.bySandbox[p.sandboxID] == p {
		delete(tl.bySandbox, p.sandboxID)
	}
	for _, c := range p.containers {
		if c.id != "" && tl.byContainer[c.id] == p {
			delete(tl.byContainer, c.id)
		}
	}
}

// sortedPods returns the pods slowest first.
func (tl *Timeline) sortedPods() []*pod {
	out := append([]*pod(nil), tl.pods...)
	sort.SliceStable(out, func(i, j int) bool { return podSpan(out[i]) > podSpan(out[j]) })
	return out
}

func podSpan(p *pod) time.Duration {
	end := p.allStarted
	if !p.ready.IsZero() {
		end = p.ready
	}
	if end.IsZero() {
		return p.lastSeen.Sub(p.firstSeen.At)
	}
	return end.At.Sub(p.firstSeen.At)
}
