package timeline

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/podstart/podstart/internal/event"
)

// recorder is an Observer that writes down every observation.
type recorder struct{ obs []string }

func (r *recorder) add(f string, a ...any) { r.obs = append(r.obs, fmt.Sprintf(f, a...)) }
func (r *recorder) Stage(s Stage, d time.Duration, p event.PodRef) {
	r.add("stage %s %s %s", s, d, p.Key())
}
func (r *recorder) Total(s Scope, d time.Duration, p event.PodRef) {
	r.add("total %s %s %s", s, d, p.Key())
}
func (r *recorder) ImagePull(d time.Duration, size int64, p event.PodRef) {
	r.add("pull %s %d %s", d, size, p.Key())
}
func (r *recorder) VolumeMount(plugin string, d time.Duration, p event.PodRef) {
	r.add("mount %s %s %s", plugin, d, p.Key())
}
func (r *recorder) PullResult(res string, _ event.PodRef) { r.add("pullresult %s", res) }
func (r *recorder) Failure(s Stage, reason string, p event.PodRef) {
	r.add("failure %s %s %s", s, reason, p.Key())
}
func (r *recorder) Evicted()                   { r.add("evicted") }
func (r *recorder) NodeProblem(problem string) { r.add("problem %s", problem) }
func (r *recorder) KubeletStart()              { r.add("kubelet start") }
func (r *recorder) ContainerRestart(reason string, _ event.PodRef) {
	r.add("restart %s", reason)
}
func (r *recorder) BackOff(d time.Duration, _ event.PodRef) { r.add("backoff %s", d) }

func (r *recorder) count(prefix string) int {
	n := 0
	for _, o := range r.obs {
		if strings.HasPrefix(o, prefix) {
			n++
		}
	}
	return n
}

func (r *recorder) has(t *testing.T, want ...string) {
	t.Helper()
	for _, w := range want {
		found := false
		for _, o := range r.obs {
			if o == w {
				found = true
			}
		}
		if !found {
			t.Errorf("missing observation %q; have:\n  %s", w, strings.Join(r.obs, "\n  "))
		}
	}
}

var t0 = time.Date(2026, 11, 29, 15, 25, 47, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

var web = event.PodRef{Namespace: "default", Name: "web-vm", UID: "37ce7e5d26922d1f0d4b9c2642f91cc9"}

func rt(k event.Kind, ms int) event.Event {
	return event.Event{Kind: k, Time: at(ms), Source: event.SourceRuntime}
}
func kl(k event.Kind, ms int) event.Event {
	return event.Event{Kind: k, Time: at(ms), Source: event.SourceKubelet}
}

// webStart is the realnode-basic web pod as containerd (and the kubelet at
// --v=2) logged it, times in ms after t0: an init container that pulls
// busybox, exits, then the app container that pulls it again.
func webStart() []event.Event {
	add := kl(event.PodAdd, 360)
	add.Pod = event.PodRef{Namespace: "default", Name: "web-vm"}
	vs := kl(event.VolumeMountStarted, 460)
	vs.Pod, vs.Volume, vs.Plugin = web, "content", "kubernetes.io/empty-dir"
	vm := kl(event.VolumeMounted, 461)
	vm.Pod, vm.Volume, vm.Plugin = web, "content", "kubernetes.io/empty-dir"
	sb := rt(event.SandboxStart, 670)
	sb.Pod = web
	sr := rt(event.SandboxReady, 775)
	sr.Pod, sr.SandboxID = web, "sb1"
	ps := rt(event.ImagePullStart, 777)
	ps.Image = "busybox:1"
	pd := rt(event.ImagePullDetail, 808)
	pd.Image, pd.ImageSize, pd.Duration, pd.HasDuration = "busybox:1", 1149670, 31*time.Millisecond, true
	pe := rt(event.ImagePulled, 809)
	pe.Image = "busybox:1"
	cs := rt(event.ContainerCreateStart, 815)
	cs.SandboxID, cs.Container = "sb1", "init-content"
	cc := rt(event.ContainerCreated, 838)
	cc.SandboxID, cc.Container, cc.ContainerID = "sb1", "init-content", "c1"
	ss := rt(event.ContainerStartStart, 842)
	ss.ContainerID = "c1"
	st := rt(event.ContainerStarted, 900)
	st.ContainerID = "c1"
	ex := kl(event.ContainerExited, 1901)
	ex.Pod, ex.ContainerID, ex.ExitCode, ex.HasExit = event.PodRef{UID: web.UID}, "c1", 0, true
	ps2 := rt(event.ImagePullStart, 2170)
	ps2.Image = "busybox:1"
	pe2 := rt(event.ImagePulled, 2182)
	pe2.Image = "busybox:1"
	cs2 := rt(event.ContainerCreateStart, 2188)
	cs2.SandboxID, cs2.Container = "sb1", "httpd"
	cc2 := rt(event.ContainerCreated, 2196)
	cc2.SandboxID, cc2.Container, cc2.ContainerID = "sb1", "httpd", "c2"
	ss2 := rt(event.ContainerStartStart, 2196)
	ss2.ContainerID = "c2"
	st2 := rt(event.ContainerStarted, 2254)
	st2.ContainerID = "c2"
	return []event.Event{add, vs, vm, sb, sr, ps, pd, pe, cs, cc, ss, st, ex, ps2, pe2, cs2, cc2, ss2, st2}
}

func TestRuntimeFlowStagesOnce(t *testing.T) {
	r := &recorder{}
	tl := New(Config{Settle: 5 * time.Second}, r)
	evs := webStart()
	for _, ev := range evs {
		tl.Apply(ev)
	}
	// Applying every event a second time must not observe anything again.
	before := len(r.obs)
	for _, ev := range evs {
		tl.Apply(ev)
	}
	if len(r.obs) != before {
		t.Errorf("replayed events observed again: %v", r.obs[before:])
	}
	r.has(t,
		"mount kubernetes.io/empty-dir 1ms default/web-vm",
		"stage volumes 101ms default/web-vm",
		"stage sandbox 105ms default/web-vm",
		"stage image_pull 32ms default/web-vm",
		"pull 32ms 1149670 default/web-vm",
		"stage container_create 23ms default/web-vm",
		"stage container_start 58ms default/web-vm",
		"stage init_containers 1.001s default/web-vm",
		"stage image_pull 12ms default/web-vm",
		"stage container_create 8ms default/web-vm",
	)
	if n := r.count("total node"); n != 0 {
		t.Fatalf("node total before the pod settled: %v", r.obs)
	}
	tl.Tick(at(2254 + 4000))
	if n := r.count("total node"); n != 0 {
		t.Fatalf("node total before Settle passed: %v", r.obs)
	}
	tl.Tick(at(2254 + 6000))
	r.has(t, "total node 1.894s default/web-vm")
	if n := r.count("total node"); n != 1 {
		t.Errorf("node total observed %d times", n)
	}
	pods := tl.Snapshot("")
	if len(pods) != 1 {
		t.Fatalf("want 1 pod, got %d", len(pods))
	}
	p := pods[0]
	if p.UID != web.UID || p.Name != "web-vm" || len(p.Containers) != 2 {
		t.Fatalf("pod view: %+v", p)
	}
	if !p.Containers[0].Init || p.Containers[1].Init {
		t.Errorf("init detection: %+v", p.Containers)
	}
	if p.Intervals["sandbox"].StartSource != event.SourceRuntime || p.Intervals["volumes"].StartSource != event.SourceKubelet {
		t.Errorf("interval sources: %+v", p.Intervals)
	}
}

func TestCachedImageAndPullAttributionAcrossPods(t *testing.T) {
	r := &recorder{}
	tl := New(Config{}, r)
	a := event.PodRef{Namespace: "ns", Name: "a", UID: "ua"}
	b := event.PodRef{Namespace: "ns", Name: "b", UID: "ub"}
	seq := []event.Event{}
	sa := rt(event.SandboxStart, 0)
	sa.Pod = a
	ra := rt(event.SandboxReady, 100)
	ra.Pod, ra.SandboxID = a, "sa"
	sb := rt(event.SandboxStart, 50)
	sb.Pod = b
	rb := rt(event.SandboxReady, 120)
	rb.Pod, rb.SandboxID = b, "sb"
	// a pulls big:1 from 110 to 900; b's container is created at 300
	// without a pull of its own (cached): it must not take a's pull.
	ps := rt(event.ImagePullStart, 110)
	ps.Image = "big:1"
	cb := rt(event.ContainerCreateStart, 300)
	cb.SandboxID, cb.Container = "sb", "app"
	pe := rt(event.ImagePulled, 900)
	pe.Image = "big:1"
	ca := rt(event.ContainerCreateStart, 910)
	ca.SandboxID, ca.Container = "sa", "data"
	seq = append(seq, sa, sb, ra, rb, ps, cb, pe, ca)
	for _, ev := range seq {
		tl.Apply(ev)
	}
	var pa, pb ContainerView
	for _, p := range tl.Snapshot("") {
		switch p.Name {
		case "a":
			pa = p.Containers[0]
		case "b":
			pb = p.Containers[0]
		}
	}
	if pb.Pull != PullCached {
		t.Errorf("b's container: pull %q, want cached", pb.Pull)
	}
	if pa.Pull != PullPulled || pa.PullSeconds == nil || *pa.PullSeconds != 0.79 {
		t.Errorf("a's container: %+v", pa)
	}
	r.has(t, "pullresult cached", "pullresult pulled", "stage image_pull 790ms ns/a")
}

func TestFailureCountedOncePerReason(t *testing.T) {
	r := &recorder{}
	tl := New(Config{}, r)
	pod := event.PodRef{Namespace: "default", Name: "missing-image-vm", UID: "22cf"}
	sb := rt(event.SandboxStart, 0)
	sb.Pod = pod
	tl.Apply(sb)
	for i := 0; i < 3; i++ {
		// containerd's failed PullImage names no pod; the kubelet's lines do.
		rf := rt(event.ImagePullFailed, 100+i*1000)
		rf.Image, rf.Reason = "nope:1", event.ReasonErrImagePull
		tl.Apply(rf)
		kf := kl(event.ImagePullFailed, 101+i*1000)
		kf.Pod, kf.Image, kf.Reason, kf.Container = event.PodRef{Namespace: "default", Name: "missing-image-vm"}, "nope:1", event.ReasonErrImagePull, "main"
		tl.Apply(kf)
		ks := kl(event.ImagePullFailed, 102+i*1000)
		ks.Pod, ks.Reason, ks.Container = pod, event.ReasonErrImagePull, "main"
		tl.Apply(ks)
		bo := kl(event.ImagePullBackOff, 500+i*1000)
		bo.Pod, bo.Reason, bo.Container = pod, event.ReasonImagePullBackOff, "main"
		tl.Apply(bo)
	}
	if n := r.count("failure image_pull ErrImagePull"); n != 1 {
		t.Errorf("ErrImagePull counted %d times, want 1: %v", n, r.obs)
	}
	if n := r.count("failure image_pull ImagePullBackOff"); n != 1 {
		t.Errorf("ImagePullBackOff counted %d times, want 1", n)
	}
	if n := r.count("pullresult failed"); n != 1 {
		t.Errorf("failed pull counted %d times, want 1", n)
	}
	p := tl.Snapshot("default/missing-image-vm")
	if len(p) != 1 || len(p[0].Failures) != 2 || p[0].Failures[0].Count != 6 {
		t.Fatalf("failures: %+v", p)
	}
	if p[0].State != "failing" {
		t.Errorf("state %q, want failing", p[0].State)
	}
}

func TestKubeletEventsOnly(t *testing.T) {
	// A kubelet at --v=3 without the runtime's journal: the events give
	// the pull duration ("in 22ms") and the created/started marks.
	r := &recorder{}
	tl := New(Config{}, r)
	pod := event.PodRef{Namespace: "default", Name: "rs-web-vm"}
	add := kl(event.PodAdd, 0)
	add.Pod = pod
	pl := kl(event.ImagePullStart, 500)
	pl.Pod, pl.Container, pl.Init, pl.Image = pod, "init-data", true, "busybox:1"
	pd := kl(event.ImagePulled, 525)
	pd.Pod, pd.Container, pd.Init, pd.Image, pd.Duration, pd.HasDuration, pd.ImageSize = pod, "init-data", true, "busybox:1", 22*time.Millisecond, true, 1149670
	cr := kl(event.ContainerCreated, 536)
	cr.Pod, cr.Container, cr.Init = pod, "init-data", true
	stv := kl(event.ContainerStarted, 595)
	stv.Pod, stv.Container, stv.Init = pod, "init-data", true
	rd := kl(event.PodReady, 7000)
	rd.Pod = pod
	for _, ev := range []event.Event{add, pl, pd, cr, stv, rd} {
		tl.Apply(ev)
	}
	r.has(t, "stage image_pull 22ms default/rs-web-vm", "pull 22ms 1149670 default/rs-web-vm",
		"stage container_start 59ms default/rs-web-vm", "total ready 7s default/rs-web-vm",
		"total node 595ms default/rs-web-vm", "stage readiness 6.405s default/rs-web-vm")
}

func TestTrackerAndNewIncarnation(t *testing.T) {
	r := &recorder{}
	tl := New(Config{}, r)
	one := event.PodRef{Namespace: "db", Name: "pg-0", UID: "u1"}
	two := event.PodRef{Namespace: "db", Name: "pg-0", UID: "u2"}
	s1 := rt(event.SandboxStart, 0)
	s1.Pod = one
	tl.Apply(s1)
	rm := kl(event.PodRemove, 100)
	rm.Pod = event.PodRef{Namespace: "db", Name: "pg-0"}
	tl.Apply(rm)
	s2 := rt(event.SandboxStart, 200)
	s2.Pod = two
	tl.Apply(s2)
	tr := kl(event.StartupTracker, 300)
	tr.Pod = event.PodRef{Namespace: "db", Name: "pg-0"}
	tr.Duration, tr.HasDuration, tr.SLO, tr.HasSLO = 2*time.Second, true, -9223372021*time.Second, true
	tl.Apply(tr)
	tl.Apply(tr)
	if got := len(tl.Snapshot("db/pg-0")); got != 2 {
		t.Fatalf("want two incarnations of db/pg-0, got %d", got)
	}
	if n := r.count("total e2e 2s db/pg-0"); n != 1 {
		t.Errorf("e2e observed %d times: %v", n, r.obs)
	}
	if n := r.count("total slo"); n != 0 {
		t.Errorf("a negative SLO must not be observed: %v", r.obs)
	}
	var uids []string
	for _, p := range tl.Snapshot("db/pg-0") {
		uids = append(uids, p.UID)
	}
	sort.Strings(uids)
	if strings.Join(uids, ",") != "u1,u2" {
		t.Errorf("uids %v", uids)
	}
}

func TestTTLAndCap(t *testing.T) {
	r := &recorder{}
	tl := New(Config{TTL: time.Minute, MaxPods: 3}, r)
	for i := 0; i < 5; i++ {
		ev := rt(event.SandboxStart, i*1000)
		ev.Pod = event.PodRef{Namespace: "n", Name: fmt.Sprint("p", i), UID: fmt.Sprint("u", i)}
		tl.Apply(ev)
	}
	if tl.Len() != 3 {
		t.Errorf("tracked %d pods, want the cap of 3", tl.Len())
	}
	if n := r.count("evicted"); n != 2 {
		t.Errorf("evicted %d, want 2", n)
	}
	if got := tl.Snapshot("n/p0"); len(got) != 0 {
		t.Errorf("the oldest pod should be evicted first")
	}
	tl.Tick(at(4000).Add(2 * time.Minute))
	if tl.Len() != 0 {
		t.Errorf("tracked %d pods after the TTL, want 0", tl.Len())
	}
	if n := r.count("evicted"); n != 2 {
		t.Errorf("expiry by TTL must not count as eviction")
	}
}

func TestFlushSettlesAtEndOfInput(t *testing.T) {
	r := &recorder{}
	tl := New(Config{Settle: time.Hour}, r)
	for _, ev := range webStart() {
		tl.Apply(ev)
	}
	tl.Flush()
	tl.Flush()
	if n := r.count("total node"); n != 1 {
		t.Errorf("node total observed %d times after Flush, want 1", n)
	}
}

func TestPLEGWithoutRuntimeLines(t *testing.T) {
	// --v=2 without the runtime's lines: PLEG ContainerStarted events name
	// IDs only, the sandbox's among them in no fixed order. podstart does
	// not guess which is the sandbox; the node total still ends at the last
	// start.
	r := &recorder{}
	tl := New(Config{}, r)
	pod := event.PodRef{Namespace: "default", Name: "x", UID: "ux"}
	add := kl(event.PodAdd, 0)
	add.Pod = event.PodRef{Namespace: "default", Name: "x"}
	p1 := kl(event.ContainerStarted, 900)
	p1.Pod, p1.ContainerID = pod, "ctr1"
	p2 := kl(event.ContainerStarted, 900)
	p2.Pod, p2.ContainerID = pod, "sandbox1"
	for _, ev := range []event.Event{add, p1, p2} {
		tl.Apply(ev)
	}
	tl.Flush()
	v := tl.Snapshot("default/x")[0]
	if _, ok := v.Intervals["sandbox"]; ok {
		t.Errorf("a sandbox interval was guessed from PLEG: %+v", v.Intervals)
	}
	if len(v.Containers) != 2 {
		t.Errorf("containers: %+v", v.Containers)
	}
	r.has(t, "total node 900ms default/x")
}

func TestCRIEndsWinAndAreAwaited(t *testing.T) {
	r := &recorder{}
	tl := New(Config{AwaitCRI: 3 * time.Second}, r)
	pod := event.PodRef{Namespace: "default", Name: "c", UID: "uc"}
	sb := rt(event.SandboxStart, 0)
	sb.Pod = pod
	sr := rt(event.SandboxReady, 100)
	sr.Pod, sr.SandboxID = pod, "s1"
	cs := rt(event.ContainerCreateStart, 110)
	cs.SandboxID, cs.Container = "s1", "app"
	cc := rt(event.ContainerCreated, 130)
	cc.SandboxID, cc.Container, cc.ContainerID = "s1", "app", "k1"
	ss := rt(event.ContainerStartStart, 131)
	ss.ContainerID = "k1"
	st := rt(event.ContainerStarted, 200)
	st.ContainerID = "k1"
	for _, ev := range []event.Event{sb, sr, cs, cc, ss, st} {
		tl.Apply(ev)
	}
	if n := r.count("stage container"); n != 0 {
		t.Fatalf("container stages observed before the CRI could speak: %v", r.obs)
	}
	// The CRI's own timestamps arrive (a poll later): created 125, started 190.
	ccri := event.Event{Kind: event.ContainerCreated, Time: at(125), Source: event.SourceCRI, SandboxID: "s1", ContainerID: "k1", Container: "app", Pod: pod, ImageSize: 42}
	scri := event.Event{Kind: event.ContainerStarted, Time: at(190), Source: event.SourceCRI, SandboxID: "s1", ContainerID: "k1", Container: "app", Pod: pod}
	tl.Apply(ccri)
	tl.Apply(scri)
	r.has(t, "stage container_create 15ms default/c", "stage container_start 59ms default/c")
	// A later runtime line does not override, nor observe again.
	tl.Apply(st)
	tl.Tick(at(10000))
	if n := r.count("stage container_start"); n != 1 {
		t.Errorf("container_start observed %d times", n)
	}
	// The sandbox had no CRI end (polling): observed once AwaitCRI passed.
	r.has(t, "stage sandbox 100ms default/c")
	v := tl.Snapshot("default/c")[0]
	if v.Containers[0].Intervals["container_start"].EndSource != event.SourceCRI || v.Containers[0].ImageSize != 42 {
		t.Errorf("container view: %+v", v.Containers[0])
	}
}

func TestRuntimeOnlyFailedPullFindsItsPod(t *testing.T) {
	// containerd's failed PullImage names no pod. When the kubelet's line
	// follows (it always does on a node), that line decides; without one,
	// after a grace period, the pod whose worker was waiting gets it.
	setup := func() (*recorder, *Timeline, event.PodRef) {
		r := &recorder{}
		tl := New(Config{}, r)
		old := event.PodRef{Namespace: "n", Name: "old", UID: "uo"}
		nw := event.PodRef{Namespace: "n", Name: "new", UID: "un"}
		for i, p := range []event.PodRef{old, nw} {
			s := rt(event.SandboxStart, i*1000)
			s.Pod = p
			e := rt(event.SandboxReady, i*1000+100)
			e.Pod, e.SandboxID = p, p.Name
			tl.Apply(s)
			tl.Apply(e)
		}
		ps := rt(event.ImagePullStart, 1200)
		ps.Image = "nope:1"
		pf := rt(event.ImagePullFailed, 1300)
		pf.Image, pf.Reason = "nope:1", event.ReasonErrImagePull
		tl.Apply(ps)
		tl.Apply(pf)
		return r, tl, nw
	}

	t.Run("the kubelet's line decides", func(t *testing.T) {
		r, tl, _ := setup()
		// The kubelet names a different pod than the guess would: it wins.
		kf := kl(event.ImagePullFailed, 1301)
		kf.Pod, kf.Container, kf.Reason, kf.Image = event.PodRef{Namespace: "n", Name: "old", UID: "uo"}, "main", event.ReasonErrImagePull, "nope:1"
		tl.Apply(kf)
		tl.Tick(at(1300).Add(time.Minute))
		r.has(t, "failure image_pull ErrImagePull n/old")
		if n := r.count("failure"); n != 1 {
			t.Errorf("failures %d, want 1: %v", n, r.obs)
		}
	})
	t.Run("without it, the waiting pod", func(t *testing.T) {
		r, tl, _ := setup()
		tl.Tick(at(1300).Add(time.Second))
		if n := r.count("failure"); n != 0 {
			t.Errorf("attributed before the grace period: %v", r.obs)
		}
		tl.Tick(at(1300).Add(4 * time.Second))
		r.has(t, "failure image_pull ErrImagePull n/new")
		v := tl.Snapshot("n/new")[0]
		if len(v.Failures) != 1 || v.Failures[0].Count != 1 {
			t.Errorf("failure view: %+v", v.Failures)
		}
	})
}

// A static pod's UID is a hash of its manifest: the same manifest dropped
// again after its pod was removed comes back under the same name and UID.
// The new incarnation is a new record; its containers, numbered on from
// the removed incarnation's by the runtime, are no restarts; the removed
// one keeps its own stages.
func TestStaticPodDroppedAgainIsNewRecord(t *testing.T) {
	for _, v := range []struct {
		name   string
		remove event.Event // how the removal shows
		again  event.Event // the new incarnation's first sign
	}{
		{"v2 SyncLoop REMOVE, ADD", kl(event.PodRemove, 5000), kl(event.PodAdd, 9000)},
		{"v2 SyncLoop REMOVE, sandbox first through the CRI", kl(event.PodRemove, 5000),
			event.Event{Kind: event.SandboxStart, Time: at(9100), Source: event.SourceCRI, SandboxID: "sb2", Attempt: 1}},
		{"v0 StopPodSandbox, volume verify", event.Event{Kind: event.SandboxStopped, Time: at(5000), Source: event.SourceRuntime, SandboxID: "sb1"},
			event.Event{Kind: event.VolumeVerifyStarted, Time: at(9000), Source: event.SourceKubelet, Volume: "data", Plugin: "kubernetes.io/empty-dir"}},
	} {
		t.Run(v.name, func(t *testing.T) {
			r := &recorder{}
			tl := New(Config{Settle: time.Second}, r)
			apply := func(ev event.Event) {
				if ev.Pod == (event.PodRef{}) {
					ev.Pod = web
				}
				tl.Apply(ev)
			}
			// The first incarnation: sandbox sb1, container c1 (attempt 0).
			sb := rt(event.SandboxStart, 100)
			sr := rt(event.SandboxReady, 200)
			sr.SandboxID = "sb1"
			cs := rt(event.ContainerCreateStart, 300)
			cs.SandboxID, cs.Container = "sb1", "app"
			cc := rt(event.ContainerCreated, 320)
			cc.SandboxID, cc.Container, cc.ContainerID = "sb1", "app", "c1"
			st := rt(event.ContainerStarted, 400)
			st.ContainerID = "c1"
			for _, ev := range []event.Event{sb, sr, cs, cc, st} {
				apply(ev)
			}
			tl.Tick(at(2000))
			apply(v.remove)
			// The second: sandbox sb2, container c2 as attempt 1.
			apply(v.again)
			sb2 := rt(event.SandboxStart, 9200)
			sb2.Attempt = 1
			sr2 := rt(event.SandboxReady, 9300)
			sr2.SandboxID = "sb2"
			cs2 := rt(event.ContainerCreateStart, 9400)
			cs2.SandboxID, cs2.Container, cs2.Attempt = "sb2", "app", 1
			cc2 := rt(event.ContainerCreated, 9420)
			cc2.SandboxID, cc2.Container, cc2.ContainerID, cc2.Attempt = "sb2", "app", "c2", 1
			st2 := rt(event.ContainerStarted, 9500)
			st2.ContainerID = "c2"
			for _, ev := range []event.Event{sb2, sr2, cs2, cc2, st2} {
				apply(ev)
			}
			// A late line about the first incarnation's container finds it.
			ex := kl(event.ContainerExited, 9600)
			ex.ContainerID, ex.ExitCode, ex.HasExit = "c1", 137, true
			apply(ex)
			tl.Tick(at(12000))

			pods := tl.Snapshot(web.Key())
			if len(pods) != 2 {
				t.Fatalf("want two records of %s, got %d", web.Key(), len(pods))
			}
			sort.Slice(pods, func(i, j int) bool { return pods[i].FirstSeen.Before(pods[j].FirstSeen) })
			for i, p := range pods {
				if p.UID != web.UID || len(p.Containers) != 1 {
					t.Fatalf("record %d: %+v", i, p)
				}
			}
			if c := pods[1].Containers[0]; c.ID != "c2" || *c.CreateSeconds > 0.1 {
				t.Errorf("the new incarnation's container: %+v", c)
			}
			if c := pods[0].Containers[0]; c.ID != "c1" || c.ExitCode == nil || *c.ExitCode != 137 {
				t.Errorf("the removed incarnation's container: %+v", c)
			}
			if n := r.count("restart"); n != 0 {
				t.Errorf("restarts counted for a new incarnation: %v", r.obs)
			}
			if n := r.count("stage container_create 20ms default/web-vm"); n != 2 {
				t.Errorf("container_create observed %d times at 20ms, want 2: %v", n, r.obs)
			}
			if n := r.count("total node"); n != 2 {
				t.Errorf("node total observed %d times, want 2: %v", n, r.obs)
			}
		})
	}
}

// A sandbox replaced by the kubelet (the old one died: StopPodSandbox,
// then a sandbox of the next attempt, no admission or volume step) is the
// same incarnation.
func TestSandboxReplacedSameRecord(t *testing.T) {
	r := &recorder{}
	tl := New(Config{}, r)
	sb := rt(event.SandboxStart, 100)
	sb.Pod = web
	sr := rt(event.SandboxReady, 200)
	sr.Pod, sr.SandboxID = web, "sb1"
	stop := rt(event.SandboxStopped, 5000)
	stop.Pod, stop.SandboxID = web, "sb1"
	sb2 := rt(event.SandboxStart, 5100)
	sb2.Pod, sb2.Attempt = web, 1
	for _, ev := range []event.Event{sb, sr, stop, sb2} {
		tl.Apply(ev)
	}
	if got := len(tl.Snapshot(web.Key())); got != 1 {
		t.Fatalf("a replaced sandbox made %d records", got)
	}
}

// The volumes stage does not depend on whether the kubelet's mount lines
// (journal) or the sandbox's start (CRI, another goroutine) are applied
// first: its end is decided once the CRI's ends are final.
func TestVolumesStageOrderIndependent(t *testing.T) {
	add := kl(event.PodAdd, 360)
	add.Pod = web
	vs := kl(event.VolumeMountStarted, 460)
	vs.Pod, vs.Volume, vs.Plugin = web, "content", "kubernetes.io/empty-dir"
	vm := kl(event.VolumeMounted, 461)
	vm.Pod, vm.Volume, vm.Plugin = web, "content", "kubernetes.io/empty-dir"
	sbLine := rt(event.SandboxStart, 670)
	sbLine.Pod = web
	sbCRI := event.Event{Kind: event.SandboxStart, Time: at(672), Source: event.SourceCRI, Pod: web, SandboxID: "sb1"}
	srCRI := event.Event{Kind: event.SandboxReady, Time: at(775), Source: event.SourceCRI, Pod: web, SandboxID: "sb1"}
	journal := []event.Event{add, vs, vm, sbLine}
	cri := []event.Event{sbCRI, srCRI}
	orders := map[string][]event.Event{
		"journal first":               append(append([]event.Event{}, journal...), cri...),
		"CRI first":                   append(append([]event.Event{}, cri...), journal...),
		"CRI between admit and mount": {add, sbCRI, srCRI, vs, vm, sbLine},
	}
	var want string
	for name, evs := range orders {
		r := &recorder{}
		tl := New(Config{AwaitCRI: 2 * time.Second}, r)
		for _, ev := range evs {
			tl.Apply(ev)
		}
		if n := r.count("stage volumes"); n != 0 {
			t.Errorf("%s: volumes observed before the CRI's ends are final: %v", name, r.obs)
		}
		tl.Tick(at(672 + 2000))
		var got []string
		for _, o := range r.obs {
			if strings.HasPrefix(o, "stage volumes") {
				got = append(got, o)
			}
		}
		iv := tl.Snapshot(web.Key())[0].Intervals["volumes"]
		s := fmt.Sprintf("%v %s-%s %s-%s", got, iv.Start.Format("05.000"), iv.End.Format("05.000"), iv.StartSource, iv.EndSource)
		if want == "" {
			want = "[stage volumes 101ms default/web-vm] 47.360-47.461 kubelet-kubelet"
		}
		if s != want {
			t.Errorf("%s: %s, want %s", name, s, want)
		}
	}
}

// At --v=3 the kubelet follows a pull's error ("… not found": ImageNotFound)
// with the event "Error: ErrImagePull", which says nothing more: one
// failure, counted once under ImageNotFound (seen on the real node).
func TestGenericErrImagePullAfterSpecificReason(t *testing.T) {
	r := &recorder{}
	tl := New(Config{}, r)
	sb := rt(event.SandboxStart, 0)
	sb.Pod = web
	notFound := kl(event.ImagePullFailed, 100)
	notFound.Pod, notFound.Container, notFound.Image, notFound.Reason = web, "main", "reg/nope:1", event.ReasonImageNotFound
	generic := kl(event.ImagePullFailed, 101)
	generic.Pod, generic.Container, generic.Reason = web, "main", event.ReasonErrImagePull
	backoff := kl(event.ImagePullBackOff, 2000)
	backoff.Pod, backoff.Container, backoff.Reason = web, "main", event.ReasonImagePullBackOff
	for _, ev := range []event.Event{sb, notFound, generic, notFound, generic, backoff} {
		tl.Apply(ev)
	}
	if n := r.count("failure"); n != 2 {
		t.Errorf("%d failures counted, want ImageNotFound and ImagePullBackOff: %v", n, r.obs)
	}
	r.has(t, "failure image_pull ImageNotFound default/web-vm", "failure image_pull ImagePullBackOff default/web-vm")
	// Without a specific reason before it, ErrImagePull is counted.
	other := event.PodRef{Namespace: "default", Name: "other", UID: "u-other"}
	sb2 := rt(event.SandboxStart, 3000)
	sb2.Pod = other
	g2 := generic
	g2.Pod, g2.Time = other, at(3100)
	tl.Apply(sb2)
	tl.Apply(g2)
	r.has(t, "failure image_pull ErrImagePull default/other")
}
