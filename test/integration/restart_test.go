package integration

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func (s *stack) containerdCtl(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(filepath.Join(stackDir, "containerd"), args...).CombinedOutput(); err != nil {
		t.Fatalf("test/stack/containerd %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// TestCRIContainerdRestart: containerd killed mid-run and started again.
// The agent keeps serving, reports the CRI source down, reconnects
// (re-subscribing to events), and every pod started after the restart is
// observed exactly once; the pod started before it is not observed again.
func TestCRIContainerdRestart(t *testing.T) {
	s := up(t, "2")
	r := startAgent(t, s, false)
	ns := "it-restart"
	busybox := s.env["STACK_IMAGE_BUSYBOX"]
	sb, pj := s.pod(t, ns, "before", "uid-before")
	s.container(t, sb, pj, ns, "before", "uid-before", "main", busybox, true)
	waitFor(t, 20*time.Second, "the pod started before the restart", func() bool {
		return r.obs.get("container_start "+ns+"/before") == 1
	})

	s.containerdCtl(t, "kill")
	waitFor(t, 10*time.Second, "the CRI source to be reported down", func() bool {
		return r.a.Ready() != nil && r.metric(t, "podstart_source_up", map[string]string{"source": "cri"}) == 0
	})
	if err := r.a.Ready(); !strings.Contains(err.Error(), "cri") || strings.Contains(err.Error(), "journal") {
		t.Errorf("/readyz reason while containerd is down: %v", err)
	}
	time.Sleep(2 * time.Second)
	s.containerdCtl(t, "start")
	started := time.Now()
	waitFor(t, 40*time.Second, "the CRI source to reconnect", func() bool {
		return r.a.Ready() == nil && r.metric(t, "podstart_cri_reconnects_total", nil) >= 1
	})
	// docs/reliability.md quotes this.
	t.Logf("recovery: ready again %.1fs after containerd was started", time.Since(started).Seconds())

	var names []string
	for i := 0; i < 3; i++ {
		name := "after-" + string(rune('a'+i))
		sb, pj := s.pod(t, ns, name, "uid-"+name)
		s.container(t, sb, pj, ns, name, "uid-"+name, "main", busybox, false)
		names = append(names, name)
	}
	for _, n := range names {
		waitFor(t, 20*time.Second, n+" to be observed", func() bool {
			v, ok := r.pod(ns + "/" + n)
			if !ok || len(v.Containers) == 0 {
				return false
			}
			return r.obs.get("container_start "+ns+"/"+n) == 1 && v.Containers[0].Intervals["container_start"].EndSource == "cri"
		})
	}
	// Settle, then make sure nothing was observed twice.
	time.Sleep(3 * time.Second)
	for _, n := range append(names, "before") {
		for _, stage := range []string{"sandbox", "container_create", "container_start", "node"} {
			if got := r.obs.get(stage + " " + ns + "/" + n); got != 1 {
				t.Errorf("%s of %s observed %d times, want 1", stage, n, got)
			}
		}
	}
}

// TestCRINotYetUp: the agent starts before the runtime; the CRI source is
// reported down and retried, and reads the runtime once it is there.
func TestCRINotYetUp(t *testing.T) {
	s := up(t, "2")
	s.containerdCtl(t, "stop")
	r := startAgentNotReady(t, s)
	waitFor(t, 10*time.Second, "the missing runtime to be reported", func() bool {
		err := r.a.Ready()
		return err != nil && strings.Contains(err.Error(), "cri")
	})
	s.containerdCtl(t, "start")
	waitFor(t, 40*time.Second, "the CRI source to connect", func() bool { return r.a.Ready() == nil })
	ns := "it-late"
	sb, pj := s.pod(t, ns, "late", "uid-late")
	s.container(t, sb, pj, ns, "late", "uid-late", "main", s.env["STACK_IMAGE_BUSYBOX"], true)
	waitFor(t, 20*time.Second, "the pod to be observed", func() bool {
		return r.obs.get("container_start "+ns+"/late") == 1
	})
}

// TestCRIOlderPodsNotObservedAgain: a pod that started before the agent's
// lookback is only remembered, never observed; one started within it is
// reported so that its timeline can finish.
func TestCRIOlderPodsNotObservedAgain(t *testing.T) {
	s := up(t, "2")
	ns := "it-older"
	sb, pj := s.pod(t, ns, "old", "uid-old")
	s.container(t, sb, pj, ns, "old", "uid-old", "main", s.env["STACK_IMAGE_BUSYBOX"], true)
	time.Sleep(1500 * time.Millisecond)
	// startAgent begins its journal and CRI lookback one second back.
	r := startAgent(t, s, false)
	sb2, pj2 := s.pod(t, ns, "new", "uid-new")
	s.container(t, sb2, pj2, ns, "new", "uid-new", "main", s.env["STACK_IMAGE_BUSYBOX"], false)
	waitFor(t, 20*time.Second, "the new pod", func() bool { return r.obs.get("container_start "+ns+"/new") == 1 })
	if _, ok := r.pod(ns + "/old"); ok {
		t.Errorf("a pod that started before the lookback is in the timeline")
	}
}
