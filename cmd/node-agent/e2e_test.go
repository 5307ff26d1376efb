package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podstart/podstart/internal/report"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// unpack extracts a recording's real journal files into a temporary
// directory and returns the journal directory.
func unpack(t *testing.T, rec string) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("tar", "--zstd", "-xf", filepath.Join("..", "..", "testdata", "recordings", rec, "journal.tar.zst"), "-C", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("unpacking %s (needs tar and zstd): %v: %s", rec, err, out)
	}
	return filepath.Join(dir, "journal")
}

type truth struct {
	Pods []struct {
		Namespace, Name, UID string
		Containers           []struct {
			Name      string
			Init      bool
			Attempt   int
			CreatedAt string `json:"created_at"`
			StartedAt string `json:"started_at"`
			Pull      *struct {
				DurationS float64 `json:"duration_s"`
			}
		}
	}
}

func reportJSON(t *testing.T, args ...string) report.Document {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := run(append([]string{"report", "--format", "json"}, args...), nil, &stdout, &stderr); code != 0 {
		t.Fatalf("report exited %d: %s", code, stderr.String())
	}
	var doc report.Document
	if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
		t.Fatalf("report JSON: %v\n%s", err, stdout.String())
	}
	return doc
}

// TestReportAgreesWithCRITruth replays each recorded node journal and checks
// the report against the recording's CRI ground truth: every pod with its
// UID, every container, its pull time within 1 ms (both come from
// containerd's own ns timestamps) or cached, create and start times within
// the journal's precision, and a failure for a pod that never created its
// container.
func TestReportAgreesWithCRITruth(t *testing.T) {
	for _, rec := range []string{"realnode-basic", "clusternode-basic"} {
		t.Run(rec, func(t *testing.T) {
			doc := reportJSON(t, "--journal.path", unpack(t, rec))
			var tr truth
			b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "recordings", rec, "truth.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &tr); err != nil {
				t.Fatal(err)
			}
			byName := map[string]int{}
			for i, p := range doc.Pods {
				byName[p.Namespace+"/"+p.Name] = i
			}
			for _, want := range tr.Pods {
				key := want.Namespace + "/" + want.Name
				i, ok := byName[key]
				if !ok {
					t.Errorf("pod %s not reported", key)
					continue
				}
				got := doc.Pods[i]
				if got.UID != want.UID {
					t.Errorf("%s: uid %q, want %q", key, got.UID, want.UID)
				}
				created := false
				for _, wc := range want.Containers {
					if wc.Attempt != 0 {
						continue
					}
					var gc *struct {
						pull   string
						secs   *float64
						init   bool
						create *float64
					}
					for _, c := range got.Containers {
						if c.Name == wc.Name && c.Attempt == 0 {
							gc = &struct {
								pull   string
								secs   *float64
								init   bool
								create *float64
							}{c.Pull, c.PullSeconds, c.Init, c.CreateSeconds}
						}
					}
					if gc == nil {
						t.Errorf("%s: container %s not reported", key, wc.Name)
						continue
					}
					if wc.CreatedAt != "" {
						created = true
						if gc.create == nil {
							t.Errorf("%s/%s: no create time", key, wc.Name)
						}
					}
					if gc.init != wc.Init {
						t.Errorf("%s/%s: init %v, want %v", key, wc.Name, gc.init, wc.Init)
					}
					switch {
					case wc.Pull != nil:
						if gc.pull != "pulled" || gc.secs == nil || math.Abs(*gc.secs-wc.Pull.DurationS) > 0.001 {
							t.Errorf("%s/%s: pull %q %v, want pulled in %.6fs", key, wc.Name, gc.pull, deref(gc.secs), wc.Pull.DurationS)
						}
					case wc.CreatedAt != "":
						if gc.pull != "cached" {
							t.Errorf("%s/%s: pull %q, want cached", key, wc.Name, gc.pull)
						}
					}
				}
				if !created && len(got.Failures) == 0 {
					t.Errorf("%s never created a container but has no failure", key)
				}
			}
		})
	}
}

func deref(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

// TestReportTrackerLine: with an API server the kubelet logs its own
// startup tracker line; the report carries its e2e and slo values.
func TestReportTrackerLine(t *testing.T) {
	doc := reportJSON(t, "--journal.path", unpack(t, "clusternode-basic"), "--pod", "default/web")
	if len(doc.Pods) != 1 {
		t.Fatalf("want 1 pod for --pod default/web, got %d", len(doc.Pods))
	}
	st := doc.Pods[0].Stages
	// From the journal: podStartE2EDuration="7.983302558s" podStartSLOduration=6.92557256
	if math.Abs(st["e2e"]-7.983302558) > 1e-9 || math.Abs(st["slo"]-6.92557256) > 1e-9 {
		t.Errorf("e2e %v slo %v", st["e2e"], st["slo"])
	}
}

func TestReportErrors(t *testing.T) {
	var stdout, stderr bytes.Buffer
	missing := filepath.Join(t.TempDir(), "nope")
	if code := run([]string{"report", "--journal.path", missing}, nil, &stdout, &stderr); code == 0 {
		t.Fatalf("report on a missing journal exited 0")
	}
	if !strings.Contains(stderr.String(), missing) {
		t.Errorf("the error does not name the path: %s", stderr.String())
	}
	stderr.Reset()
	if code := run([]string{"report", "--since", "yesterday-ish"}, nil, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "--since") {
		t.Errorf("bad --since: exit %d, %s", code, stderr.String())
	}
}

func TestParseCommand(t *testing.T) {
	in := strings.Join([]string{
		`Nov 29 15:25:47.360130 vm kubelet[17689]: I1129 15:25:47.360130   17689 kubelet.go:2760] "SyncLoop ADD" source="file" pods=["default/web-vm"]`,
		`time="2026-11-29T15:25:57.756071000Z" level=info msg="Pulled image \"127.0.0.1:5000/bigdata:1\" with image id \"sha256:fe8d\", repo tag \"127.0.0.1:5000/bigdata:1\", repo digest \"127.0.0.1:5000/bigdata@sha256:e3c3\", size \"68265641\" in 239.360757ms"`,
		"not a log line \xff\xfe",
		"",
	}, "\n")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"parse"}, strings.NewReader(in), &stdout, &stderr); code != 0 {
		t.Fatalf("parse exited %d: %s", code, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("want one output line per input line, got %d:\n%s", len(lines), stdout.String())
	}
	var a, b, c map[string]any
	for i, p := range []*map[string]any{&a, &b, &c} {
		if err := json.Unmarshal([]byte(lines[i]), p); err != nil {
			t.Fatal(err)
		}
	}
	if a["kind"] != "pod_add" || a["pod"] != "default/web-vm" || a["time"] == nil {
		t.Errorf("line 1: %v", a)
	}
	if b["kind"] != "image_pull_detail" || b["duration_seconds"] != 0.239360757 || b["image"] != "127.0.0.1:5000/bigdata:1" {
		t.Errorf("line 2: %v", b)
	}
	if c["kind"] != "unrecognised" {
		t.Errorf("line 3: %v", c)
	}
}

// buildAgent builds the node-agent binary once for the tests that run it.
func buildAgent(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "node-agent")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// volatile are metric families whose values depend on the machine or the
// moment, left out of the golden file. (podstart_stage_oldest_seconds grows
// with the wall clock in serve mode: checked by stuckAges instead.)
var volatile = regexp.MustCompile(`^(# (HELP|TYPE) )?(go_|process_|promhttp_|podstart_build_info|podstart_journal_lag_seconds|podstart_stage_oldest_seconds)`)

var oldestLine = regexp.MustCompile(`^podstart_stage_oldest_seconds\{stage="([a-z_]+)"\} (\S+)$`)

// stuckAges checks podstart_stage_oldest_seconds: at the end of
// realnode-basic no pod is in a stage (the pod whose image does not exist
// was removed at 15:27:42), so every stage has 0, in wall-clock time too.
func stuckAges(t *testing.T, text []byte) {
	t.Helper()
	seen := 0
	sc := bufio.NewScanner(bytes.NewReader(text))
	for sc.Scan() {
		m := oldestLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		seen++
		if m[2] != "0" {
			t.Errorf("oldest %s %s s, want 0: no pod is stuck", m[1], m[2])
		}
	}
	if seen != 6 {
		t.Errorf("%d podstart_stage_oldest_seconds series, want one per stage (6)", seen)
	}
}

// TestServeGoldenMetrics runs the agent in serve mode on a recorded node
// journal, as a node operator would, and compares /metrics with a golden
// file (-update rewrites it). It also checks the exemplars served through
// OpenMetrics negotiation, /pods, /readyz, promtool's lint, and that the
// state file holds the cursor after SIGTERM.
func TestServeGoldenMetrics(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatalf("promtool is needed (Debian package prometheus; .ci/run installs it): %v", err)
	}
	bin := buildAgent(t)
	jdir := unpack(t, "realnode-basic")
	addr := freeAddr(t)
	state := filepath.Join(t.TempDir(), "state.json")
	cmd := exec.Command(bin, "--journal.path", jdir, "--cri.endpoint", "none", "--web.listen-address", addr, "--since", "2026-11-29T00:00:00Z",
		"--timeline.ttl", "87600h", "--state.file", state, "--state.interval", "1s")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}()
	base := "http://" + addr
	var doc report.Document
	deadline := time.Now().Add(20 * time.Second)
	for {
		if time.Now().After(deadline) {
			t.Fatalf("the agent did not report the three pods settled in time; logs:\n%s", logs.String())
		}
		time.Sleep(200 * time.Millisecond)
		b, code := get(base+"/pods", "")
		if code != 200 || json.Unmarshal(b, &doc) != nil || len(doc.Pods) != 3 {
			continue
		}
		settled := 0
		for _, p := range doc.Pods {
			if _, ok := p.Stages["node"]; ok || p.State == "failing" || p.State == "removed" {
				settled++
			}
		}
		if settled == 3 {
			break
		}
	}
	if b, code := get(base+"/readyz", ""); code != 200 {
		t.Errorf("/readyz: %d %s", code, b)
	}
	text, code := get(base+"/metrics", "")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	lint := exec.Command(promtool, "check", "metrics")
	lint.Stdin = bytes.NewReader(text)
	if out, err := lint.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
	stuckAges(t, text)
	var kept []string
	sc := bufio.NewScanner(bytes.NewReader(text))
	for sc.Scan() {
		if !volatile.MatchString(sc.Text()) {
			kept = append(kept, sc.Text())
		}
	}
	got := strings.Join(kept, "\n") + "\n"
	golden := filepath.Join("testdata", "realnode-basic.metrics")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/node-agent -run TestServeGoldenMetrics -update)", err)
	}
	if got != string(want) {
		t.Errorf("/metrics differs from %s (-update rewrites it):\n%s", golden, diff(string(want), got))
	}
	om, _ := get(base+"/metrics", "application/openmetrics-text; version=1.0.0")
	ex := regexp.MustCompile(`(?m)^podstart_stage_duration_seconds_bucket\{stage="sandbox",le="0.25"\} 2 # \{(uid="37ce7e5d26922d1f0d4b9c2642f91cc9",pod="default/web-vm"|pod="default/web-vm",uid="37ce7e5d26922d1f0d4b9c2642f91cc9")\} 0\.104847268 `)
	if !ex.Match(om) {
		t.Errorf("no exemplar naming the pod on the sandbox histogram in the OpenMetrics exposition")
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("agent exit after SIGTERM: %v\n%s", err, logs.String())
	}
	var st struct{ Cursor string }
	b, err := os.ReadFile(state)
	if err != nil || json.Unmarshal(b, &st) != nil || !strings.HasPrefix(st.Cursor, "s=") {
		t.Errorf("state file after SIGTERM: %v %s", err, b)
	}
}

func get(url, accept string) ([]byte, int) {
	req, _ := http.NewRequest("GET", url, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, 0
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return b, resp.StatusCode
}

// diff lists the lines only in want (-) or only in got (+).
func diff(want, got string) string {
	w, g := map[string]bool{}, map[string]bool{}
	for _, l := range strings.Split(want, "\n") {
		w[l] = true
	}
	for _, l := range strings.Split(got, "\n") {
		g[l] = true
	}
	var out []string
	for l := range w {
		if !g[l] {
			out = append(out, "- "+l)
		}
	}
	for l := range g {
		if !w[l] {
			out = append(out, "+ "+l)
		}
	}
	sort.Strings(out)
	if len(out) > 40 {
		out = append(out[:40], fmt.Sprintf("… and %d more", len(out)-40))
	}
	return strings.Join(out, "\n")
}

// TestServeWaitsForMissingJournal: a journal that is not there yet is
// reported on /readyz and podstart_source_up, and retried; once it appears
// the agent reads it.
func TestServeWaitsForMissingJournal(t *testing.T) {
	bin := buildAgent(t)
	src := unpack(t, "realnode-basic")
	jdir := filepath.Join(t.TempDir(), "journal")
	addr := freeAddr(t)
	cmd := exec.Command(bin, "--journal.path", jdir, "--cri.endpoint", "none", "--web.listen-address", addr, "--since", "2026-11-29T00:00:00Z",
		"--timeline.ttl", "87600h", "--state.file", "", "--journal.retry-interval", "200ms")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	base := "http://" + addr
	var body []byte
	var code int
	for i := 0; i < 50; i++ {
		time.Sleep(100 * time.Millisecond)
		if body, code = get(base+"/readyz", ""); code != 0 {
			break
		}
	}
	if code != http.StatusServiceUnavailable || !strings.Contains(string(body), jdir) {
		t.Fatalf("/readyz with no journal: %d %q (want 503 naming %s)", code, body, jdir)
	}
	m, _ := get(base+"/metrics", "")
	if !strings.Contains(string(m), `podstart_source_up{source="journal"} 0`) {
		t.Errorf("podstart_source_up is not 0 while the journal is missing")
	}
	if err := os.Rename(src, jdir); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		if time.Now().After(deadline) {
			t.Fatalf("the agent did not pick up the journal once it appeared; logs:\n%s", logs.String())
		}
		time.Sleep(200 * time.Millisecond)
		var doc report.Document
		b, c := get(base+"/pods", "")
		if _, rc := get(base+"/readyz", ""); c == 200 && rc == 200 && json.Unmarshal(b, &doc) == nil && len(doc.Pods) == 3 {
			break
		}
	}
	if !strings.Contains(logs.String(), "journal source failed; retrying") {
		t.Errorf("the failure was not logged:\n%s", logs.String())
	}
}

// TestFailedAndStuckPods replays the three recordings and checks each pod's
// failures and the stage it is stuck in at the journal's end: the failing
// pods of e2e-node-v2 (a missing image, a crash loop, a missing hostPath
// file) show the stage, reason and message; no healthy pod beside them gets
// a failure or a stuck stage.
func TestFailedAndStuckPods(t *testing.T) {
	type want struct{ stage, reason string }
	for rec, stuck := range map[string]map[string]want{
		"e2e-node-v2": {
			"default/s4-missing-vm": {"image_pull", "ImagePullBackOff"},
			"default/s5-crash-vm":   {"container_start", "CrashLoopBackOff"},
			"default/s6-nofile-vm":  {"volumes", "FailedMount"},
		},
		"realnode-basic":    {},
		"clusternode-basic": {},
	} {
		t.Run(rec, func(t *testing.T) {
			doc := reportJSON(t, "--journal.path", unpack(t, rec), "--cri.endpoint", "none")
			if len(doc.Pods) < 3 {
				t.Fatalf("%d pods", len(doc.Pods))
			}
			for _, p := range doc.Pods {
				key := p.Namespace + "/" + p.Name
				w, failing := stuck[key]
				switch {
				case failing && p.Stuck == nil:
					t.Errorf("%s: not stuck, want %s", key, w.stage)
				case failing:
					if p.Stuck.Stage != w.stage || p.Stuck.Reason != w.reason || p.Stuck.Message == "" || p.Stuck.Seconds <= 0 {
						t.Errorf("%s: stuck %+v, want stage %s reason %s with the kubelet's message", key, *p.Stuck, w.stage, w.reason)
					}
				case p.Stuck != nil:
					t.Errorf("%s: a healthy pod reported stuck: %+v", key, *p.Stuck)
				}
				for _, f := range p.Failures {
					// The only failures of pods that started fine: a
					// readiness probe that failed before it passed, and
					// the missing image of the older recordings.
					if !failing && f.Reason != "ReadinessProbeFailed" && !strings.Contains(p.Name, "missing-image") {
						t.Errorf("%s: false failure %s %s: %s", key, f.Stage, f.Reason, f.Message)
					}
				}
			}
		})
	}
}

// TestReportSameThroughLibsystemd: the report of each recording is the same
// whether the journal files are read directly (report's default) or
// through libsystemd (--journal.libsystemd, serve's way).
func TestReportSameThroughLibsystemd(t *testing.T) {
	for _, rec := range []string{"realnode-basic", "clusternode-basic"} {
		dir := unpack(t, rec)
		direct := reportJSON(t, "--journal.path", dir)
		via := reportJSON(t, "--journal.path", dir, "--journal.libsystemd")
		if len(direct.Pods) == 0 {
			t.Fatalf("%s: no pods in the report", rec)
		}
		if !reflect.DeepEqual(direct, via) {
			t.Fatalf("%s: the reports differ:\ndirect:     %+v\nlibsystemd: %+v", rec, direct, via)
		}
	}
}
