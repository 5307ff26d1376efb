package logformat_test

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/podstart/podstart/internal/journaltest"
	"github.com/podstart/podstart/internal/logformat"
)

type line struct {
	msg  string
	recv time.Time
}

// busyLines returns the kubelet's and containerd's messages of a generated
// busy node (journaltest.BusyNode: real line shapes, kubelet at --v=4).
func busyLines(b testing.TB, unit string) []line {
	b.Helper()
	var out []line
	err := journaltest.BusyNode{Entries: 50000}.Generate(func(e journaltest.Entry) error {
		if e.Fields["_SYSTEMD_UNIT"] == unit {
			out = append(out, line{e.Message(), e.Realtime})
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if len(out) == 0 {
		b.Fatalf("no %s lines generated", unit)
	}
	return out
}

func benchParse(b *testing.B, unit string) {
	lines := busyLines(b, unit)
	b.ReportAllocs()
	n := 0
	var p logformat.Parser // as the agent parses: one Parser for all lines
	for b.Loop() {
		for _, e := range lines {
			if p.Parse(e.msg, e.recv).Outcome == logformat.Recognised {
				n++
			}
		}
	}
	if n == 0 {
		b.Fatal("nothing recognised")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(lines)), "ns/line")
}

// BenchmarkParseBusyKubelet and BenchmarkParseBusyContainerd: Parse alone on the
// lines of one unit (in the agent, the journal reader's cost comes on top:
// see internal/agent's benchmarks).
func BenchmarkParseBusyKubelet(b *testing.B)    { benchParse(b, "kubelet.service") }
func BenchmarkParseBusyContainerd(b *testing.B) { benchParse(b, "containerd.service") }

// TestParserReuse: one Parser reused line after line (as the agent uses it)
// gives for every line what a fresh Parse gives: nothing of one line's
// scratch leaks into the next's result. The lines: the corpus, containerd's
// recorded lines, and a busy node's kubelet and containerd lines, among
// them lines wrapped in others.
func TestParserReuse(t *testing.T) {
	var lines []line
	for _, c := range readJSONL[corpusLine](t, "testdata/kubelet-lines.jsonl") {
		lines = append(lines, line{msg: c.Line})
	}
	b, err := os.ReadFile("testdata/containerd-lines.txt")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		lines = append(lines, line{msg: l})
	}
	lines = append(lines, busyLines(t, "kubelet.service")...)
	lines = append(lines, busyLines(t, "containerd.service")...)
	// A k0s-style wrapper around a containerd line, and around a klog line.
	lines = append(lines,
		line{msg: `time="2026-11-29T15:00:00Z" level=info msg="time=\"2026-11-29T15:00:00.1Z\" level=info msg=\"StartContainer for \\\"abc\\\" returns successfully\"" component=containerd`},
		line{msg: `time="2026-11-29T15:00:00Z" level=info msg="I1129 15:00:00.000000    42 kubelet.go:2470] \"SyncLoop ADD\" source=\"api\" pods=[\"default/web\"]" component=kubelet`})
	var p logformat.Parser
	for round := range 2 {
		for i, l := range lines {
			got, want := p.Parse(l.msg, l.recv), logformat.Parse(l.msg, l.recv)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("round %d, line %d %.200q:\nreused: %+v\nfresh:  %+v", round, i, l.msg, got, want)
			}
		}
	}
	if len(lines) < 20000 {
		t.Fatalf("only %d lines", len(lines))
	}
}
