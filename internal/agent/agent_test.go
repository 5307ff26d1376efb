package agent_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/podstart/podstart/internal/agent"
	"github.com/podstart/podstart/internal/event"
	"github.com/podstart/podstart/internal/journal"
	"github.com/podstart/podstart/internal/journaltest"
	"github.com/podstart/podstart/internal/metrics"
	"github.com/podstart/podstart/internal/timeline"
)

var podMatches = []journal.Match{
	{Field: "_SYSTEMD_UNIT", Value: "kubelet.service"},
	{Field: "_SYSTEMD_UNIT", Value: "containerd.service"},
	{Field: "SYSLOG_IDENTIFIER", Value: "kubenswrapper"},
}

// harness is an agent wired as node-agent wires it, with a timeline whose
// observations are counted.
type harness struct {
	reg *prometheus.Registry
	tl  *timeline.Timeline
	obs *countingObserver
	a   *agent.Agent
}

func newHarness(t *testing.T, cfg agent.Config) *harness {
	t.Helper()
	reg := prometheus.NewRegistry()
	obs := &countingObserver{Observer: metrics.NewSink(reg, metrics.Options{}), totals: map[string]int{}}
	var tlObs timeline.Observer = obs
	if cfg.StateFile != "" {
		// As node-agent serves: a restart replays, Dedup drops repeats.
		cfg.Dedup = agent.NewDedup(obs)
		tlObs = cfg.Dedup
	}
	// A replayed journal holds all its history: nothing expires.
	tl := timeline.New(timeline.Config{TTL: 100 * 365 * 24 * time.Hour, Settle: 5 * time.Second}, tlObs)
	h := metrics.NewHealth(reg, func() float64 { return float64(tl.Len()) })
	if cfg.Journal.Matches == nil {
		cfg.Journal.Matches = podMatches
	}
	// Whatever the agent keeps of a line must be its own copy.
	cfg.Journal.Scribble = true
	return &harness{reg: reg, tl: tl, obs: obs, a: agent.New(cfg, tl, h)}
}

// readOnce runs ReadOnce and fails the test if it errs or takes more than
// 30 s (a stall).
func (h *harness) readOnce(t *testing.T) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- h.a.ReadOnce(context.Background()) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("ReadOnce: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("ReadOnce did not finish within 30s")
	}
}

// countingObserver counts each pod's node and ready totals.
type countingObserver struct {
	timeline.Observer
	mu     sync.Mutex
	totals map[string]int // "scope pod" → count
}

func (c *countingObserver) Total(s timeline.Scope, d time.Duration, pod event.PodRef) {
	c.mu.Lock()
	c.totals[string(s)+" "+pod.Key()]++
	c.mu.Unlock()
	c.Observer.Total(s, d, pod)
}

func (c *countingObserver) count(s timeline.Scope, pod string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.totals[string(s)+" "+pod]
}

// metric returns the value of a counter or gauge with the given labels
// (all of them), or 0 when there is no such series.
func (h *harness) metric(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
						found = true
					}
				}
				if !found {
					continue next
				}
			}
			switch {
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue()
			}
		}
	}
	return 0
}

// lines returns podstart_log_lines_total by result for a unit.
func (h *harness) lines(t *testing.T, unit string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, r := range []string{"recognised", "unrecognised", "malformed", "continuation"} {
		if v := h.metric(t, "podstart_log_lines_total", "unit", unit, "result", r); v > 0 {
			out[r] = v
		}
	}
	return out
}

// checkAccounted checks that every entry read is counted once in
// podstart_log_lines_total: as a line's outcome or as a continuation. The
// agent does not count an entry with an empty MESSAGE as a line (it has no
// text to parse); empty says how many such entries the unit has.
func (h *harness) checkAccounted(t *testing.T, unit string, empty int) {
	t.Helper()
	read := h.metric(t, "podstart_journal_entries_read_total", "unit", unit)
	var sum float64
	for _, v := range h.lines(t, unit) {
		sum += v
	}
	if read == 0 || (sum != read && sum != read-float64(empty)) {
		t.Errorf("%s: %v entries read (%d empty), but log_lines_total sums to %v: %v", unit, read, empty, sum, h.lines(t, unit))
	}
}

func (h *harness) pods(filter string) []timeline.PodView { return h.tl.Snapshot(filter) }

func (h *harness) pod(t *testing.T, key string) timeline.PodView {
	t.Helper()
	ps := h.pods(key)
	if len(ps) != 1 {
		var names []string
		for _, p := range h.pods("") {
			names = append(names, p.Namespace+"/"+p.Name+" ("+p.State+")")
		}
		t.Fatalf("pod %s: %d in the timeline; it holds %v", key, len(ps), names)
	}
	return ps[0]
}

func failures(p timeline.PodView) []string {
	var out []string
	for _, f := range p.Failures {
		out = append(out, fmt.Sprintf("%s %s %s x%d", f.Stage, f.Reason, f.Container, f.Count))
	}
	slices.Sort(out)
	return out
}

// recorded returns the kubelet and containerd entries of a recording.
func recorded(t *testing.T, name string) []journaltest.Entry {
	t.Helper()
	var out []journaltest.Entry
	for _, e := range journaltest.MustRecording(t, name) {
		switch e.Fields["_SYSTEMD_UNIT"] {
		case "kubelet.service", "containerd.service":
			out = append(out, e)
		}
	}
	return out
}

// TestRecording replays the realnode-basic recording: three static pods,
// as its README describes them.
func TestRecording(t *testing.T) {
	dir := t.TempDir()
	journaltest.Write(t, dir, journaltest.MustRecording(t, "realnode-basic"))
	h := newHarness(t, agent.Config{Journal: journal.Config{Path: dir}})
	h.readOnce(t)

	if got := h.metric(t, "podstart_journal_entries_read_total", "unit", "kubelet.service"); got != 596 {
		t.Errorf("kubelet entries read: %v, want 596", got)
	}
	if got := h.metric(t, "podstart_journal_entries_read_total", "unit", "containerd.service"); got != 272 {
		t.Errorf("containerd entries read: %v, want 272", got)
	}
	// The "Effective KubeletConfiguration" config=< value: 107 YAML lines and
	// the closing " >", joined to its first line.
	if got := h.lines(t, "kubelet.service")["continuation"]; got != 108 {
		t.Errorf("kubelet continuations: %v, want 108", got)
	}
	h.checkAccounted(t, "kubelet.service", 0)
	h.checkAccounted(t, "containerd.service", 0)

	web := h.pod(t, "default/web-vm")
	if web.UID != "37ce7e5d26922d1f0d4b9c2642f91cc9" || web.State != "ready" {
		t.Errorf("web-vm: uid %s, state %s", web.UID, web.State)
	}
	if got, want := failures(web), []string{"readiness ReadinessProbeFailed httpd x2"}; !slices.Equal(got, want) {
		t.Errorf("web-vm failures %v, want %v", got, want)
	}
	h.pod(t, "default/pair-vm")
	missing := h.pod(t, "default/missing-image-vm")
	if len(missing.Failures) == 0 {
		t.Error("missing-image-vm has no failure")
	}
	for _, p := range []string{"default/web-vm", "default/pair-vm"} {
		if n := h.obs.count(timeline.ScopeNode, p); n != 1 {
			t.Errorf("%s: node total observed %d times, want 1", p, n)
		}
	}
}

// multiLine returns a klog line split as journald stores it: the line
// ending in key=<, each value line tab-indented, and the closing " >" with
// what follows it.
func multiLine(first string, key string, value []string, after string) []string {
	out := []string{first + " " + key + "=<"}
	for _, v := range value {
		out = append(out, "\t"+v)
	}
	return append(out, " >"+after)
}

// TestMultiLine: klog multi-line values, stored as one entry per physical
// line, are joined per process even when another process's lines come in
// between, and the joined line is parsed.
func TestMultiLine(t *testing.T) {
	rec := recorded(t, "realnode-basic")
	var entries []journaltest.Entry
	other := journaltest.Service("kubelet.service", 17777, "kubelet", "/usr/local/bin/kubelet", "kubelet-plugin")
	probes, conts := 0, 0
	for _, e := range rec {
		msg := e.Message()
		if !strings.Contains(msg, `"Probe failed"`) {
			entries = append(entries, e)
			continue
		}
		// The recorded single-line output="…" becomes a multi-line value,
		// as the kubelet logs a probe's output with newlines; the lines of
		// containerd and of another kubelet.service process come between.
		head, _, ok := strings.Cut(msg, ` output="`)
		if !ok {
			t.Fatalf("unexpected probe line %q", msg)
		}
		probes++
		parts := multiLine(head, "output", []string{"HTTP probe failed with statuscode: 503", "<html><body>starting</body></html>", ""}, ` probeDetail="second try"`)
		k := journaltest.Kubelet(17689)
		c := journaltest.Containerd(17640)
		for i, p := range parts {
			at := e.Realtime.Add(time.Duration(i) * 10 * time.Microsecond)
			entries = append(entries, k.Entry(at, p))
			if i > 0 {
				conts++
			}
			switch i {
			case 0:
				entries = append(entries, c.Entry(at.Add(time.Microsecond), `time="2026-11-29T15:25:51.259900000Z" level=info msg="ImageUpdate event name:\"127.0.0.1:5000/busybox:1\" labels:{key:\"io.cri-containerd.image\" value:\"managed\"}"`))
			case 1:
				entries = append(entries, other.Entry(at.Add(time.Microsecond), `I1129 15:25:51.259950   17777 plugin.go:10] "Another process"`))
				// A continuation of the other process, which has no open value.
				entries = append(entries, other.Entry(at.Add(2*time.Microsecond), "\tstray continuation"))
			}
		}
	}
	if probes != 2 {
		t.Fatalf("%d probe lines in the recording, want 2", probes)
	}
	// An err=< value ending the kubelet's last line: flushed at the end of
	// the journal, though it never closes.
	last := rec[len(rec)-1].Realtime
	k := journaltest.Kubelet(17689)
	for i, p := range multiLine(`E1129 15:27:45.800000   17689 pod_workers.go:1338] "Error syncing pod, skipping"`, "err", []string{"failed to \"KillPodSandbox\":", "rpc error: code = Unavailable"}, "")[:3] {
		entries = append(entries, k.Entry(last.Add(time.Duration(i+1)*time.Millisecond), p))
	}

	dir := t.TempDir()
	journaltest.Write(t, dir, entries)
	h := newHarness(t, agent.Config{Journal: journal.Config{Path: dir}})
	h.readOnce(t)

	web := h.pod(t, "default/web-vm")
	if got, want := failures(web), []string{"readiness ReadinessProbeFailed httpd x2"}; !slices.Equal(got, want) {
		t.Errorf("web-vm failures %v, want %v", got, want)
	}
	for _, f := range web.Failures {
		if !strings.Contains(f.Message, "statuscode: 503") {
			t.Errorf("failure message %q lacks the joined probe output", f.Message)
		}
	}
	lines := h.lines(t, "kubelet.service")
	// 108 of the recording's config=< value, the probes' and the never
	// closed err=< value's (2), and one stray continuation per probe.
	if want := float64(108 + conts + 2 + probes); lines["continuation"] != want {
		t.Errorf("kubelet continuations %v, want %v", lines["continuation"], want)
	}
	h.checkAccounted(t, "kubelet.service", 0)
	h.checkAccounted(t, "containerd.service", 0)
}

// TestMalformed: a 1 MiB MESSAGE, invalid UTF-8, binary garbage, cut-off
// lines, an empty MESSAGE and a multi-line value that never closes neither
// crash nor stall the agent; each is counted, and the good lines after them
// are still used.
func TestMalformed(t *testing.T) {
	rec := recorded(t, "realnode-basic")
	start := rec[0].Realtime.Add(-10 * time.Second)
	k := journaltest.Kubelet(17689) // the PID of the good lines after it
	c := journaltest.Containerd(17640)
	at := func(i int) time.Time { return start.Add(time.Duration(i) * time.Millisecond) }
	bigValue := strings.Repeat(`{"NodeName":"vm","CgroupRoot":"/"},`, (1<<20)/34)
	entries := []journaltest.Entry{
		k.Entry(at(0), `I1129 15:25:32.000000   17689 container_manager_linux.go:278] "Creating Container Manager object based on Node Config" nodeConfig=[`+bigValue+`]`),
		c.Entry(at(1), `time="2026-11-29T15:25:32.001000000Z" level=info msg="`+strings.Repeat("loading plugin ", (1<<20)/15)+`"`),
		k.Entry(at(2), "I1129 15:25:32.002000   17689 kubelet.go:2760] \"SyncLoop ADD\" source=\"file\" pods=[\"default/bad-\xff\xfe-vm\"]"),
		k.Entry(at(3), "I1129 15:25:32.003000   17689 prober.go:123] \"Probe failed\" probeType=\"Readiness\" pod=\"default/web-vm\" output=\"\xc3\x28\""),
		k.Entry(at(4), "\x00\x01\x02\x7fbinary\x00garbage\xff\xfe\n\r"),
		c.Entry(at(5), "\x1b[31m\x00\x00\x00\x00\x00\x00\x00\x08"),
		k.Entry(at(6), "I1129 15:25:3"),
		k.Entry(at(7), `I1129 15:25:32.007000   17689 kubelet.go:2760] "SyncLoop ADD" source="file" pods=["default/tru`),
		c.Entry(at(8), `time="2026-11-29T15:25:32.008`+"\n"),
		c.Entry(at(9), `time="not a time" level=info msg="RunPodSandbox for name:\"x\" uid:\"`),
		k.Entry(at(10), ""),
		k.Entry(at(11), `E1129 15:25:32.011000   17689 reflector.go:205] "Failed to watch" err=<`),
	}
	// The open value above never gets its " >": 20,000 lines of 100 bytes,
	// twice logformat.MaxLine, until the kubelet's next line.
	for i := range 20000 {
		entries = append(entries, k.Entry(start.Add(12*time.Millisecond+time.Duration(i)*time.Microsecond), "\t"+strings.Repeat("y", 99)))
	}
	entries = append(entries, rec...)
	dir := t.TempDir()
	journaltest.Write(t, dir, entries)

	h := newHarness(t, agent.Config{Journal: journal.Config{Path: dir}})
	h.readOnce(t)

	t.Logf("kubelet lines: %v", h.lines(t, "kubelet.service"))
	t.Logf("containerd lines: %v", h.lines(t, "containerd.service"))
	if got := h.metric(t, "podstart_journal_entries_read_total", "unit", "kubelet.service"); got != float64(596+8+20000) {
		t.Errorf("kubelet entries read %v, want %v", got, 596+8+20000)
	}
	if got := h.metric(t, "podstart_journal_entries_read_total", "unit", "containerd.service"); got != float64(272+4) {
		t.Errorf("containerd entries read %v, want %v", got, 272+4)
	}
	if got := h.lines(t, "kubelet.service")["continuation"]; got < 20000+108 {
		t.Errorf("kubelet continuations %v, want at least %v", got, 20000+108)
	}
	if got := h.lines(t, "kubelet.service")["malformed"] + h.lines(t, "containerd.service")["malformed"]; got == 0 {
		t.Error("no line counted as malformed")
	}
	h.checkAccounted(t, "kubelet.service", 1)
	h.checkAccounted(t, "containerd.service", 0)

	// The good lines after the garbage: as in TestRecording.
	web := h.pod(t, "default/web-vm")
	if web.UID != "37ce7e5d26922d1f0d4b9c2642f91cc9" || web.State != "ready" {
		t.Errorf("web-vm: uid %s, state %s", web.UID, web.State)
	}
	if got, want := failures(web), []string{"readiness ReadinessProbeFailed httpd x2"}; !slices.Equal(got, want) {
		t.Errorf("web-vm failures %v, want %v", got, want)
	}
	pair := h.pod(t, "default/pair-vm")
	if len(pair.Containers) != 2 {
		t.Errorf("pair-vm has %d containers, want 2", len(pair.Containers))
	}
	for _, p := range []string{"default/web-vm", "default/pair-vm"} {
		if n := h.obs.count(timeline.ScopeNode, p); n != 1 {
			t.Errorf("%s: node total observed %d times, want 1", p, n)
		}
	}
}
