package agent

import (
	"sync"
	"time"

	"github.com/podstart/podstart/internal/event"
	"github.com/podstart/podstart/internal/timeline"
)

// A restarted agent must observe every pod start exactly once. Rather than
// storing the timelines themselves, the state file stores where the
// earliest pod still in flight began (ReplayFrom) and how many observations
// each recent pod has made. On start the journal is read again from there:
// the pods' timelines are rebuilt from their own lines, and Dedup drops the
// observations that the previous process made already. Observations that
// name no pod (a node problem, a kubelet start, an eviction from the
// timeline) come from one line each: those of the lines read again are
// dropped while they are applied.

// replayWindow bounds how far back a restart reads the journal again: a
// pod in flight for longer (stuck for an hour, say) is rebuilt from its
// last half hour only.
const replayWindow = 30 * time.Minute

// Dedup is a timeline.Observer that passes observations on to the metrics,
// dropping those a previous process made already.
type Dedup struct {
	next timeline.Observer
	now  func() time.Time

	mu     sync.Mutex
	silent bool // the line being applied was handed over before
	pods   map[string]*podObs
}

type podObs struct {
	made map[string]int // observations made, the previous process's too
	skip map[string]int // still to be dropped: the previous process made them
	last time.Time      // wall clock of the latest
}

// NewDedup returns a Dedup that passes observations on to next.
func NewDedup(next timeline.Observer) *Dedup {
	return &Dedup{next: next, now: time.Now, pods: map[string]*podObs{}}
}

func podKey(p event.PodRef) string {
	if k := p.Key(); k != "" {
		return k
	}
	return p.UID
}

// pass records one observation of pod and tells whether to pass it on.
func (d *Dedup) pass(pod event.PodRef, key string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	k := podKey(pod)
	po := d.pods[k]
	if po == nil {
		po = &podObs{made: map[string]int{}}
		d.pods[k] = po
	}
	po.last = d.now()
	po.made[key]++
	if po.skip[key] > 0 {
		po.skip[key]--
		return false
	}
	return true
}

// keyless tells whether to pass on an observation that names no pod.
func (d *Dedup) keyless() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return !d.silent
}

func (d *Dedup) setSilent(s bool) {
	d.mu.Lock()
	d.silent = s
	d.mu.Unlock()
}

// snapshot returns the observations made per pod for pods seen since
// `since`, and forgets older ones.
func (d *Dedup) snapshot(since time.Time) map[string]map[string]int {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := map[string]map[string]int{}
	for k, po := range d.pods {
		if po.last.Before(since) {
			delete(d.pods, k)
			continue
		}
		m := make(map[string]int, len(po.made))
		for key, n := range po.made {
			m[key] = n
		}
		out[k] = m
	}
	return out
}

// load takes the previous process's observations: as many of each will be
// dropped when the replay makes them again.
func (d *Dedup) load(pods map[string]map[string]int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	for k, m := range pods {
		po := &podObs{made: map[string]int{}, skip: map[string]int{}, last: now}
		for key, n := range m {
			po.skip[key] = n
		}
		d.pods[k] = po
	}
}

func (d *Dedup) Stage(s timeline.Stage, dur time.Duration, pod event.PodRef) {
	if d.pass(pod, "stage/"+string(s)) {
		d.next.Stage(s, dur, pod)
	}
}

func (d *Dedup) Total(s timeline.Scope, dur time.Duration, pod event.PodRef) {
	if d.pass(pod, "total/"+string(s)) {
		d.next.Total(s, dur, pod)
	}
}

func (d *Dedup) ImagePull(dur time.Duration, size int64, pod event.PodRef) {
	if d.pass(pod, "image_pull") {
		d.next.ImagePull(dur, size, pod)
	}
}

func (d *Dedup) VolumeMount(plugin string, dur time.Duration, pod event.PodRef) {
	if d.pass(pod, "volume/"+plugin) {
		d.next.VolumeMount(plugin, dur, pod)
	}
}

func (d *Dedup) Failure(s timeline.Stage, reason string, pod event.PodRef) {
	if d.pass(pod, "failure/"+string(s)+"/"+reason) {
		d.next.Failure(s, reason, pod)
	}
}

func (d *Dedup) PullResult(result string, pod event.PodRef) {
	if d.pass(pod, "pull/"+result) {
		d.next.PullResult(result, pod)
	}
}

func (d *Dedup) Evicted() {
	if d.keyless() {
		d.next.Evicted()
	}
}

func (d *Dedup) NodeProblem(problem string) {
	if d.keyless() {
		d.next.NodeProblem(problem)
	}
}

func (d *Dedup) KubeletStart() {
	if d.keyless() {
		d.next.KubeletStart()
	}
}

func (d *Dedup) ContainerRestart(exitReason string, pod event.PodRef) {
	if d.pass(pod, "restart/"+exitReason) {
		d.next.ContainerRestart(exitReason, pod)
	}
}

func (d *Dedup) BackOff(dur time.Duration, pod event.PodRef) {
	if d.pass(pod, "backoff/"+dur.String()) {
		d.next.BackOff(dur, pod)
	}
}
