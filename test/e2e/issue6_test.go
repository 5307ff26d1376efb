//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/podstart/podstart/internal/report"
	"github.com/podstart/podstart/internal/timeline"
)

// The scenarios of the failure-diagnosis signals on the real node: an
// OOM kill, a readiness probe that never passes, the kubelet restarted in
// the middle of pod starts, containerd stopped for 30 seconds. They run at
// one verbosity (nodeV, the alerts run) to keep the CI time down: the
// signals they check come from the CRI and from kubelet lines logged at
// every verbosity, except the readiness lines (--v>=1).
const nodeV = alertsV

// stuckStages are the stages of podstart_pods_in_stage.
var stuckStages = []string{"volumes", "sandbox", "image_pull", "container_create", "container_start", "readiness"}

// gauge reads one series of the agent's /metrics.
func (n *node) gauge(t *testing.T, series string) float64 {
	t.Helper()
	return n.agentMetrics(t)[series]
}

// wantStuck checks that the agent has the pod stuck in stage with one of
// the reasons, while it is, and counts it in that stage's gauge.
func wantStuck(t *testing.T, n *node, name, stage string, reasons ...string) {
	t.Helper()
	waitFor(t, 20*time.Second, fmt.Sprintf("%s stuck in %s with %v", name, stage, reasons), func() bool {
		p, ok := n.agentPod(t, name)
		return ok && p.Stuck != nil && p.Stuck.Stage == stage && slices.Contains(reasons, p.Stuck.Reason)
	})
	m := n.agentMetrics(t)
	if m[`podstart_pods_in_stage{stage="`+stage+`"}`] < 1 || m[`podstart_stage_oldest_seconds{stage="`+stage+`"}`] <= 0 {
		t.Errorf("v=%d: %s stuck in %s, but the gauges say %v pods, oldest %v s", n.v, name, stage,
			m[`podstart_pods_in_stage{stage="`+stage+`"}`], m[`podstart_stage_oldest_seconds{stage="`+stage+`"}`])
	}
}

// records counts the agent's /pods records per pod name: a pod observed
// once has one.
func (n *node) records(t *testing.T) map[string]int {
	t.Helper()
	b, code := get(n.agent + "/pods")
	if code != 200 {
		t.Fatalf("agent /pods: %d", code)
	}
	var doc report.Document
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, p := range doc.Pods {
		out[p.Name]++
	}
	return out
}

func (n *node) restartCount(t *testing.T, pod, ctr string) int {
	for _, c := range n.kubeletPods(t)[pod].Status.ContainerStatuses {
		if c.Name == ctr {
			return c.RestartCount
		}
	}
	return -1
}

// 9. A container OOM-killed under a small memory limit: tail buffers
// /dev/zero, which has no newline, until the kernel kills it. The CRI's
// exit reason OOMKilled gives the failure (once) and a restart by reason
// OOMKilled for each next attempt; the kubelet then backs off.
func scenarioOOM(t *testing.T, n *node, pod func(string) string) {
	n.drop(t, "s9-oom", manifest("s9-oom", `  containers:
  - name: hog
    image: `+n.env["STACK_IMAGE_BUSYBOX"]+`
    imagePullPolicy: IfNotPresent
    command: ["/bin/sh", "-c", "tail /dev/zero"]
    resources: {limits: {memory: 16Mi}, requests: {memory: 16Mi}}
`))
	name := pod("s9-oom")
	waitFor(t, 90*time.Second, "s9 OOM-killed and restarted by the kubelet", func() bool {
		for _, c := range n.kubeletPods(t)[name].Status.ContainerStatuses {
			if c.RestartCount >= 1 && c.LastState.Terminated != nil && c.LastState.Terminated.Reason == "OOMKilled" {
				return true
			}
		}
		return false
	})
	waitFor(t, 30*time.Second, "s9's OOMKilled failure, restart and back-off in the agent", func() bool {
		p, ok := n.agentPod(t, name)
		return ok && hasFailure(p, "container_start", "OOMKilled") && hasFailure(p, "container_start", "CrashLoopBackOff") &&
			n.gauge(t, `podstart_container_restarts_total{reason="OOMKilled"}`) >= 1
	})
	p, _ := n.agentPod(t, name)
	for _, c := range p.Containers {
		if c.ExitCode != nil && (c.ExitReason != "OOMKilled" || *c.ExitCode != 137) {
			t.Errorf("s9 attempt %d ended %q exit %d, want OOMKilled 137", c.Attempt, c.ExitReason, *c.ExitCode)
		}
	}
	// The CRI says so too, of the attempts the kubelet has not removed
	// yet (it keeps the latest dead one).
	inspected := 0
	for i := len(p.Containers) - 1; i >= 0; i-- {
		c := p.Containers[i]
		if c.ExitCode == nil {
			continue
		}
		out, err := exec.Command(n.env["STACK_CRICTL"], "--runtime-endpoint", n.env["STACK_CRI_ENDPOINT"], "inspect", "-o", "json", c.ID).Output()
		if err != nil {
			continue
		}
		var v struct{ Status struct{ Reason string } }
		if err := json.Unmarshal(out, &v); err != nil || v.Status.Reason != "OOMKilled" {
			t.Errorf("crictl inspect %s: reason %q (%v)", c.ID, v.Status.Reason, err)
		}
		inspected++
	}
	if inspected == 0 {
		t.Errorf("crictl inspects none of s9's exited attempts: %+v", p.Containers)
	}
}

// 10. A readiness probe that never passes: the pod runs, the kubelet
// reports the probe failing, the agent has it in readiness with
// ReadinessProbeFailed, and the oldest-in-stage age grows.
func scenarioNeverReady(t *testing.T, n *node, pod func(string) string) {
	n.drop(t, "s10-unready", manifest("s10-unready", `  containers:
  - name: app
    image: `+n.env["STACK_IMAGE_BUSYBOX"]+`
    imagePullPolicy: IfNotPresent
    command: ["/bin/sh", "-c", "sleep 3600"]
    readinessProbe: {exec: {command: ["/bin/false"]}, periodSeconds: 1}
`))
	name := pod("s10-unready")
	wantStuck(t, n, name, "readiness", "ReadinessProbeFailed")
	const in, oldest = `podstart_pods_in_stage{stage="readiness"}`, `podstart_stage_oldest_seconds{stage="readiness"}`
	first := n.gauge(t, oldest)
	time.Sleep(2 * time.Second)
	m := n.agentMetrics(t)
	if m[in] != 1 || !(m[oldest] >= first+1.5) {
		t.Errorf("readiness: %v pods in stage (want 1), oldest %v s then %v s (want it growing)", m[in], first, m[oldest])
	}
	if kp := n.kubeletPods(t)[name]; kp.Status.Phase != "Running" || kp.ready() {
		t.Errorf("s10: the kubelet says phase %q ready %v", kp.Status.Phase, kp.ready())
	}
}

// 11. The kubelet restarted while three pods start (their init
// containers run): the new kubelet adopts them and finishes their starts;
// each pod is observed once, and the restart is counted.
func scenarioKubeletRestart(t *testing.T, n *node, pod func(string) string) {
	before := n.gauge(t, "podstart_kubelet_starts_total")
	names := []string{"s11-restart-a", "s11-restart-b", "s11-restart-c"}
	for _, s := range names {
		n.drop(t, s, manifest(s, `  initContainers:
  - name: init
    image: `+n.env["STACK_IMAGE_BUSYBOX"]+`
    imagePullPolicy: IfNotPresent
    command: ["/bin/sh", "-c", "sleep 3"]
    volumeMounts: [{name: scratch, mountPath: /scratch}]
  containers:
  - name: app
    image: `+n.env["STACK_IMAGE_BUSYBOX"]+`
    imagePullPolicy: IfNotPresent
    command: ["/bin/sh", "-c", "sleep 3600"]
    volumeMounts: [{name: scratch, mountPath: /scratch}]
  volumes:
  - {name: scratch, emptyDir: {}}
`))
	}
	waitFor(t, 30*time.Second, "the three pods' sandboxes", func() bool {
		ps := n.agentPods(t)
		for _, s := range names {
			if _, ok := ps[pod(s)].Stages["sandbox"]; !ok {
				return false
			}
		}
		return true
	})
	start := time.Now()
	run(t, filepath.Join(stackDir, "kubelet"), "restart")
	t.Logf("kubelet restarted in %.1fs", time.Since(start).Seconds())
	waitFor(t, 90*time.Second, "the three pods Ready after the restart", func() bool {
		ps := n.kubeletPods(t)
		for _, s := range names {
			if !ps[pod(s)].ready() {
				return false
			}
		}
		return true
	})
	waitFor(t, 15*time.Second, "the kubelet start counted", func() bool {
		return n.gauge(t, "podstart_kubelet_starts_total") == before+1
	})
	// Settled (--timeline.settle 3s) and observed.
	time.Sleep(4 * time.Second)
	recs := n.records(t)
	for _, s := range names {
		p, _ := n.agentPod(t, pod(s))
		if recs[pod(s)] != 1 {
			t.Errorf("%s: %d records in /pods, want 1", pod(s), recs[pod(s)])
		}
		// No ready total: without a readiness probe the kubelet logs no
		// readiness line.
		for _, st := range []string{"volumes", "sandbox", "init_containers", "node"} {
			if _, ok := p.Stages[st]; !ok {
				t.Errorf("%s: no %s stage after the kubelet restart: %v", pod(s), st, p.Stages)
			}
		}
		if len(p.Failures) != 0 || p.Stuck != nil {
			t.Errorf("%s: false signals after the kubelet restart: failures %+v stuck %+v", pod(s), p.Failures, p.Stuck)
		}
		if len(p.Containers) != 2 {
			t.Errorf("%s: containers %+v, want init and app once each", pod(s), p.Containers)
		}
	}
	if got := n.gauge(t, "podstart_kubelet_starts_total"); got != before+1 {
		t.Errorf("kubelet starts %v, want %v", got, before+1)
	}
}

// 12. containerd stopped for 30 seconds (its pods run on): the agent's CRI
// source goes down and RuntimeReady reads 0, the kubelet logs the runtime
// down; after the start both are back, and a pod started then is observed
// with the CRI's times.
func scenarioContainerdDown(t *testing.T, n *node, pod func(string) string) {
	const up, ready = `podstart_source_up{source="cri"}`, `podstart_cri_condition{condition="RuntimeReady"}`
	problems0 := n.agentMetrics(t)
	stopped := time.Now()
	run(t, filepath.Join(stackDir, "containerd"), "stop")
	waitFor(t, 15*time.Second, "the CRI source down and RuntimeReady 0", func() bool {
		m := n.agentMetrics(t)
		return m[up] == 0 && m[ready] == 0
	})
	// /readyz says so too (README, "The CRI source").
	if b, code := get(n.agent + "/readyz"); code != 503 || !strings.Contains(string(b), "cri") {
		t.Errorf("/readyz %d %q with the CRI down", code, b)
	}
	time.Sleep(time.Until(stopped.Add(30 * time.Second)))
	run(t, filepath.Join(stackDir, "containerd"), "start")
	started := time.Now()
	t.Logf("containerd was down %.1fs", time.Since(stopped).Seconds())
	waitFor(t, 45*time.Second, "the CRI source up and RuntimeReady 1 again", func() bool {
		m := n.agentMetrics(t)
		return m[up] == 1 && m[ready] == 1 && m[`podstart_cri_condition{condition="NetworkReady"}`] == n.criCondition(t, "NetworkReady")
	})
	// docs/reliability.md quotes this.
	t.Logf("recovery: the CRI source up and RuntimeReady 1 again %.1fs after containerd was started", time.Since(started).Seconds())
	m := n.agentMetrics(t)
	grew := map[string]float64{}
	for k, v := range m {
		if strings.HasPrefix(k, "podstart_node_problems_total{") && v != problems0[k] {
			grew[k] = v - problems0[k]
		}
	}
	t.Logf("node problems while containerd was down: %v", grew)
	if grew[`podstart_node_problems_total{problem="runtime_down"}`] < 1 {
		t.Errorf("the kubelet's runtime-down lines not counted: %v", grew)
	}
	for k := range grew {
		if !strings.Contains(k, `"runtime_down"`) && !strings.Contains(k, `"runtime_not_ready"`) && !strings.Contains(k, `"pleg_unhealthy"`) {
			t.Errorf("a node problem that a runtime outage does not explain: %s", k)
		}
	}
	if m[`podstart_cri_reconnects_total`] < 1 {
		t.Errorf("no CRI reconnect counted")
	}
	// A pod started after the recovery, observed through the CRI again.
	n.drop(t, "s12-after", manifest("s12-after", `  containers:
  - name: app
    image: `+n.env["STACK_IMAGE_BUSYBOX"]+`
    imagePullPolicy: IfNotPresent
    command: ["/bin/sh", "-c", "sleep 3600"]
`))
	waitFor(t, 60*time.Second, "s12 Ready", func() bool { return n.kubeletPods(t)[pod("s12-after")].ready() })
	waitFor(t, 15*time.Second, "s12 started through the CRI in the agent", func() bool {
		p, ok := n.agentPod(t, pod("s12-after"))
		if !ok {
			return false
		}
		c, ok := container(p, "app")
		_, node := p.Stages["node"]
		return ok && c.Intervals["container_start"].EndSource == "cri" && node
	})
}

// criCondition asks the runtime (crictl info) for one of its Status
// conditions: 1 or 0. The stack has no pod network (host-network pods
// only): containerd reports NetworkReady false, "cni plugin not
// initialized".
func (n *node) criCondition(t *testing.T, cond string) float64 {
	t.Helper()
	var info struct {
		Status struct {
			Conditions []struct {
				Type   string
				Status bool
			}
		}
	}
	out := run(t, n.env["STACK_CRICTL"], "--runtime-endpoint", n.env["STACK_CRI_ENDPOINT"], "info")
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatalf("crictl info: %v", err)
	}
	for _, c := range info.Status.Conditions {
		if c.Type == cond {
			if c.Status {
				return 1
			}
			return 0
		}
	}
	t.Fatalf("crictl info has no condition %s", cond)
	return -1
}

// checkStuckGauges: at the end, exactly the failing pods are stuck, each
// in its stage: s4 pulling, s5 (and s9) crash-looping in container_start,
// s6 in volumes, s10 in readiness; every other stage empty, and no
// healthy pod stuck.
func checkStuckGauges(t *testing.T, n *node, pod func(string) string) {
	want := map[string]float64{"image_pull": 1, "container_start": 1, "volumes": 1}
	stuck := map[string]string{"s4-missing": "image_pull", "s5-crash": "container_start", "s6-nofile": "volumes"}
	if n.v == nodeV {
		want["container_start"]++
		want["readiness"] = 1
		stuck["s9-oom"], stuck["s10-unready"] = "container_start", "readiness"
	}
	m := n.agentMetrics(t)
	now := time.Now()
	pods := n.agentPods(t)
	for _, st := range stuckStages {
		got, oldest := m[`podstart_pods_in_stage{stage="`+st+`"}`], m[`podstart_stage_oldest_seconds{stage="`+st+`"}`]
		if got != want[st] {
			t.Errorf("v=%d: %v pods in %s, want %v", n.v, got, st, want[st])
		}
		if (got == 0) != (oldest == 0) {
			t.Errorf("v=%d: %s: %v pods, oldest %v s", n.v, st, got, oldest)
		}
		// The oldest is the earliest "since" of the pods stuck there.
		var first time.Time
		for name, s := range stuck {
			if p := pods[pod(name)]; s == st && p.Stuck != nil && (first.IsZero() || p.Stuck.Since.Before(first)) {
				first = p.Stuck.Since
			}
		}
		if !first.IsZero() && !near(oldest, now.Sub(first).Seconds(), 5) {
			t.Errorf("v=%d: %s: oldest %v s, the stuck pods' earliest since is %v s ago", n.v, st, oldest, now.Sub(first).Seconds())
		}
	}
	for name, p := range pods {
		short := strings.TrimSuffix(name, "-"+n.hostname)
		if st, ok := stuck[short]; ok {
			if p.Stuck == nil || p.Stuck.Stage != st {
				t.Errorf("v=%d: %s stuck %+v, want stage %s", n.v, short, p.Stuck, st)
			}
		} else if p.Stuck != nil {
			t.Errorf("v=%d: %s is stuck in %s (%s), a false signal", n.v, short, p.Stuck.Stage, p.Stuck.Reason)
		}
	}
}

// checkRestarts: restarts by reason are exactly the crash loops' (s5 by
// Error, s9 by OOMKilled), as many as the kubelet counted; no other reason.
func checkRestarts(t *testing.T, n *node, pod func(string) string) {
	want := map[string]func() int{"Error": func() int { return n.restartCount(t, pod("s5-crash"), "crash") }}
	if n.v == nodeV {
		want["OOMKilled"] = func() int { return n.restartCount(t, pod("s9-oom"), "hog") }
	}
	// The loops go on meanwhile: the agent follows the kubelet within a
	// poll or two.
	waitFor(t, 20*time.Second, fmt.Sprintf("v=%d: restarts by reason equal to the kubelet's restart counts", n.v), func() bool {
		m := n.agentMetrics(t)
		for _, r := range []string{"Completed", "Error", "OOMKilled", "ContainerCannotRun", "DeadlineExceeded", "Unknown", "Other"} {
			k := 0
			if f, ok := want[r]; ok {
				k = f()
			}
			if got := m[`podstart_container_restarts_total{reason="`+r+`"}`]; int(got) != k {
				t.Logf("restarts %s: agent %v, kubelet %d", r, got, k)
				return false
			}
		}
		return true
	})
	m := n.agentMetrics(t)
	if m["podstart_crashloop_backoff_seconds_count"] < 1 {
		t.Errorf("v=%d: no crash-loop back-off observed", n.v)
	}
	if got := m[`podstart_failures_total{reason="OOMKilled",stage="container_start"}`]; (n.v == nodeV) != (got == 1) {
		t.Errorf("v=%d: OOMKilled failures %v", n.v, got)
	}
}

// exactFailures: the failing pods' failures are exactly these (stage/reason).
func exactFailures(t *testing.T, n *node, pods map[string]timeline.PodView, pod func(string) string) {
	want := map[string][]string{
		"s4-missing": {"image_pull/ImageNotFound", "image_pull/ImagePullBackOff"},
		"s5-crash":   {"container_start/CrashLoopBackOff"},
		"s6-nofile":  {"volumes/FailedMount"},
	}
	if n.v == nodeV {
		want["s9-oom"] = []string{"container_start/OOMKilled", "container_start/CrashLoopBackOff"}
		want["s10-unready"] = []string{"readiness/ReadinessProbeFailed"}
	}
	for name, w := range want {
		var got []string
		for _, f := range pods[pod(name)].Failures {
			got = append(got, f.Stage+"/"+f.Reason)
		}
		if fmt.Sprint(sorted(got)) != fmt.Sprint(sorted(w)) {
			t.Errorf("v=%d: %s failures %v, want %v", n.v, name, got, w)
		}
	}
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
