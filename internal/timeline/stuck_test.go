package timeline

import (
	"testing"
	"time"

	"github.com/podstart/podstart/internal/event"
)

func loads(tl *Timeline, now time.Time) map[Stage]StageLoad {
	out := map[Stage]StageLoad{}
	for _, l := range tl.InStage(now) {
		out[l.Stage] = l
	}
	return out
}

// TestInStageAndHealthyPodsNone: every stage has a series, a healthy pod
// that started is in none, a pod whose sandbox is being created is in
// sandbox since its request, and a removed pod is in none.
func TestInStageAndHealthyPodsNone(t *testing.T) {
	r := &recorder{}
	tl := New(Config{}, r)
	for _, ev := range webStart() {
		tl.Apply(ev)
	}
	tl.Flush()
	l := loads(tl, at(60_000))
	if len(l) != len(StuckStages) {
		t.Fatalf("%d stages, want %d", len(l), len(StuckStages))
	}
	for st, x := range l {
		if x.Pods != 0 || !x.Oldest.IsZero() {
			t.Errorf("healthy pod counted in %s: %+v", st, x)
		}
	}
	other := event.PodRef{Namespace: "default", Name: "slow", UID: "u2"}
	sb := rt(event.SandboxStart, 3000)
	sb.Pod = other
	tl.Apply(sb)
	if x := loads(tl, at(63_000))[StageSandbox]; x.Pods != 1 || !x.Oldest.Equal(at(3000)) {
		t.Errorf("sandbox: %+v, want 1 pod since 3s", x)
	}
	v := tl.SnapshotAt("default/slow", at(63_000))
	if len(v) != 1 || v[0].Stuck == nil || v[0].Stuck.Stage != "sandbox" || v[0].Stuck.Seconds != 60 {
		t.Errorf("snapshot: %+v", v)
	}
	rm := kl(event.PodRemove, 4000)
	rm.Pod = other
	tl.Apply(rm)
	if x := loads(tl, at(63_000))[StageSandbox]; x.Pods != 0 {
		t.Errorf("a removed pod is stuck: %+v", x)
	}
}

// TestMountTimeoutDerived: since kubelet 1.28 a mount wait that times out
// logs nothing. A mount started without success 2m3s later is MountTimeout,
// once; the pod is in its volumes stage meanwhile.
func TestMountTimeoutDerived(t *testing.T) {
	r := &recorder{}
	tl := New(Config{}, r)
	nfs := event.PodRef{Namespace: "default", Name: "nfs", UID: "u3"}
	add := kl(event.PodAdd, 0)
	add.Pod = nfs
	ms := kl(event.VolumeMountStarted, 100)
	ms.Pod, ms.Volume, ms.Plugin = nfs, "share", "kubernetes.io/nfs"
	tl.Apply(add)
	tl.Apply(ms)
	tl.Tick(at(120_000))
	if n := r.count("failure"); n != 0 {
		t.Fatalf("failure before the kubelet's wait ended: %v", r.obs)
	}
	if x := loads(tl, at(120_000))[StageVolumes]; x.Pods != 1 || !x.Oldest.Equal(at(0)) {
		t.Errorf("volumes: %+v", x)
	}
	tl.Tick(at(124_000))
	tl.Tick(at(300_000))
	r.has(t, "failure volumes MountTimeout default/nfs")
	if n := r.count("failure"); n != 1 {
		t.Errorf("%d failures, want one MountTimeout", n)
	}
	v := tl.SnapshotAt("default/nfs", at(300_000))
	if len(v) != 1 || v[0].Stuck == nil || v[0].Stuck.Reason != event.ReasonMountTimeout || v[0].Stuck.Message != "volumes not mounted within 2m3s: share" {
		t.Errorf("snapshot: %+v", v[0].Stuck)
	}
}

// TestKubeletRestartResyncNotStuck: a restarted kubelet re-verifies the
// volumes of pods it already runs; at --v=0 nothing else follows for them.
// They are neither stuck nor MountTimeout. A pod that shows the same only
// later is.
func TestKubeletRestartResyncNotStuck(t *testing.T) {
	r := &recorder{}
	tl := New(Config{}, r)
	start := kl(event.KubeletStart, 0)
	start.PID = 100
	tl.Apply(start)
	old := event.PodRef{Namespace: "default", Name: "old", UID: "u4"}
	vv := kl(event.VolumeVerifyStarted, 5000)
	vv.Pod, vv.Volume, vv.PID = old, "data", 100
	tl.Apply(vv)
	late := event.PodRef{Namespace: "default", Name: "late", UID: "u5"}
	lv := kl(event.VolumeVerifyStarted, 200_000)
	lv.Pod, lv.Volume, lv.PID = late, "data", 100
	tl.Apply(lv)
	tl.Tick(at(400_000))
	if x := loads(tl, at(400_000))[StageVolumes]; x.Pods != 1 || !x.Oldest.Equal(at(200_000)) {
		t.Errorf("volumes: %+v, want only the pod seen later", x)
	}
	r.has(t, "kubelet start", "failure volumes MountTimeout default/late")
	if n := r.count("failure"); n != 1 {
		t.Errorf("failures %v, want the late pod's only", r.obs)
	}
}

// TestKubeletStarts: the start line counts, and so does a new PID whose
// start line was not seen; the start line of a PID already counted does
// not count again.
func TestKubeletStarts(t *testing.T) {
	r := &recorder{}
	tl := New(Config{}, r)
	for _, e := range []struct {
		kind event.Kind
		pid  int
	}{
		{event.PodAdd, 10}, {event.KubeletStart, 20}, {event.PodAdd, 20}, // a start line
		{event.PodAdd, 30}, {event.KubeletStart, 30}, // a new PID first, then its start line
		{event.PodAdd, 30},
	} {
		ev := kl(e.kind, 0)
		ev.PID = e.pid
		ev.Pod = event.PodRef{Namespace: "n", Name: "p"}
		tl.Apply(ev)
	}
	if n := r.count("kubelet start"); n != 2 {
		t.Errorf("%d kubelet starts, want 2: %v", n, r.obs)
	}
	np := kl(event.NodeProblem, 1)
	np.Reason = event.ProblemPLEGUnhealthy
	tl.Apply(np)
	r.has(t, "problem pleg_unhealthy")
}

// crashPod is a pod whose container crashes: attempt n created, started and
// exited (code 1) at n seconds, then a back-off.
func crashPod(tl *Timeline, attempts int, backoffs []time.Duration) {
	pod := event.PodRef{Namespace: "default", Name: "crash", UID: "u6"}
	sb := rt(event.SandboxStart, 0)
	sb.Pod = pod
	sr := rt(event.SandboxReady, 100)
	sr.Pod, sr.SandboxID = pod, "sbc"
	tl.Apply(sb)
	tl.Apply(sr)
	for n := 0; n < attempts; n++ {
		base := 1000 + n*60_000
		id := string(rune('a' + n))
		cs := rt(event.ContainerCreateStart, base)
		cs.SandboxID, cs.Container, cs.Attempt = "sbc", "app", n
		cc := rt(event.ContainerCreated, base+10)
		cc.SandboxID, cc.Container, cc.Attempt, cc.ContainerID = "sbc", "app", n, id
		st := rt(event.ContainerStarted, base+20)
		st.ContainerID = id
		ex := rt(event.ContainerExited, base+500)
		ex.ContainerID, ex.ExitCode, ex.HasExit = id, 1, true
		for _, ev := range []event.Event{cs, cc, st, ex} {
			tl.Apply(ev)
		}
		if n < len(backoffs) {
			bo := kl(event.ContainerBackOff, base+600)
			bo.Pod, bo.Container, bo.Reason = pod, "app", event.ReasonCrashLoopBackOff
			bo.Duration, bo.HasDuration = backoffs[n], true
			tl.Apply(bo)
			again := bo
			again.Time = at(base + 10_600) // the same back-off, logged again at the next sync
			tl.Apply(again)
		}
	}
}

// TestCrashLoop: restarts counted by how the attempt before ended, each
// back-off step once, one CrashLoopBackOff failure, and the pod in
// container_start since its first back-off while it loops, not after.
func TestCrashLoop(t *testing.T) {
	r := &recorder{}
	tl := New(Config{}, r)
	crashPod(tl, 3, []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second})
	if n := r.count("restart Error"); n != 2 {
		t.Errorf("%d restarts after Error, want 2: %v", n, r.obs)
	}
	r.has(t, "backoff 10s", "backoff 20s", "backoff 40s", "failure container_start CrashLoopBackOff default/crash")
	if n := r.count("backoff"); n != 3 {
		t.Errorf("%d back-off observations, want one per step (3)", n)
	}
	if n := r.count("failure"); n != 1 {
		t.Errorf("failures %v, want CrashLoopBackOff once", r.obs)
	}
	x := loads(tl, at(130_000))[StageContainerStart]
	if x.Pods != 1 || !x.Oldest.Equal(at(1600)) {
		t.Errorf("container_start: %+v, want the looping pod since its first back-off", x)
	}
	if x := loads(tl, at(1_000_000))[StageContainerStart]; x.Pods != 0 {
		t.Errorf("a pod whose loop stopped 14 minutes ago is still looping: %+v", x)
	}
}

// TestOOMKilled: from the CRI's exit reason, or from containerd's TaskOOM
// and an exit by SIGKILL; once per attempt, and the restart after it says
// OOMKilled.
func TestOOMKilled(t *testing.T) {
	r := &recorder{}
	tl := New(Config{}, r)
	crashPod(tl, 1, nil)
	oom := rt(event.ContainerOOM, 70_000)
	oom.ContainerID = "z"
	tl.Apply(oom) // unknown container: nothing
	cs := rt(event.ContainerCreateStart, 61_000)
	cs.SandboxID, cs.Container, cs.Attempt = "sbc", "app", 1
	cc := rt(event.ContainerCreated, 61_010)
	cc.SandboxID, cc.Container, cc.Attempt, cc.ContainerID = "sbc", "app", 1, "b"
	st := rt(event.ContainerStarted, 61_020)
	st.ContainerID = "b"
	oom = rt(event.ContainerOOM, 62_000)
	oom.ContainerID = "b"
	ex := rt(event.ContainerExited, 62_001)
	ex.ContainerID, ex.ExitCode, ex.HasExit = "b", 137, true
	cri := ex
	cri.Source, cri.Reason = event.SourceCRI, "OOMKilled"
	for _, ev := range []event.Event{cs, cc, st, oom, ex, cri} {
		tl.Apply(ev)
	}
	r.has(t, "failure container_start OOMKilled default/crash", "restart Error")
	if n := r.count("failure"); n != 1 {
		t.Errorf("failures %v, want OOMKilled once", r.obs)
	}
	cs2 := rt(event.ContainerCreateStart, 90_000)
	cs2.SandboxID, cs2.Container, cs2.Attempt = "sbc", "app", 2
	tl.Apply(cs2)
	r.has(t, "restart OOMKilled")
}

// TestEvictedNotStuck: an evicted pod counts the failure and is in no stage.
func TestEvictedNotStuck(t *testing.T) {
	r := &recorder{}
	tl := New(Config{}, r)
	pod := event.PodRef{Namespace: "default", Name: "hog", UID: "u7"}
	sb := rt(event.SandboxStart, 0)
	sb.Pod = pod
	tl.Apply(sb)
	ev := kl(event.PodEvicted, 1000)
	ev.Pod, ev.Reason = pod, event.ReasonEvicted
	tl.Apply(ev)
	r.has(t, "failure running Evicted default/hog")
	for st, x := range loads(tl, at(2000)) {
		if x.Pods != 0 {
			t.Errorf("evicted pod in %s", st)
		}
	}
}
