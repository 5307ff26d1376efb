package metrics

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/podstart/podstart/internal/event"
	"github.com/podstart/podstart/internal/timeline"
)

// The kubelet's image size classes: a size lands in the first class whose
// lower bound it exceeds (kubelet-and-cri.md §7).
func TestSizeClass(t *testing.T) {
	const mb, gb = 1 << 20, 1 << 30
	for b, want := range map[int64]string{
		0: "N/A", 1149670: "0-10MB", 10 * mb: "0-10MB", 10*mb + 1: "10MB-100MB", 68265641: "10MB-100MB",
		100*mb + 1: "100MB-500MB", gb: "500MB-1GB", 5 * gb: "1GB-5GB", 101 * gb: "GT100GB",
	} {
		if got := SizeClass(b); got != want {
			t.Errorf("SizeClass(%d) = %q, want %q", b, got, want)
		}
	}
}

func TestExemplarFitsAndNamesThePod(t *testing.T) {
	long := event.PodRef{Namespace: strings.Repeat("n", 63), Name: strings.Repeat("p", 200), UID: "37ce7e5d-2692-2d1f-0d4b-9c2642f91cc9"}
	l := exemplar(long)
	runes := 0
	for k, v := range l {
		runes += utf8.RuneCountInString(k) + utf8.RuneCountInString(v)
	}
	if runes > prometheus.ExemplarMaxRunes || l["uid"] != long.UID || !strings.HasPrefix(l["pod"], long.Namespace+"/") {
		t.Errorf("exemplar %v (%d runes)", l, runes)
	}
	short := exemplar(event.PodRef{Namespace: "default", Name: "web"})
	if short["pod"] != "default/web" || len(short) != 1 {
		t.Errorf("exemplar %v", short)
	}
}

func TestSinkSeries(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := NewSink(reg, Options{NamespaceLabel: true})
	pod := event.PodRef{Namespace: "team-a", Name: "web", UID: "u"}
	s.Stage(timeline.StageSandbox, 100*time.Millisecond, pod)
	s.Failure(timeline.StageImagePull, event.ReasonErrImagePull, pod)
	s.PullResult(timeline.PullCached, event.PodRef{})
	want := `
# HELP podstart_failures_total Pod start failures by stage and reason, counted once per pod, container and reason however often the kubelet retries.
# TYPE podstart_failures_total counter
podstart_failures_total{namespace="team-a",reason="ErrImagePull",stage="image_pull"} 1
# HELP podstart_image_pulls_total Container images by how a container got them: pulled, cached (already present), failed. Counted once per container attempt.
# TYPE podstart_image_pulls_total counter
podstart_image_pulls_total{result="cached"} 1
podstart_image_pulls_total{result="failed"} 0
podstart_image_pulls_total{result="pulled"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "podstart_failures_total", "podstart_image_pulls_total"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(s.stage); n != 1 {
		t.Errorf("stage series: %d", n)
	}
}
