// Package integration runs podstart against a real container runtime: the
// test stack in test/stack (containerd with the CRI plugin on its own socket,
// a loopback registry, journald). It needs root; `make test` installs the
// stack's parts and takes it down afterwards, also when a test fails.
package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/podstart/podstart/internal/agent"
	"github.com/podstart/podstart/internal/cri"
	"github.com/podstart/podstart/internal/event"
	"github.com/podstart/podstart/internal/journal"
	"github.com/podstart/podstart/internal/metrics"
	"github.com/podstart/podstart/internal/timeline"
)

var stackDir = filepath.Join("..", "stack")

func TestMain(m *testing.M) {
	code := m.Run()
	// Whatever happened, the stack goes down and undoes its host changes.
	if out, err := exec.Command(filepath.Join(stackDir, "down")).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "test/stack/down: %v\n%s", err, out)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// stack is a running test stack and its settings.
type stack struct {
	env map[string]string
}

// up brings the stack up with the given containerd variant ("2" or "1.6").
func up(t *testing.T, variant string) *stack {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("the CRI integration tests need root (cgroups, mounts, runc)")
	}
	for _, step := range [][]string{{"install"}, {"up"}} {
		cmd := exec.Command(filepath.Join(stackDir, step[0]), step[1:]...)
		cmd.Env = append(os.Environ(), "STACK_VARIANT="+variant, "STACK_JOURNAL=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("test/stack/%s (containerd %s): %v\n%s", step[0], variant, err, out)
		}
	}
	out, err := exec.Command("bash", "-c", ". "+filepath.Join(stackDir, "env")+" && env | grep ^STACK_").Output()
	if err != nil {
		t.Fatalf("reading test/stack/env: %v", err)
	}
	s := &stack{env: map[string]string{}}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			s.env[k] = v
		}
	}
	if s.env["STACK_VARIANT"] != variant {
		t.Fatalf("stack variant %q, want %q", s.env["STACK_VARIANT"], variant)
	}
	return s
}

func (s *stack) crictl(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(s.env["STACK_CRICTL"], append([]string{"--runtime-endpoint", s.env["STACK_CRI_ENDPOINT"], "--image-endpoint", s.env["STACK_CRI_ENDPOINT"], "--timeout", "60s"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("crictl %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// crictlErr runs crictl expecting it to fail.
func (s *stack) crictlErr(args ...string) error {
	cmd := exec.Command(s.env["STACK_CRICTL"], append([]string{"--runtime-endpoint", s.env["STACK_CRI_ENDPOINT"], "--image-endpoint", s.env["STACK_CRI_ENDPOINT"], "--timeout", "60s"}, args...)...)
	return cmd.Run()
}

// pod starts a host-network sandbox labelled as the kubelet labels its
// pods, and returns its ID.
func (s *stack) pod(t *testing.T, ns, name, uid string) (sandboxID, podJSON string) {
	t.Helper()
	dir := t.TempDir()
	cfg := map[string]any{
		"metadata":      map[string]any{"name": name, "namespace": ns, "uid": uid, "attempt": 0},
		"labels":        map[string]string{"io.kubernetes.pod.name": name, "io.kubernetes.pod.namespace": ns, "io.kubernetes.pod.uid": uid},
		"log_directory": filepath.Join(dir, "logs"),
		"linux": map[string]any{
			"cgroup_parent":    s.env["STACK_CGROUP_PARENT"],
			"security_context": map[string]any{"namespace_options": map[string]any{"network": 2, "pid": 1, "ipc": 0}},
		},
	}
	podJSON = filepath.Join(dir, "pod.json")
	writeJSON(t, podJSON, cfg)
	return s.crictl(t, "runp", podJSON), podJSON
}

// container creates and starts a container in a sandbox; pull says whether
// crictl pulls the image first (as the kubelet does for Always).
func (s *stack) container(t *testing.T, sandboxID, podJSON, ns, pod, uid, name, image string, pull bool) string {
	t.Helper()
	if pull {
		s.crictl(t, "pull", image)
	}
	cfg := map[string]any{
		"metadata": map[string]any{"name": name},
		"image":    map[string]any{"image": image},
		"command":  []string{"/bin/sh", "-c", "sleep 3600"},
		"labels":   map[string]string{"io.kubernetes.container.name": name, "io.kubernetes.pod.name": pod, "io.kubernetes.pod.namespace": ns, "io.kubernetes.pod.uid": uid},
		"log_path": name + ".log",
		"linux":    map[string]any{},
	}
	path := filepath.Join(t.TempDir(), "ctr.json")
	writeJSON(t, path, cfg)
	id := s.crictl(t, "create", sandboxID, path, podJSON)
	s.crictl(t, "start", id)
	return id
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, _ := json.Marshal(v)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// inspect returns the CRI's own timestamps of a container: created and
// started, in Unix ns.
func (s *stack) inspect(t *testing.T, id string) (created, started time.Time) {
	t.Helper()
	var v struct {
		Status struct{ CreatedAt, StartedAt time.Time }
	}
	if err := json.Unmarshal([]byte(s.crictl(t, "inspect", "-o", "json", id)), &v); err != nil {
		t.Fatal(err)
	}
	return v.Status.CreatedAt, v.Status.StartedAt
}

func (s *stack) inspectp(t *testing.T, id string) time.Time {
	t.Helper()
	var v struct {
		Status struct{ CreatedAt time.Time }
	}
	if err := json.Unmarshal([]byte(s.crictl(t, "inspectp", "-o", "json", id)), &v); err != nil {
		t.Fatal(err)
	}
	return v.Status.CreatedAt
}

// running is an agent following the stack's journal and CRI socket.
type running struct {
	tl     *timeline.Timeline
	reg    *prometheus.Registry
	a      *agent.Agent
	obs    *counter
	cancel context.CancelFunc
	done   chan struct{}
}

// counter counts observations per stage and pod, to prove exactly-once.
type counter struct {
	timeline.Observer
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) Stage(st timeline.Stage, d time.Duration, p event.PodRef) {
	c.mu.Lock()
	c.n[string(st)+" "+p.Key()]++
	c.mu.Unlock()
	c.Observer.Stage(st, d, p)
}

func (c *counter) Total(sc timeline.Scope, d time.Duration, p event.PodRef) {
	c.mu.Lock()
	c.n[string(sc)+" "+p.Key()]++
	c.mu.Unlock()
	c.Observer.Total(sc, d, p)
}

func (c *counter) get(k string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[k]
}

func startAgent(t *testing.T, s *stack, forcePoll bool) *running {
	t.Helper()
	r := newAgent(t, s, forcePoll)
	waitFor(t, 20*time.Second, "the agent to be ready", func() bool { return r.a.Ready() == nil })
	return r
}

// startAgentNotReady starts the agent without waiting for its sources.
func startAgentNotReady(t *testing.T, s *stack) *running {
	t.Helper()
	return newAgent(t, s, false)
}

func newAgent(t *testing.T, s *stack, forcePoll bool) *running {
	t.Helper()
	return newAgentWith(t, s, forcePoll, 500*time.Millisecond)
}

func newAgentWith(t *testing.T, s *stack, forcePoll bool, poll time.Duration) *running {
	t.Helper()
	reg := prometheus.NewRegistry()
	obs := &counter{Observer: metrics.NewSink(reg, metrics.Options{}), n: map[string]int{}}
	tl := timeline.New(timeline.Config{Settle: 2 * time.Second, AwaitCRI: poll + time.Second}, obs)
	h := metrics.NewHealth(reg, func() float64 { return float64(tl.Len()) })
	since := time.Now().Add(-time.Second)
	a := agent.New(agent.Config{
		Journal: journal.Config{
			Matches: []journal.Match{{Field: "_SYSTEMD_UNIT", Value: "containerd.service"}},
			Since:   since,
		},
		RetryInterval: 200 * time.Millisecond,
		CRI:           &cri.Config{Endpoint: s.env["STACK_CRI_ENDPOINT"], PollInterval: poll, CallTimeout: 5 * time.Second, Since: since, ForcePoll: forcePoll},
		CRIHealth:     metrics.NewCRIHealth(reg),
	}, tl, h)
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{tl: tl, reg: reg, a: a, obs: obs, cancel: cancel, done: make(chan struct{})}
	go func() { _ = a.Run(ctx); close(r.done) }()
	t.Cleanup(r.stop)
	return r
}

func (r *running) stop() {
	r.cancel()
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
	}
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (r *running) pod(key string) (timeline.PodView, bool) {
	for _, p := range r.tl.Snapshot(key) {
		return p, true
	}
	return timeline.PodView{}, false
}

func (r *running) metric(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := r.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	// The sum over every series that has the given labels.
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue next
				}
			}
			switch {
			case m.GetCounter() != nil:
				sum += m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				sum += m.GetGauge().GetValue()
			}
		}
	}
	return sum
}
