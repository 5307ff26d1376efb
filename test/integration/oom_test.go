package integration

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/podstart/podstart/internal/event"
)

// TestCRIOOMKilled: a container created with crictl under a 16 MiB memory
// limit that buffers /dev/zero is killed by the kernel; the runtime's own
// exit reason (OOMKilled, exit 137) reaches the agent through its CRI
// source, with no kubelet on the node, as the pod's OOMKilled failure.
func TestCRIOOMKilled(t *testing.T) {
	s := up(t, "2")
	r := startAgent(t, s, false)
	ns, uid := "it-oom", "uid-oom"
	sb, podJSON := s.pod(t, ns, "hog", uid)
	s.crictl(t, "pull", s.env["STACK_IMAGE_BUSYBOX"])
	cfg := map[string]any{
		"metadata": map[string]any{"name": "hog"},
		"image":    map[string]any{"image": s.env["STACK_IMAGE_BUSYBOX"]},
		// tail keeps /dev/zero's one endless line in memory.
		"command":  []string{"/bin/sh", "-c", "tail /dev/zero"},
		"labels":   map[string]string{"io.kubernetes.container.name": "hog", "io.kubernetes.pod.name": "hog", "io.kubernetes.pod.namespace": ns, "io.kubernetes.pod.uid": uid},
		"log_path": "hog.log",
		"linux":    map[string]any{"resources": map[string]any{"memory_limit_in_bytes": 16 << 20}},
	}
	path := filepath.Join(t.TempDir(), "ctr.json")
	writeJSON(t, path, cfg)
	id := s.crictl(t, "create", sb, path, podJSON)
	s.crictl(t, "start", id)

	var st struct {
		Status struct {
			State    string
			Reason   string
			ExitCode int
		}
	}
	waitFor(t, 60*time.Second, "the runtime to report the container OOM-killed", func() bool {
		if err := json.Unmarshal([]byte(s.crictl(t, "inspect", "-o", "json", id)), &st); err != nil {
			t.Fatal(err)
		}
		return st.Status.State == "CONTAINER_EXITED"
	})
	if st.Status.Reason != "OOMKilled" || st.Status.ExitCode != 137 {
		t.Fatalf("crictl inspect: %+v, want OOMKilled, exit 137", st.Status)
	}
	waitFor(t, 15*time.Second, "the agent's OOMKilled failure", func() bool {
		return r.metric(t, "podstart_failures_total", map[string]string{"reason": "OOMKilled"}) == 1
	})
	v, _ := r.pod(ns + "/hog")
	c, ok := containerView(v, "hog")
	if !ok || c.ExitCode == nil || *c.ExitCode != 137 || c.ExitReason != "OOMKilled" || c.Intervals["container_start"].EndSource != event.SourceCRI {
		t.Errorf("the agent's view of the container: %+v", c)
	}
	found := false
	for _, f := range v.Failures {
		if f.Reason == "OOMKilled" && f.Container == "hog" && f.Stage == "container_start" {
			found = true
		}
	}
	if !found || len(v.Failures) != 1 {
		t.Errorf("failures %+v, want one OOMKilled of hog in container_start", v.Failures)
	}
	// No next attempt was created: no restart.
	if got := r.metric(t, "podstart_container_restarts_total", nil); got != 0 {
		t.Errorf("restarts %v without a second attempt", got)
	}
}

// TestCRIStatusConditions: podstart_cri_condition is what the runtime's
// CRI Status says (crictl info): the stack's containerd has no pod network,
// so NetworkReady is false and RuntimeReady true; once containerd is
// stopped, RuntimeReady reads 0 too, and both return with it.
func TestCRIStatusConditions(t *testing.T) {
	s := up(t, "2")
	r := startAgent(t, s, false)
	runtime := func() map[string]float64 {
		var info struct {
			Status struct {
				Conditions []struct {
					Type   string
					Status bool
				}
			}
		}
		if err := json.Unmarshal([]byte(s.crictl(t, "info")), &info); err != nil {
			t.Fatal(err)
		}
		out := map[string]float64{}
		for _, c := range info.Status.Conditions {
			out[c.Type] = map[bool]float64{true: 1, false: 0}[c.Status]
		}
		return out
	}
	want := runtime()
	for _, c := range []string{"RuntimeReady", "NetworkReady"} {
		if _, ok := want[c]; !ok {
			t.Fatalf("crictl info has no %s: %v", c, want)
		}
	}
	agentSays := func() map[string]float64 {
		return map[string]float64{
			"RuntimeReady": r.metric(t, "podstart_cri_condition", map[string]string{"condition": "RuntimeReady"}),
			"NetworkReady": r.metric(t, "podstart_cri_condition", map[string]string{"condition": "NetworkReady"}),
		}
	}
	match := func(w map[string]float64) func() bool {
		return func() bool {
			got := agentSays()
			return got["RuntimeReady"] == w["RuntimeReady"] && got["NetworkReady"] == w["NetworkReady"]
		}
	}
	waitFor(t, 10*time.Second, "the agent's conditions to be the runtime's", match(want))
	t.Logf("runtime conditions: %v", want)

	s.containerdCtl(t, "stop")
	waitFor(t, 10*time.Second, "RuntimeReady 0 while containerd is stopped", func() bool { return agentSays()["RuntimeReady"] == 0 })
	s.containerdCtl(t, "start")
	waitFor(t, 40*time.Second, "the conditions back as the runtime reports them", match(runtime()))
}
