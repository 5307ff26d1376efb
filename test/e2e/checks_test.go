//go:build e2e

package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/podstart/podstart/internal/timeline"
)

// accuracy collects, per comparison, the largest difference seen; with
// PODSTART_E2E_ACCURACY set, TestMain writes them there as a Markdown table.
var accuracy = map[string]*diffStat{}

type diffStat struct {
	n   int
	max float64
}

func record(what string, v int, agent, ref float64) {
	key := fmt.Sprintf("%s | %d", what, v)
	d := accuracy[key]
	if d == nil {
		d = &diffStat{}
		accuracy[key] = d
	}
	d.n++
	if diff := agent - ref; diff > d.max || -diff > d.max {
		if diff < 0 {
			diff = -diff
		}
		d.max = diff
	}
}

// checkAgainstReferences compares what the agent says with what the
// kubelet, containerd, the CRI and Prometheus say.
func checkAgainstReferences(t *testing.T, n *node, pod func(string) string) {
	pods := n.agentPods(t)
	names := []string{"s1-web", "s2-cached", "s3-pair", "s4-missing", "s5-crash", "s6-nofile", "s8-removed"}
	for i := 0; i < 20; i++ {
		names = append(names, fmt.Sprintf("s7-burst-%02d", i))
	}
	healthy := []string{"s1-web", "s2-cached", "s3-pair", "s7-burst-00"}
	if n.v == nodeV {
		names = append(names, "s9-oom", "s10-unready", "s11-restart-a", "s11-restart-b", "s11-restart-c", "s12-after")
		healthy = append(healthy, "s11-restart-a", "s11-restart-b", "s11-restart-c", "s12-after")
	}
	for _, name := range names {
		if _, ok := pods[pod(name)]; !ok {
			t.Errorf("v=%d: pod %s missing from the agent's /pods", n.v, pod(name))
		}
	}
	if t.Failed() {
		return
	}

	t.Run("stages-by-verbosity", func(t *testing.T) {
		s1 := pods[pod("s1-web")]
		for _, st := range []string{"sandbox", "node", "volumes", "init_containers"} {
			if _, ok := s1.Stages[st]; !ok {
				t.Errorf("v=%d: s1 has no %s stage: %v", n.v, st, s1.Stages)
			}
		}
		// Readiness needs the kubelet's probe lines (V1).
		_, hasReady := s1.Stages["ready"]
		if hasReady != (n.v >= 1) {
			t.Errorf("v=%d: s1 ready total present=%v", n.v, hasReady)
		}
		for _, c := range []struct{ pod, ctr, pull string }{
			{"s1-web", "init-data", "pulled"}, {"s1-web", "web", "pulled"},
			{"s2-cached", "app", "cached"}, {"s3-pair", "app", "cached"}, {"s3-pair", "data", "pulled"},
		} {
			cv, ok := container(pods[pod(c.pod)], c.ctr)
			if !ok {
				t.Errorf("v=%d: %s/%s missing", n.v, c.pod, c.ctr)
				continue
			}
			if cv.Pull != c.pull || cv.CreateSeconds == nil || cv.StartSeconds == nil {
				t.Errorf("v=%d: %s/%s: pull %q create %v start %v", n.v, c.pod, c.ctr, cv.Pull, cv.CreateSeconds, cv.StartSeconds)
			}
		}
		if cv, _ := container(pods[pod("s1-web")], "init-data"); !cv.Init {
			t.Errorf("v=%d: s1's init container not recognised as one", n.v)
		}
		if cv, _ := container(pods[pod("s3-pair")], "data"); cv.ImageSize < 30<<20 {
			t.Errorf("v=%d: bigdata's size %d", n.v, cv.ImageSize)
		}
	})

	t.Run("counts-equal-pods", func(t *testing.T) {
		metrics := n.agentMetrics(t)
		withNode, starts := 0, 0
		for _, p := range pods {
			if _, ok := p.Stages["node"]; ok {
				withNode++
			}
			for _, c := range p.Containers {
				if c.StartSeconds != nil {
					starts++
				}
			}
		}
		record("node totals observed vs pods with all containers started", n.v, metrics[`podstart_pod_startup_duration_seconds_count{scope="node"}`], float64(withNode))
		if got := metrics[`podstart_pod_startup_duration_seconds_count{scope="node"}`]; int(got) != withNode || withNode < 23 {
			t.Errorf("v=%d: node total observed %v times, %d pods have one (want at least 23)", n.v, got, withNode)
		}
		if got := metrics[`podstart_stage_duration_seconds_count{stage="container_start"}`]; int(got) != starts {
			t.Errorf("v=%d: container_start observed %v times for %d started containers", n.v, got, starts)
		}
	})

	t.Run("cri-ends-equal-crictl-inspect", func(t *testing.T) {
		for _, c := range []struct{ pod, ctr string }{{"s1-web", "init-data"}, {"s1-web", "web"}, {"s3-pair", "data"}, {"s7-burst-07", "app"}} {
			cv, _ := container(pods[pod(c.pod)], c.ctr)
			var v struct {
				Status struct{ CreatedAt, StartedAt time.Time }
			}
			out, err := exec.Command(n.env["STACK_CRICTL"], "--runtime-endpoint", n.env["STACK_CRI_ENDPOINT"], "inspect", "-o", "json", cv.ID).Output()
			if err != nil || json.Unmarshal(out, &v) != nil {
				t.Errorf("crictl inspect %s: %v", cv.ID, err)
				continue
			}
			record("container created vs crictl inspect (s)", n.v, float64(cv.Intervals["container_create"].End.UnixNano())/1e9, float64(v.Status.CreatedAt.UnixNano())/1e9)
			record("container started vs crictl inspect (s)", n.v, float64(cv.Intervals["container_start"].End.UnixNano())/1e9, float64(v.Status.StartedAt.UnixNano())/1e9)
			if got := cv.Intervals["container_create"]; !got.End.Equal(v.Status.CreatedAt) || got.EndSource != "cri" {
				t.Errorf("v=%d: %s/%s created %s (%s), crictl says %s", n.v, c.pod, c.ctr, got.End, got.EndSource, v.Status.CreatedAt)
			}
			if got := cv.Intervals["container_start"]; !got.End.Equal(v.Status.StartedAt) || got.EndSource != "cri" {
				t.Errorf("v=%d: %s/%s started %s (%s), crictl says %s", n.v, c.pod, c.ctr, got.End, got.EndSource, v.Status.StartedAt)
			}
		}
	})

	t.Run("pulls-agree-with-containerd-and-kubelet", func(t *testing.T) {
		pulls := n.containerdPulls(t)
		busy, big := pulls[n.env["STACK_IMAGE_BUSYBOX"]], pulls[n.env["STACK_IMAGE_BIGDATA"]]
		if len(busy) < 2 || len(big) < 1 {
			t.Fatalf("containerd's PullImage lines: busybox %v bigdata %v", busy, big)
		}
		for _, c := range []struct {
			pod, ctr string
			want     float64
		}{{"s1-web", "init-data", busy[0]}, {"s1-web", "web", busy[1]}, {"s3-pair", "data", big[0]}} {
			cv, _ := container(pods[pod(c.pod)], c.ctr)
			if cv.PullSeconds != nil {
				record("image pull vs containerd's PullImage lines (s)", n.v, *cv.PullSeconds, c.want)
			}
			if cv.PullSeconds == nil || !near(*cv.PullSeconds, c.want, 0.001) {
				t.Errorf("v=%d: %s/%s pull %v s, containerd's lines say %.6f s", n.v, c.pod, c.ctr, deref(cv.PullSeconds), c.want)
			}
		}
		if n.v < 3 {
			return
		}
		// At v=3 the kubelet's own Pulled events: "in X" is its CRI call, in ms.
		events := n.kubeletPulled(t)
		for _, c := range []struct{ pod, ctr string }{{"s1-web", "init-data"}, {"s1-web", "web"}, {"s3-pair", "data"}} {
			cv, _ := container(pods[pod(c.pod)], c.ctr)
			k, ok := events[pod(c.pod)+"/"+c.ctr]
			if ok && cv.PullSeconds != nil {
				record("image pull vs the kubelet's Pulled event (s)", n.v, *cv.PullSeconds, k)
			}
			if !ok || cv.PullSeconds == nil || !near(*cv.PullSeconds, k, 0.005) {
				t.Errorf("v=3: %s/%s pull %v s, the kubelet's Pulled event says %v s (found %v)", c.pod, c.ctr, deref(cv.PullSeconds), k, ok)
			}
		}
	})

	t.Run("volume-mounts-agree-with-kubelet", func(t *testing.T) {
		if n.v < 1 {
			t.Logf("v=0: the kubelet logs no mount lines; no per-plugin mount durations (documented)")
			if got := n.agentMetrics(t)[`podstart_volume_mount_duration_seconds_count{plugin="kubernetes.io/empty-dir"}`]; got != 0 {
				t.Errorf("v=0: mount observations without mount lines: %v", got)
			}
			return
		}
		agent := n.agentMetrics(t)
		kubelet := n.kubeletMetrics(t)
		for _, plugin := range []string{"kubernetes.io/empty-dir", "kubernetes.io/host-path"} {
			a := agent[`podstart_volume_mount_duration_seconds_count{plugin="`+plugin+`"}`]
			k := kubelet[`storage_operation_duration_seconds_count{migrated="false",operation_name="volume_mount",status="success",volume_plugin="`+plugin+`"}`]
			record("volume mounts of "+plugin+" vs storage_operation_duration_seconds_count", n.v, a, k)
			if a != k || a == 0 {
				t.Errorf("v=%d: %s mounts: agent %v, kubelet %v", n.v, plugin, a, k)
			}
		}
	})

	t.Run("failures-agree-with-kubelet", func(t *testing.T) {
		kp := n.kubeletPods(t)
		// The registry says "not found": ImageNotFound, more specific
		// than the kubelet's ErrImagePull. At v=2 containerd was stopped
		// for 30 s (scenario 12) while s4 kept retrying: the kubelet's
		// last try may have been the image inspection that failed then,
		// ImageInspectError, until its next try (back-off up to 5 min);
		// the runtime outage is podstart's node-health signal, not a
		// failure of s4's own.
		okReasons := map[string]bool{"ErrImagePull": true, "ImagePullBackOff": true, "ImageInspectError": n.v == 2}
		if r := kp[pod("s4-missing")].waitingReason(); !okReasons[r] || !hasFailure(pods[pod("s4-missing")], "image_pull", "ImageNotFound") {
			t.Errorf("v=%d: s4 kubelet %q, agent %+v", n.v, r, pods[pod("s4-missing")].Failures)
		}
		// Between back-offs the container runs again for a moment: the
		// kubelet's state is CrashLoopBackOff or a restart after an exit 1.
		s5 := kp[pod("s5-crash")]
		crashing := s5.waitingReason() == "CrashLoopBackOff"
		for _, c := range s5.Status.ContainerStatuses {
			crashing = crashing || (c.RestartCount > 0 && c.LastState.Terminated != nil)
		}
		if !crashing || !hasFailure(pods[pod("s5-crash")], "container_start", "CrashLoopBackOff") {
			t.Errorf("v=%d: s5 kubelet %+v, agent %+v", n.v, s5.Status.ContainerStatuses, pods[pod("s5-crash")].Failures)
		}
		if p := kp[pod("s6-nofile")]; p.Status.Phase == "Running" || !hasFailure(pods[pod("s6-nofile")], "volumes", "FailedMount") {
			t.Errorf("v=%d: s6 kubelet phase %q, agent %+v", n.v, p.Status.Phase, pods[pod("s6-nofile")].Failures)
		}
		if p := pods[pod("s8-removed")]; p.State != "removed" {
			b, _ := json.Marshal(p)
			t.Errorf("v=%d: s8 state %q: %s", n.v, p.State, b)
		}
		exactFailures(t, n, pods, pod)
		for _, name := range healthy {
			for _, f := range pods[pod(name)].Failures {
				if f.Stage != "readiness" {
					t.Errorf("v=%d: a false failure on healthy %s: %+v", n.v, name, f)
				}
			}
		}
	})

	t.Run("stuck-gauges", func(t *testing.T) { checkStuckGauges(t, n, pod) })
	t.Run("restarts-by-reason", func(t *testing.T) { checkRestarts(t, n, pod) })
	t.Run("node-health", func(t *testing.T) {
		m := n.agentMetrics(t)
		starts := 1.0
		if n.v == nodeV {
			starts = 2 // scenario 11
		}
		if got := m["podstart_kubelet_starts_total"]; got != starts {
			t.Errorf("v=%d: kubelet starts %v, want %v", n.v, got, starts)
		}
		// As the runtime reports them (NetworkReady is false on the
		// stack: no pod network).
		for _, c := range []string{"RuntimeReady", "NetworkReady"} {
			if got, want := m[`podstart_cri_condition{condition="`+c+`"}`], n.criCondition(t, c); got != want {
				t.Errorf("v=%d: cri_condition %s = %v, crictl info says %v", n.v, c, got, want)
			}
		}
		// Only the containerd outage (scenario 12) may have made node
		// problems, and only runtime ones (checked there).
		for k, v := range m {
			if strings.HasPrefix(k, "podstart_node_problems_total{") && v != 0 && (n.v != nodeV || !strings.Contains(k, "runtime")) {
				t.Errorf("v=%d: %s %v on a healthy node", n.v, k, v)
			}
		}
	})

	t.Run("prometheus", func(t *testing.T) {
		// A scrape after the last observation.
		time.Sleep(2 * time.Second)
		q := `histogram_quantile(0.5, sum by (le) (podstart_stage_duration_seconds_bucket{stage="container_start"}))`
		var res struct {
			Status string
			Data   struct {
				Result []struct {
					Value [2]any
				}
			}
		}
		b, code := get(n.prom + "/api/v1/query?query=" + url.QueryEscape(q))
		if code != 200 || json.Unmarshal(b, &res) != nil || len(res.Data.Result) != 1 {
			t.Fatalf("v=%d: %s: %d %s", n.v, q, code, b)
		}
		med, _ := strconv.ParseFloat(fmt.Sprint(res.Data.Result[0].Value[1]), 64)
		if !(med > 0.001 && med < 5) {
			t.Errorf("v=%d: median container start %v s", n.v, med)
		}
		var ex struct {
			Data []struct {
				Exemplars []struct {
					Labels map[string]string
				}
			}
		}
		end := time.Now()
		b, code = get(n.prom + "/api/v1/query_exemplars?query=" + url.QueryEscape(`podstart_stage_duration_seconds_bucket{stage="sandbox"}`) +
			fmt.Sprintf("&start=%d&end=%d", n.started.Unix(), end.Unix()+1))
		if code != 200 || json.Unmarshal(b, &ex) != nil {
			t.Fatalf("v=%d: exemplars: %d %s", n.v, code, b)
		}
		found := false
		for _, s := range ex.Data {
			for _, e := range s.Exemplars {
				if strings.HasPrefix(e.Labels["pod"], "default/s") && e.Labels["uid"] != "" {
					found = true
				}
			}
		}
		if !found {
			t.Errorf("v=%d: no exemplar naming a scenario pod: %s", n.v, b)
		}
		checkDashboard(t, n)
	})
}

func container(p timeline.PodView, name string) (timeline.ContainerView, bool) {
	for _, c := range p.Containers {
		if c.Name == name && c.Attempt == 0 {
			return c, true
		}
	}
	return timeline.ContainerView{}, false
}

func deref(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

var sample = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)`)

func parseText(b []byte) map[string]float64 {
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if m := sample.FindStringSubmatch(sc.Text()); m != nil {
			if f, err := strconv.ParseFloat(m[2], 64); err == nil {
				out[m[1]] = f
			}
		}
	}
	return out
}

func (n *node) agentMetrics(t *testing.T) map[string]float64 {
	b, code := get(n.agent + "/metrics")
	if code != 200 {
		t.Fatalf("agent /metrics: %d", code)
	}
	return parseText(b)
}

func (n *node) kubeletMetrics(t *testing.T) map[string]float64 {
	b, code := get(kubeletRO + "/metrics")
	if code != 200 {
		t.Fatalf("kubelet /metrics: %d", code)
	}
	return parseText(b)
}

// containerdPulls pairs containerd's `PullImage "x"` and `… returns image
// reference` lines since the node started: seconds per pull, per image, in
// order.
func (n *node) containerdPulls(t *testing.T) map[string][]float64 {
	out := run(t, "journalctl", "--no-pager", "-o", "cat", "_SYSTEMD_UNIT=containerd.service", "--since", "@"+fmt.Sprint(n.started.Unix()))
	start := regexp.MustCompile(`^time="([^"]+)" level=info msg="PullImage \\"([^\\]+)\\""$`)
	done := regexp.MustCompile(`^time="([^"]+)" level=info msg="PullImage \\"([^\\]+)\\" returns image reference`)
	open := map[string]time.Time{}
	pulls := map[string][]float64{}
	for _, line := range strings.Split(out, "\n") {
		if m := start.FindStringSubmatch(line); m != nil {
			ts, _ := time.Parse(time.RFC3339Nano, m[1])
			open[m[2]] = ts
		} else if m := done.FindStringSubmatch(line); m != nil {
			ts, _ := time.Parse(time.RFC3339Nano, m[1])
			if s, ok := open[m[2]]; ok {
				pulls[m[2]] = append(pulls[m[2]], ts.Sub(s).Seconds())
				delete(open, m[2])
			}
		}
	}
	return pulls
}

// kubeletPulled reads the kubelet's Pulled events (v=3): seconds of the
// first pull per pod/container.
func (n *node) kubeletPulled(t *testing.T) map[string]float64 {
	out := run(t, "journalctl", "--no-pager", "-o", "cat", "_SYSTEMD_UNIT=kubelet.service", "--since", "@"+fmt.Sprint(n.started.Unix()))
	re := regexp.MustCompile(`"Event occurred" object="default/([^"]+)" fieldPath="spec\.(?:init)?[cC]ontainers\{([^}]+)\}".* reason="Pulled" message="Successfully pulled image \\"[^\\]+\\" in ([0-9.]+[a-zµ]+) `)
	got := map[string]float64{}
	for _, line := range strings.Split(out, "\n") {
		if m := re.FindStringSubmatch(line); m != nil {
			d, err := time.ParseDuration(m[3])
			if _, seen := got[m[1]+"/"+m[2]]; err == nil && !seen {
				got[m[1]+"/"+m[2]] = d.Seconds()
			}
		}
	}
	return got
}

// saveRecording writes, when PODSTART_E2E_RECORD names a directory, what
// this run saw: the kubelet's and containerd's journal entries (as a journal
// file, via systemd-journal-remote), the CRI's view of every sandbox and
// container, the kubelet's /pods and /metrics, and the agent's /pods and
// /metrics.
func saveRecording(t *testing.T, n *node) {
	dir := os.Getenv("PODSTART_E2E_RECORD")
	if dir == "" {
		return
	}
	dir = filepath.Join(dir, fmt.Sprintf("v%d", n.v))
	if err := os.MkdirAll(filepath.Join(dir, "journal"), 0o755); err != nil {
		t.Fatal(err)
	}
	since := "@" + fmt.Sprint(n.started.Unix())
	sh := fmt.Sprintf("journalctl --no-pager -o export --since %s _SYSTEMD_UNIT=kubelet.service + _SYSTEMD_UNIT=containerd.service | /lib/systemd/systemd-journal-remote -o %s -",
		since, filepath.Join(dir, "journal", "node.journal"))
	run(t, "bash", "-c", sh)
	crictl := func(args ...string) string {
		return run(t, n.env["STACK_CRICTL"], append([]string{"--runtime-endpoint", n.env["STACK_CRI_ENDPOINT"]}, args...)...)
	}
	var pods, ctrs []json.RawMessage
	for _, id := range strings.Fields(crictl("pods", "-q")) {
		pods = append(pods, json.RawMessage(crictl("inspectp", "-o", "json", id)))
	}
	for _, id := range strings.Fields(crictl("ps", "-a", "-q")) {
		ctrs = append(ctrs, json.RawMessage(crictl("inspect", "-o", "json", id)))
	}
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pj, _ := json.MarshalIndent(pods, "", " ")
	cj, _ := json.MarshalIndent(ctrs, "", " ")
	write("cri-pods.json", pj)
	write("cri-containers.json", cj)
	b, _ := get(kubeletRO + "/pods")
	write("kubelet-pods.json", b)
	b, _ = get(kubeletRO + "/metrics")
	write("kubelet-metrics.txt", b)
	b, _ = get(n.agent + "/pods")
	write("agent-pods.json", b)
	b, _ = get(n.agent + "/metrics")
	write("agent-metrics.txt", b)
}
