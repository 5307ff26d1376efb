package timeline

import (
	"time"

	"github.com/podstart/podstart/internal/event"
)

// maxPulls bounds the runtime pulls waiting for a container to claim them.
const maxPulls = 256

// runtimePull is a PullImage call as the runtime logged it. The runtime's
// lines do not say which pod a pull is for; a pull is joined to the next
// container that is created after it in a pod whose kubelet worker was idle
// when the pull began (see claimPull).
type runtimePull struct {
	image   string
	iv      Interval
	size    int64
	failed  bool
	claimed bool
	// failure is the runtime's failure line, kept until a kubelet line
	// names the pod it was for (accounted) or, without one, until
	// failureGrace has passed and the likely owner gets it.
	failure   *event.Event
	accounted bool
	// owner is the pod the pull was most likely for when it began (see
	// pullOwner): while the pull runs, only that pod waits to settle.
	owner *pod
}

type pullQueue struct {
	items []*runtimePull
}

func (q *pullQueue) open(image string) *runtimePull {
	for i := len(q.items) - 1; i >= 0; i-- {
		r := q.items[i]
		if r.image == image && r.iv.End.IsZero() && !r.failed {
			return r
		}
	}
	return nil
}

// waitsFor reports whether a pull still running may be for p's next
// container.
func (q *pullQueue) waitsFor(p *pod) bool {
	for _, r := range q.items {
		if r.iv.End.IsZero() && !r.failed && r.owner == p {
			return true
		}
	}
	return false
}

// failedImage returns the image of the runtime's latest failed pull that
// ended shortly before t: the kubelet reports that failure right after, with
// the container's name but not always the image.
func (q *pullQueue) failedImage(t time.Time) string {
	for i := len(q.items) - 1; i >= 0; i-- {
		r := q.items[i]
		if r.failed && !r.iv.End.At.After(t) && t.Sub(r.iv.End.At) < 2*time.Second {
			return r.image
		}
	}
	return ""
}

func (q *pullQueue) expire(before time.Time) {
	keep := q.items[:0]
	for _, r := range q.items {
		if r.iv.Start.At.After(before) {
			keep = append(keep, r)
		}
	}
	for i := len(keep); i < len(q.items); i++ {
		q.items[i] = nil
	}
	q.items = keep
}

// runtimePull records a pull line that names no pod.
func (tl *Timeline) runtimePull(ev event.Event) {
	at := Point{ev.Time, ev.Source}
	q := &tl.pulls
	switch ev.Kind {
	case event.ImagePullStart:
		if len(q.items) >= maxPulls {
			q.items = append(q.items[:0], q.items[1:]...)
		}
		q.items = append(q.items, &runtimePull{image: ev.Image, iv: Interval{Start: at}, owner: tl.pullOwner(ev.Time)})
	case event.ImagePullDetail:
		// Also logged for the sandbox image pulled inside RunPodSandbox,
		// which has no PullImage line: then there is nothing to amend.
		if r := q.open(ev.Image); r != nil {
			r.size = ev.ImageSize
		}
	case event.ImagePulled:
		if r := q.open(ev.Image); r != nil {
			r.iv.End = at
		}
	case event.ImagePullFailed:
		if r := q.open(ev.Image); r != nil {
			r.failed = true
			r.iv.End = at
			f := ev
			r.failure = &f
		}
	}
}

// failureGrace is how long a failed runtime pull waits for the kubelet's
// own line (which names the pod, and which the kubelet writes at every
// verbosity within milliseconds) before it is given to its likely owner.
const failureGrace = 3 * time.Second

// accountPull marks the runtime's failed pull of image that a kubelet line
// about pod p reported: it will not be given to a guessed owner.
func (q *pullQueue) accountPull(image string, t time.Time) {
	for i := len(q.items) - 1; i >= 0; i-- {
		r := q.items[i]
		if r.failure != nil && !r.accounted && (image == "" || r.image == image) && !r.iv.End.At.After(t) && t.Sub(r.iv.End.At) < failureGrace {
			r.accounted = true
			return
		}
	}
}

// attributeFailures gives failed runtime pulls that no kubelet line claimed
// within failureGrace (a node whose kubelet log is not read, or CRI calls
// made by another client) to the pod they were most likely for.
func (tl *Timeline) attributeFailures(now time.Time) {
	for _, r := range tl.pulls.items {
		if r.failure == nil || r.accounted || now.Sub(r.iv.End.At) < failureGrace {
			continue
		}
		r.accounted = true
		if p := r.owner; p != nil && !p.gone {
			if p.failedImage == "" {
				p.failedImage = r.image
			}
			tl.fail(p, StageImagePull, *r.failure)
		}
	}
}

// pullOwnerWindow bounds how long after its last runtime step a pod may
// still be the one a failing pull is for (image pulls time out long before).
const pullOwnerWindow = 10 * time.Minute

// pullOwner guesses the pod a runtime pull that began at t is for, when no
// kubelet line will say (a kubelet at --v=0 says so only for some failures):
// the pod whose worker last got an answer from the runtime before t. A pod
// with a container being created or started is busy and not a candidate.
// The kubelet's own failure line, when it comes, names the container and is
// merged with this one.
func (tl *Timeline) pullOwner(t time.Time) *pod {
	var best *pod
	// A candidate was seen within pullOwnerWindow and has not settled: it
	// is in the active set, which stays small when many pods are kept.
	for _, p := range tl.active {
		// Only a pod still starting, whose worker was answered shortly
		// before: a pod that settled or is ready pulls no new image.
		if p.lastStepEnd.IsZero() || p.lastStepEnd.After(t) || t.Sub(p.lastStepEnd) > pullOwnerWindow ||
			!p.removed.IsZero() || p.nodeEmitted || p.readyDone {
			continue
		}
		busy := false
		for _, c := range p.containers {
			if (!c.create.Start.IsZero() && c.create.End.IsZero()) || (!c.start.Start.IsZero() && c.start.End.IsZero()) {
				busy = true
			}
		}
		if busy {
			continue
		}
		if best == nil || p.lastStepEnd.After(best.lastStepEnd) {
			best = p
		}
	}
	return best
}

// claimPull joins a finished runtime pull to container c, about to be
// created at t. The kubelet's worker for a pod pulls a container's image and
// then creates it, one step after another, so the pull must have begun after
// the pod's previous runtime step returned and ended before t. Of several,
// the latest is taken. A container with no such pull found its image in the
// cache (pull policy IfNotPresent): the runtime logs no PullImage then.
func (tl *Timeline) claimPull(p *pod, c *container, t time.Time) {
	var best *runtimePull
	for _, r := range tl.pulls.items {
		if r.claimed || r.failed || r.iv.End.IsZero() || r.iv.End.At.After(t) || r.iv.Start.At.Before(p.lastStepEnd) {
			continue
		}
		if c.image != "" && r.image != c.image {
			continue
		}
		if best == nil || r.iv.End.At.After(best.iv.End.At) {
			best = r
		}
	}
	if best == nil {
		tl.setPull(p, c, PullCached)
		return
	}
	tl.takePull(p, c, best)
}

func (tl *Timeline) takePull(p *pod, c *container, r *runtimePull) {
	r.claimed = true
	c.image = r.image
	c.pullIv = r.iv
	if r.size > 0 {
		c.pullSize = r.size
	}
	tl.setPull(p, c, PullPulled)
}

// kubeletPulled handles the kubelet's Pulled event (--v>=3), which names the
// pod and container. The runtime's pull of the same image, when logged,
// gives the exact ends; otherwise the event's own "in X" is the duration.
func (tl *Timeline) kubeletPulled(p *pod, ev event.Event, at Point) {
	c := p.containerByName(ev.Container, -1, true)
	if c == nil {
		return
	}
	c.init = c.init || ev.Init
	if ev.Image != "" {
		c.image = ev.Image
	}
	if ev.ImageSize > 0 {
		c.pullSize = ev.ImageSize
	}
	var best *runtimePull
	for _, r := range tl.pulls.items {
		if r.claimed || r.failed || r.iv.End.IsZero() || r.image != ev.Image || r.iv.End.At.After(ev.Time) {
			continue
		}
		if best == nil || r.iv.End.At.After(best.iv.End.At) {
			best = r
		}
	}
	if best != nil {
		tl.takePull(p, c, best)
		return
	}
	if ev.HasDuration {
		c.pullStated = ev.Duration
		c.pullIv = Interval{Start: Point{ev.Time.Add(-ev.Duration), ev.Source}, End: at}
	} else if !c.pullIv.Start.IsZero() {
		c.pullIv.End = at
	}
	tl.setPull(p, c, PullPulled)
}

// setPull records a container's pull result and, for a pull, its duration.
func (tl *Timeline) setPull(p *pod, c *container, result string) {
	if c.pull == result || (c.pull == PullPulled && result != PullPulled) {
		return
	}
	c.pull = result
	tl.obs.PullResult(result, p.ref)
	if result != PullPulled || c.pullEmitted || !c.pullIv.Done() {
		return
	}
	c.pullEmitted = true
	d := c.pullIv.Duration()
	tl.obs.Stage(StageImagePull, d, p.ref)
	tl.obs.ImagePull(d, c.pullSize, p.ref)
}
