package logformat_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/podstart/podstart/internal/event"
	"github.com/podstart/podstart/internal/logformat"
	"github.com/podstart/podstart/internal/timeline"
)

// recorder is a timeline.Observer that writes down every observation.
type recorder struct {
	obs []string
}

func (r *recorder) add(format string, args ...any) {
	r.obs = append(r.obs, fmt.Sprintf(format, args...))
}

func (r *recorder) Stage(s timeline.Stage, d time.Duration, pod event.PodRef) {
	r.add("stage %s %s %v", s, pod.Key(), d)
}
func (r *recorder) Total(s timeline.Scope, d time.Duration, pod event.PodRef) {
	r.add("total %s %s %v", s, pod.Key(), d)
}
func (r *recorder) ImagePull(d time.Duration, size int64, pod event.PodRef) {
	r.add("pull %s %v %d", pod.Key(), d, size)
}
func (r *recorder) VolumeMount(plugin string, d time.Duration, pod event.PodRef) {
	r.add("mount %s %s %v", plugin, pod.Key(), d)
}
func (r *recorder) PullResult(result string, _ event.PodRef) { r.add("pull-result %s", result) }
func (r *recorder) Failure(s timeline.Stage, reason string, pod event.PodRef) {
	r.add("failure %s %s %s", s, reason, pod.Key())
}
func (r *recorder) Evicted()                   { r.add("evicted") }
func (r *recorder) NodeProblem(problem string) { r.add("problem %s", problem) }
func (r *recorder) KubeletStart()              { r.add("kubelet start") }
func (r *recorder) ContainerRestart(reason string, _ event.PodRef) {
	r.add("restart %s", reason)
}
func (r *recorder) BackOff(d time.Duration, _ event.PodRef) { r.add("backoff %s", d) }

// seqLines returns the corpus lines of one seq, in corpus order.
func seqLines(t *testing.T, seq string) []corpusLine {
	t.Helper()
	lines, _ := loadCorpus(t)
	var out []corpusLine
	for _, l := range lines {
		if l.Seq == seq {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no lines of seq %s", seq)
	}
	return out
}

// journalRecv reads the receive time of a journal-short line for a known
// year, as the agent has it from __REALTIME_TIMESTAMP: the corpus lines have
// no year, and the containerd lines among them state theirs.
func journalRecv(t *testing.T, line string, year int) time.Time {
	t.Helper()
	f := strings.Fields(line)
	ts, err := time.Parse("Jan 2 15:04:05", strings.Join(f[:3], " "))
	if err != nil {
		t.Fatalf("%v: %s", err, line)
	}
	return ts.AddDate(year, 0, 0)
}

// replay parses lines and applies what the agent would apply (recognised
// lines, and malformed ones that still have a kind).
func replay(t *testing.T, lines []corpusLine, recv func(string) time.Time) []string {
	t.Helper()
	rec := &recorder{}
	tl := timeline.New(timeline.Config{}, rec)
	for _, l := range lines {
		res := logformat.Parse(l.Line, recv(l.Line))
		if res.Outcome == logformat.Recognised || (res.Outcome == logformat.Malformed && res.Event.Kind != event.Unrecognised) {
			tl.Apply(res.Event)
		}
	}
	tl.Flush()
	return rec.obs
}

func checkObservations(t *testing.T, got, want []string) {
	t.Helper()
	g := append([]string(nil), got...)
	w := append([]string(nil), want...)
	sort.Strings(g)
	sort.Strings(w)
	if strings.Join(g, "\n") != strings.Join(w, "\n") {
		t.Errorf("observations:\n\t%s\nwant:\n\t%s", strings.Join(g, "\n\t"), strings.Join(w, "\n\t"))
	}
}

// TestSeqKindLWS1 replays the corpus's longest sequence, one pod on a kind
// v1.32 node at --v=4 (kubelet lines only): SyncLoop ADD 04:31:21.080604,
// the projected volume mounted 21.328148 → 21.374447, image already
// present, Created 21.967839 and Started 22.318990 events for container c,
// two PLEG ContainerStarted at 22.66, the tracker (E2E = SLO = 2.755 s),
// then DELETE.
func TestSeqKindLWS1(t *testing.T) {
	lines := seqLines(t, "kind-lws-1")
	if len(lines) != 24 {
		t.Fatalf("%d lines, want 24", len(lines))
	}
	got := replay(t, lines, func(string) time.Time { return time.Time{} })
	const pod = "lws-e2e-thznm/lws-1"
	checkObservations(t, got, []string{
		// MountVolume started → SetUp succeeded.
		"mount kubernetes.io/projected " + pod + " 46.299ms",
		// SyncLoop ADD (the pod's admission) → the last mount; closed by
		// the first PLEG ContainerStarted, taken as the sandbox.
		"stage volumes " + pod + " 293.843ms",
		"pull-result cached",
		// The Created event → the Started event (no runtime lines here).
		"stage container_start " + pod + " 351.151ms",
		"total e2e " + pod + " 2.755046846s",
		"total slo " + pod + " 2.755046846s",
		// ADD → the last PLEG ContainerStarted (22.661920), decided at the
		// DELETE. There are no sandbox or create stages: at --v=4 a kind
		// kubelet of 1.32 logs neither "Creating PodSandbox" (only with
		// a sandbox change) nor a create start.
		"total node " + pod + " 1.581316s",
	})
}

// TestSeqAKSMultiple replays a two-container pod on an AKS node, with the
// containerd lines of the same syslog between the kubelet's: the join of
// both sources by pod UID and sandbox ID.
func TestSeqAKSMultiple(t *testing.T) {
	lines := seqLines(t, "aks-multiple")
	got := replay(t, lines, func(l string) time.Time { return journalRecv(t, l, 2024) })
	const pod = "default/multiple"
	checkObservations(t, got, []string{
		"mount kubernetes.io/projected " + pod + " 22.426ms",
		// ADD 25.449865 → SetUp succeeded 25.720403, closed when
		// containerd's RunPodSandbox begins.
		"stage volumes " + pod + " 270.538ms",
		// containerd: RunPodSandbox 25.775569203 → returns 25.940422419.
		"stage sandbox " + pod + " 164.853216ms",
		"total e2e " + pod + " 1m8.818440372s",
		"total slo " + pod + " 1m6.945167598s",
		// ADD → the last PLEG ContainerStarted (28.515993), at Flush.
		"total node " + pod + " 3.066128s",
	})
}
