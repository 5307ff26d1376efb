package timeline

import (
	"sort"
	"strings"
	"time"

	"github.com/podstart/podstart/internal/event"
)

// mountWait is the kubelet's podAttachAndMountTimeout: how long its pod
// worker waits for every volume before it gives up the sync (and, since
// 1.28, logs nothing when the wait merely times out).
const mountWait = 2*time.Minute + 3*time.Second

// mountTimeout derives MountTimeout for a pod whose volumes stage has been
// open (no sandbox requested) for longer than the kubelet's wait: the
// kubelet asks for the sandbox only after every volume is mounted. Once per
// pod, and only when nothing else explains the wait (a failure already
// recorded, a pod the kubelet merely re-verified after its restart).
func (tl *Timeline) mountTimeout(p *pod, now time.Time) {
	if p.mountTimedOut || p.volClosed || !p.sandbox.Start.IsZero() || !p.removed.IsZero() || p.resync || len(p.failures) > 0 {
		return
	}
	start, ok := volumesStart(p)
	if !ok || now.Sub(start.At) < mountWait {
		return
	}
	p.mountTimedOut = true
	var pending []string
	for _, name := range p.volOrder {
		if v := p.volumes[name]; v.iv.End.IsZero() {
			pending = append(pending, name)
		}
	}
	msg := "no sandbox requested within 2m3s of the first volume step (at kubelet --v=0 mount results are not logged)"
	if mountsLogged(p) {
		msg = "volumes not mounted within 2m3s: " + strings.Join(pending, ", ")
	}
	tl.fail(p, StageVolumes, event.Event{Time: start.At.Add(mountWait), Reason: event.ReasonMountTimeout, Message: msg})
}

// volumesStart returns when the pod's volumes stage began: its admission or
// its first volume step.
func volumesStart(p *pod) (Point, bool) {
	start := p.admitted
	for _, name := range p.volOrder {
		if v := p.volumes[name]; !v.iv.Start.IsZero() && (start.IsZero() || v.iv.Start.At.Before(start.At)) {
			start = v.iv.Start
		}
	}
	return start, !start.IsZero()
}

// mountsLogged reports whether the kubelet logs mount steps (--v>=1): a
// mount started or succeeded.
func mountsLogged(p *pod) bool {
	for _, v := range p.volumes {
		if v.mountStarted || !v.iv.End.IsZero() {
			return true
		}
	}
	return false
}

// StuckView says which stage a pod that has not finished starting is in as
// of now, since when, and the latest failure the kubelet or runtime gave for
// that stage (if any).
type StuckView struct {
	Stage   string    `json:"stage"`
	Since   time.Time `json:"since"`
	Seconds float64   `json:"seconds"`
	Reason  string    `json:"reason,omitempty"`
	Message string    `json:"message,omitempty"`
}

// StageLoad is how many pods are in a stage now, and since when the oldest
// of them is.
type StageLoad struct {
	Stage  Stage
	Pods   int
	Oldest time.Time // zero when Pods is 0
}

// InStage counts the pods in each of StuckStages as of now, for every
// stage (zero when none).
func (tl *Timeline) InStage(now time.Time) []StageLoad {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	out := make([]StageLoad, len(StuckStages))
	idx := map[Stage]int{}
	for i, st := range StuckStages {
		out[i].Stage = st
		idx[st] = i
	}
	for _, p := range tl.pods {
		st, since, ok := tl.current(p, now)
		if !ok {
			continue
		}
		l := &out[idx[st]]
		l.Pods++
		if l.Oldest.IsZero() || since.Before(l.Oldest) {
			l.Oldest = since
		}
	}
	return out
}

// current decides which stage p is in as of now, and since when: the
// earliest step that began and neither ended nor was given up, or failed
// and was not retried to success. A pod removed, evicted, or whose every
// known step finished is in none. A crash-looping pod (a back-off within
// the last 5m10s) is in container_start since the first back-off of its
// streak, Ready or not, so that it counts once however long it loops.
func (tl *Timeline) current(p *pod, now time.Time) (Stage, time.Time, bool) {
	if p.gone || !p.removed.IsZero() || p.evicted {
		return "", time.Time{}, false
	}
	if !p.backoffLast.IsZero() && now.Sub(p.backoffLast) <= crashLoopGap && !now.Before(p.backoffFirst) {
		return StageContainerStart, p.backoffFirst, true
	}
	if p.readyDone {
		return "", time.Time{}, false
	}
	type cand struct {
		st    Stage
		since time.Time
	}
	var cands []cand
	add := func(st Stage, since time.Time) {
		if !since.IsZero() && !since.After(now) {
			cands = append(cands, cand{st, since})
		}
	}
	firstFailure := func(st Stage, container string) time.Time {
		for _, f := range p.failures {
			if f.stage == st && (container == "" || f.container == container || f.container == "") {
				return f.first
			}
		}
		return time.Time{}
	}
	switch {
	case p.sandbox.Start.IsZero() && p.sandbox.End.IsZero() && len(p.containers) == 0:
		// Before the sandbox: blocked by the network, or by volumes.
		if f := firstFailure(StageSandbox, ""); !f.IsZero() {
			add(StageSandbox, f)
		} else if start, ok := volumesStart(p); ok && !p.volClosed && (!p.resync || len(p.failures) > 0) {
			add(StageVolumes, start.At)
		}
	case !p.sandbox.Start.IsZero() && p.sandbox.End.IsZero():
		add(StageSandbox, p.sandbox.Start.At)
	case p.sandbox.End.IsZero() && len(p.containers) == 0:
		add(StageSandbox, firstFailure(StageSandbox, ""))
	}
	for i, c := range p.containers {
		if newer(p, i) {
			continue // an older attempt
		}
		switch {
		case c.pull == PullFailed && c.create.Start.IsZero() && c.create.End.IsZero():
			since := firstFailure(StageImagePull, c.name)
			if !c.pullIv.Start.IsZero() && (since.IsZero() || c.pullIv.Start.At.Before(since)) {
				since = c.pullIv.Start.At
			}
			add(StageImagePull, since)
		case c.pull == "" && !c.pullIv.Start.IsZero() && c.pullIv.End.IsZero():
			add(StageImagePull, c.pullIv.Start.At)
		case c.create.End.IsZero() && c.start.End.IsZero() && c.exited.IsZero():
			if !c.create.Start.IsZero() {
				add(StageContainerCreate, c.create.Start.At)
			} else {
				add(StageContainerCreate, firstFailure(StageContainerCreate, c.name))
			}
		case c.start.End.IsZero() && c.exited.IsZero():
			if !c.start.Start.IsZero() {
				add(StageContainerStart, c.start.Start.At)
			} else {
				add(StageContainerStart, firstFailure(StageContainerStart, c.name))
			}
		}
	}
	// A pull under way that the runtime's lines have not given to a
	// container yet (the kubelet at --v<3 names none): the pod it most
	// likely is for is pulling.
	for _, r := range tl.pulls.items {
		if r.owner == p && r.iv.End.IsZero() && !r.failed && !r.claimed {
			add(StageImagePull, r.iv.Start.At)
		}
	}
	if len(cands) == 0 && !p.allStarted.IsZero() {
		// Every container started; Ready is awaited only where a
		// readiness probe failed (most pods have no probe, and at --v=0
		// nothing says Ready).
		if f := firstFailure(StageReadiness, ""); !f.IsZero() {
			since := p.allStarted.At
			if f.Before(since) {
				since = f
			}
			add(StageReadiness, since)
		}
	}
	if len(cands) == 0 {
		return "", time.Time{}, false
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].since.Before(cands[j].since) })
	return cands[0].st, cands[0].since, true
}

// newer reports whether a later attempt of containers[i] exists.
func newer(p *pod, i int) bool {
	c := p.containers[i]
	for _, x := range p.containers[i+1:] {
		if x.name != "" && x.name == c.name {
			return true
		}
	}
	return false
}

// stuck returns p's StuckView as of now, or nil.
func (tl *Timeline) stuck(p *pod, now time.Time) *StuckView {
	st, since, ok := tl.current(p, now)
	if !ok {
		return nil
	}
	v := &StuckView{Stage: string(st), Since: since, Seconds: now.Sub(since).Seconds()}
	// The latest failure of that stage says why.
	var last *failure
	for _, f := range p.failures {
		if f.stage == st && (last == nil || f.last.After(last.last)) {
			last = f
		}
	}
	if st == StageContainerStart && !p.backoffLast.IsZero() {
		for _, f := range p.failures {
			if f.reason == event.ReasonCrashLoopBackOff {
				last = f
			}
		}
	}
	if last != nil {
		v.Reason, v.Message = last.reason, last.message
	}
	return v
}
