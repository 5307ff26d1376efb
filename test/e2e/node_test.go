//go:build e2e

// Package e2e runs podstart on a real node: journald, containerd 2.4 and a
// kubelet v1.37.2 built from source (test/stack), with static pods dropped
// into the kubelet's manifest directory, and checks the agent's numbers
// against the kubelet's, containerd's and the CRI's own. A real Prometheus
// scrapes the agent meanwhile. It needs root; `make e2e` runs it, and the
// stack is taken down, undoing every host change, also when a test fails.
package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"
)

var stackDir, _ = filepath.Abs(filepath.Join("..", "stack"))

func TestMain(m *testing.M) {
	code := m.Run()
	if path := os.Getenv("PODSTART_E2E_ACCURACY"); path != "" {
		var b strings.Builder
		b.WriteString("| comparison | kubelet --v | checks | largest difference |\n|---|---|---|---|\n")
		keys := make([]string, 0, len(accuracy))
		for k := range accuracy {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "| %s | %d | %g |\n", k, accuracy[k].n, accuracy[k].max)
		}
		_ = os.WriteFile(path, []byte(b.String()), 0o644)
	}
	if out, err := exec.Command(filepath.Join(stackDir, "down")).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "test/stack/down: %v\n%s", err, out)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// node is the stack with a kubelet at one verbosity, the agent following it
// and a Prometheus scraping the agent.
type node struct {
	v        int
	env      map[string]string
	hostname string
	agent    string // base URL
	prom     string // base URL
	logs     *bytes.Buffer
	started  time.Time
	alerts   *alerting // nil unless the node was started with alerts
}

const kubeletRO = "http://127.0.0.1:10255"

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, out, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

func stackEnv(t *testing.T) map[string]string {
	t.Helper()
	out := run(t, "bash", "-c", ". "+filepath.Join(stackDir, "env")+" && env | grep ^STACK_")
	env := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			env[k] = v
		}
	}
	return env
}

var agentBin string

func buildAgent(t *testing.T) string {
	t.Helper()
	if agentBin != "" {
		return agentBin
	}
	dir, err := os.MkdirTemp("", "podstart-e2e-bin")
	if err != nil {
		t.Fatal(err)
	}
	agentBin = filepath.Join(dir, "node-agent")
	run(t, "go", "build", "-o", agentBin, "../../cmd/node-agent")
	return agentBin
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startNode brings the stack up with a kubelet at --v=v, starts the agent
// and Prometheus, and stops both (by PID) when the test ends. With alerts,
// Prometheus also evaluates the shipped alert rules (their for: shortened)
// and sends to a real Alertmanager (alerts_test.go).
func startNode(t *testing.T, v int, alerts bool) *node {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("the end-to-end tests need root (a kubelet, containerd, cgroups)")
	}
	run(t, filepath.Join(stackDir, "install"), "--kubelet")
	// A fresh node for each verbosity: no manifests, pods or images left
	// from an earlier run.
	run(t, filepath.Join(stackDir, "down"))
	run(t, filepath.Join(stackDir, "up"))
	n := &node{v: v, env: stackEnv(t), logs: &bytes.Buffer{}}
	// A cold image cache, so that first pulls are real.
	for _, img := range []string{n.env["STACK_IMAGE_BUSYBOX"], n.env["STACK_IMAGE_BIGDATA"]} {
		_ = exec.Command(n.env["STACK_CRICTL"], "--runtime-endpoint", n.env["STACK_CRI_ENDPOINT"], "rmi", img).Run()
	}
	n.started = time.Now()
	run(t, filepath.Join(stackDir, "kubelet"), "start", "--v", fmt.Sprint(v))
	t.Cleanup(func() { _ = exec.Command(filepath.Join(stackDir, "kubelet"), "stop").Run() })
	n.hostname = n.env["STACK_NODE_NAME"]
	if n.hostname == "" {
		t.Fatal("test/stack/env has no STACK_NODE_NAME")
	}

	addr := freePort(t)
	n.agent = "http://" + addr
	agent := exec.Command(buildAgent(t), "--web.listen-address", addr,
		"--since", n.started.Add(-time.Second).UTC().Format(time.RFC3339Nano),
		"--cri.endpoint", n.env["STACK_CRI_ENDPOINT"], "--cri.poll-interval", "1s",
		"--state.file", filepath.Join(t.TempDir(), "state.json"), "--timeline.settle", "3s")
	agent.Stdout, agent.Stderr = n.logs, n.logs
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop(agent) })

	promAddr := freePort(t)
	n.prom = "http://" + promAddr
	dir := t.TempDir()
	// The node label, as the PodMonitor of deploy/ sets it from the pod's
	// node: the alerts name the node by it.
	cfg := fmt.Sprintf("global: {scrape_interval: 1s, evaluation_interval: 1s}\nscrape_configs:\n- job_name: podstart\n  static_configs: [{targets: [%q], labels: {node: %q}}]\n", addr, n.hostname)
	if alerts {
		n.alerts = startAlerting(t, dir)
		cfg += n.alerts.promConfig()
	}
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	promBin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Fatalf("Debian's prometheus is needed (scripts/deps.sh installs it): %v", err)
	}
	prom := exec.Command(promBin, "--config.file", filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path", filepath.Join(dir, "data"),
		"--web.listen-address", promAddr, "--enable-feature=exemplar-storage")
	var promLogs bytes.Buffer
	prom.Stdout, prom.Stderr = &promLogs, &promLogs
	if err := prom.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop(prom)
		if t.Failed() {
			t.Logf("prometheus log tail:\n%s", tail(promLogs.String(), 2000))
			t.Logf("agent log tail:\n%s", tail(n.logs.String(), 4000))
		}
	})
	waitFor(t, 60*time.Second, "the kubelet, the agent and Prometheus", func() bool {
		_, a := get(n.agent + "/readyz")
		_, k := get("http://127.0.0.1:10248/healthz")
		_, p := get(n.prom + "/-/ready")
		return a == 200 && k == 200 && p == 200
	})
	return n
}

func stop(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func get(url string) ([]byte, int) {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return nil, 0
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return b, resp.StatusCode
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// drop writes a static pod manifest atomically into the kubelet's
// manifest directory.
func (n *node) drop(t *testing.T, name, manifest string) {
	t.Helper()
	f := filepath.Join(t.TempDir(), name+".yaml")
	if err := os.WriteFile(f, []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, filepath.Join(stackDir, "kubelet"), "drop", f)
}

func (n *node) remove(t *testing.T, name string) {
	t.Helper()
	run(t, filepath.Join(stackDir, "kubelet"), "remove", name)
}

// kubeletPod is what the kubelet's read-only /pods says of a pod.
type kubeletPod struct {
	Metadata struct{ Name, Namespace, UID string }
	Spec     struct {
		Volumes []struct{ Name string }
	}
	Status struct {
		Phase      string
		Conditions []struct{ Type, Status string }
		// Container states: waiting reason, running, terminated.
		InitContainerStatuses []containerStatus
		ContainerStatuses     []containerStatus
	}
}

type containerStatus struct {
	Name         string
	RestartCount int
	ContainerID  string
	ImageID      string
	State        struct {
		Waiting    *struct{ Reason, Message string }
		Running    *struct{ StartedAt string }
		Terminated *struct {
			Reason   string
			ExitCode int
		}
	}
	LastState struct {
		Terminated *struct{ Reason string }
	}
}

func (n *node) kubeletPods(t *testing.T) map[string]kubeletPod {
	t.Helper()
	b, code := get(kubeletRO + "/pods")
	if code != 200 {
		return nil
	}
	var list struct{ Items []kubeletPod }
	if err := json.Unmarshal(b, &list); err != nil {
		t.Fatalf("kubelet /pods: %v", err)
	}
	out := map[string]kubeletPod{}
	for _, p := range list.Items {
		out[p.Metadata.Name] = p
	}
	return out
}

func (p kubeletPod) ready() bool {
	for _, c := range p.Status.Conditions {
		if c.Type == "Ready" && c.Status == "True" {
			return true
		}
	}
	return false
}

// waitingReason returns the first waiting reason of the pod's containers.
func (p kubeletPod) waitingReason() string {
	for _, c := range append(p.Status.InitContainerStatuses, p.Status.ContainerStatuses...) {
		if c.State.Waiting != nil && c.State.Waiting.Reason != "" {
			return c.State.Waiting.Reason
		}
	}
	return ""
}
