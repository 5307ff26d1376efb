package logformat_test

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/podstart/podstart/internal/event"
	"github.com/podstart/podstart/internal/logformat"
)

// corpusLine is one line of testdata/kubelet-lines.jsonl, a verbatim copy of
// ../shared/corpus/kubelet-lines.jsonl: 215 real kubelet (and
// kubelet-adjacent) log lines from public sources, with a human label.
type corpusLine struct {
	Line    string `json:"line"`
	Source  string `json:"source"`
	Version string `json:"k8s_version"`
	Format  string `json:"format"`
	Event   string `json:"event"`
	Seq     string `json:"seq"`
	Notes   string `json:"notes"`
}

// expectation is one line of testdata/kubelet-lines.expect.jsonl, written by
// reading the corpus line it is keyed to (i), not by recording output.
//
// pod is "namespace/name" when the line names both, pod_name the name when
// it names no namespace; with neither, the line must name no pod. uid,
// container and reason must match exactly ("" when absent) on kubelet lines;
// the other fields are checked when present. duration_seconds and
// slo_seconds absent mean the line states none. runtime marks a container
// runtime's line interleaved in the same journal: its fields are checked
// only where given, as containerd.go is tested on its own. note says why the
// kind differs from the corpus label; remark explains a kind that agrees.
type expectation struct {
	I           int      `json:"i"`
	Label       string   `json:"label"`
	Kind        string   `json:"kind"`
	Outcome     string   `json:"outcome"`
	Pod         string   `json:"pod"`
	PodName     string   `json:"pod_name"`
	UID         string   `json:"uid"`
	Container   string   `json:"container"`
	ContainerID string   `json:"container_id"`
	SandboxID   string   `json:"sandbox_id"`
	Image       string   `json:"image"`
	Init        *bool    `json:"init"`
	Reason      string   `json:"reason"`
	Volume      string   `json:"volume"`
	Plugin      string   `json:"plugin"`
	Duration    *float64 `json:"duration_seconds"`
	SLO         *float64 `json:"slo_seconds"`
	ExitCode    *int     `json:"exit_code"`
	TimeOfDay   string   `json:"time_of_day"`
	Runtime     bool     `json:"runtime"`
	Note        string   `json:"note"`
	Remark      string   `json:"remark"`
}

func readJSONL[T any](t testing.TB, path string) []T {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("%s:%d: %v", path, n, err)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func loadCorpus(t testing.TB) ([]corpusLine, []expectation) {
	t.Helper()
	lines := readJSONL[corpusLine](t, "testdata/kubelet-lines.jsonl")
	exps := readJSONL[expectation](t, "testdata/kubelet-lines.expect.jsonl")
	if len(lines) != len(exps) {
		t.Fatalf("%d corpus lines, %d expectations", len(lines), len(exps))
	}
	for i := range exps {
		if exps[i].I != i {
			t.Fatalf("expectation %d is keyed %d", i, exps[i].I)
		}
		if exps[i].Label != lines[i].Event {
			t.Fatalf("expectation %d copies label %q, the corpus says %q", i, exps[i].Label, lines[i].Event)
		}
	}
	return lines, exps
}

// labelKinds maps each corpus label to the kinds that agree with it; any
// other kind needs a note in the expectation.
var labelKinds = map[string][]event.Kind{
	"sync_add":          {event.PodAdd},
	"pulling":           {event.ImagePullStart},
	"pulled":            {event.ImagePulled},
	"already_present":   {event.ImageCached},
	"pull_failed":       {event.ImagePullFailed},
	"pull_backoff":      {event.ImagePullBackOff},
	"mount_started":     {event.VolumeMountStarted, event.VolumeVerifyStarted},
	"mount_ok":          {event.VolumeMounted},
	"mount_failed":      {event.VolumeMountFailed},
	"sandbox_created":   {event.SandboxReady, event.ContainerStarted},
	"sandbox_failed":    {event.SandboxFailed},
	"container_created": {event.ContainerCreated},
	"container_started": {event.ContainerStarted},
	"probe_failed":      {event.ProbeFailed},
	"crashloop":         {event.ContainerBackOff},
	"startup_tracker":   {event.StartupTracker},
	"event_occurred":    {event.KubeEvent},
	"other":             {event.Unrecognised, event.KubeEvent, event.PodSyncError, event.KubeletStart, event.NodeProblem},
}

func TestCorpus(t *testing.T) {
	lines, exps := loadCorpus(t)
	for i, cl := range lines {
		exp := exps[i]
		agrees := false
		for _, k := range labelKinds[cl.Event] {
			agrees = agrees || string(k) == exp.Kind
		}
		if !agrees && exp.Note == "" {
			t.Errorf("line %d: kind %s differs from label %s without a note", i, exp.Kind, cl.Event)
		}
		res := logformat.Parse(cl.Line, time.Time{})
		checkResult(t, i, cl.Line, res)
		checkExpectation(t, i, cl.Line, res, exp)
	}
}

// checkResult asserts what holds for every line: an outcome of the three,
// a kind iff recognised.
func checkResult(t testing.TB, i int, line string, res logformat.Result) {
	t.Helper()
	switch res.Outcome {
	case logformat.Recognised:
		if res.Event.Kind == "" || res.Event.Kind == event.Unrecognised {
			t.Errorf("line %d: recognised with kind %q: %s", i, res.Event.Kind, line)
		}
	case logformat.Unrecognised:
		if res.Event.Kind != event.Unrecognised {
			t.Errorf("line %d: unrecognised with kind %q: %s", i, res.Event.Kind, line)
		}
	case logformat.Malformed:
		if res.Event.Kind == "" {
			t.Errorf("line %d: malformed with no kind: %s", i, line)
		}
	default:
		t.Errorf("line %d: outcome %d", i, res.Outcome)
	}
	// A header without a year is never placed in the future: these lines
	// were all written before the test ran.
	if res.Event.Time.After(time.Now().Add(25 * time.Hour)) {
		t.Errorf("line %d: time %v is in the future: %s", i, res.Event.Time, line)
	}
}

func checkExpectation(t *testing.T, i int, line string, res logformat.Result, exp expectation) {
	t.Helper()
	ev := res.Event
	errorf := func(format string, args ...any) {
		t.Helper()
		t.Errorf("line %d (%s): "+format+"\n\t%.300s", append([]any{i, exp.Label}, append(args, line)...)...)
	}
	if string(ev.Kind) != exp.Kind {
		errorf("kind %s, want %s", ev.Kind, exp.Kind)
		return
	}
	switch {
	case exp.Outcome != "":
		if res.Outcome.String() != exp.Outcome {
			errorf("outcome %s, want %s", res.Outcome, exp.Outcome)
		}
	case exp.Kind == string(event.Unrecognised):
		if res.Outcome == logformat.Recognised {
			errorf("outcome %s for an unrecognised line", res.Outcome)
		}
	default:
		if res.Outcome != logformat.Recognised {
			errorf("outcome %s, want recognised", res.Outcome)
		}
	}
	strict := !exp.Runtime
	str := func(name, got, want string) {
		t.Helper()
		if (strict || want != "") && got != want {
			errorf("%s %q, want %q", name, got, want)
		}
	}
	switch {
	case exp.PodName != "":
		if ev.Pod.Name != exp.PodName || ev.Pod.Namespace != "" {
			errorf("pod %q/%q, want name %q and no namespace", ev.Pod.Namespace, ev.Pod.Name, exp.PodName)
		}
	default:
		str("pod", ev.Pod.Key(), exp.Pod)
	}
	str("uid", ev.Pod.UID, exp.UID)
	str("container", ev.Container, exp.Container)
	str("reason", ev.Reason, exp.Reason)
	str("volume", ev.Volume, exp.Volume)
	str("plugin", ev.Plugin, exp.Plugin)
	if exp.ContainerID != "" && ev.ContainerID != exp.ContainerID {
		errorf("container ID %q, want %q", ev.ContainerID, exp.ContainerID)
	}
	if exp.SandboxID != "" && ev.SandboxID != exp.SandboxID {
		errorf("sandbox ID %q, want %q", ev.SandboxID, exp.SandboxID)
	}
	if exp.Image != "" && ev.Image != exp.Image {
		errorf("image %q, want %q", ev.Image, exp.Image)
	}
	if exp.Init != nil && ev.Init != *exp.Init {
		errorf("init %v, want %v", ev.Init, *exp.Init)
	}
	if exp.ExitCode != nil && (!ev.HasExit || ev.ExitCode != *exp.ExitCode) {
		errorf("exit %d (%v), want %d", ev.ExitCode, ev.HasExit, *exp.ExitCode)
	}
	checkSeconds := func(name string, has bool, got time.Duration, want *float64) {
		t.Helper()
		switch {
		case want == nil:
			if strict && has {
				errorf("%s %v stated, want none", name, got)
			}
		case !has:
			errorf("%s missing, want %v s", name, *want)
		case math.Abs(got.Seconds()-*want) > 1e-9*math.Max(1, math.Abs(*want)):
			errorf("%s %v, want %v s", name, got, *want)
		}
	}
	checkSeconds("duration", ev.HasDuration, ev.Duration, exp.Duration)
	checkSeconds("SLO", ev.HasSLO, ev.SLO, exp.SLO)
	if exp.TimeOfDay != "" {
		if got := ev.Time.UTC().Format("15:04:05.000000"); got != exp.TimeOfDay {
			errorf("time of day %s, want %s", got, exp.TimeOfDay)
		}
	}
}

// TestCorpusNoStartKindsFromOtherLines checks the rule behind the "other"
// label from the other side: a line the corpus calls context must not yield
// a kind that opens or advances a pod start, unless the expectation says
// why (a delete, an exit, a runtime line).
func TestCorpusNoStartKindsFromOtherLines(t *testing.T) {
	lines, exps := loadCorpus(t)
	for i, cl := range lines {
		if cl.Event != "other" {
			continue
		}
		res := logformat.Parse(cl.Line, time.Time{})
		switch res.Event.Kind {
		case event.Unrecognised, event.KubeEvent, event.KubeletStart, event.NodeProblem:
			continue
		}
		if exps[i].Note == "" && exps[i].Kind != string(event.PodSyncError) {
			t.Errorf("line %d, labelled other, gives %s with no note: %s", i, res.Event.Kind, cl.Line)
		}
	}
}

// failureLabels are the corpus labels of lines that report a failure.
var failureLabels = map[string]bool{
	"pull_failed": true, "pull_backoff": true, "mount_failed": true, "sandbox_failed": true,
	"probe_failed": true, "crashloop": true,
}

// TestCorpusFailureReasons: every failure line that is recognised carries a
// reason of the bounded set (a metric label value), and every node problem
// one of the bounded problems; the expectations pin which one.
func TestCorpusFailureReasons(t *testing.T) {
	lines, exps := loadCorpus(t)
	failures := 0
	for i, cl := range lines {
		res := logformat.Parse(cl.Line, time.Time{})
		ev := res.Event
		switch {
		case ev.Kind == event.NodeProblem:
			if !slices.Contains(event.Problems, ev.Reason) {
				t.Errorf("line %d: node problem %q is not among event.Problems", i, ev.Reason)
			}
		case failureLabels[cl.Event] && ev.Kind != event.Unrecognised && ev.Kind != event.ProbeStatus:
			failures++
			if !slices.Contains(event.Reasons, ev.Reason) {
				t.Errorf("line %d (%s): reason %q is not among event.Reasons", i, cl.Event, ev.Reason)
			}
			if exps[i].Reason != ev.Reason {
				t.Errorf("line %d: reason %q, expectation says %q", i, ev.Reason, exps[i].Reason)
			}
		case failureLabels[cl.Event] && exps[i].Note == "":
			t.Errorf("line %d (%s) gives %s without a note saying why", i, cl.Event, ev.Kind)
		}
	}
	if failures < 43 {
		t.Errorf("only %d failure lines classified; the corpus has more", failures)
	}
}
