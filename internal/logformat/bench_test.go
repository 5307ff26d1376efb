package logformat_test

import (
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
func busyLines(b *testing.B, unit string) []line {
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
	for b.Loop() {
		for _, e := range lines {
			if logformat.Parse(e.msg, e.recv).Outcome == logformat.Recognised {
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
