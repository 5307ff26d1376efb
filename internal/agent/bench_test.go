package agent_test

import (
	"context"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/coreos/go-systemd/v22/sdjournal"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/podstart/podstart/internal/agent"
	"github.com/podstart/podstart/internal/journal"
	"github.com/podstart/podstart/internal/journaltest"
	"github.com/podstart/podstart/internal/metrics"
	"github.com/podstart/podstart/internal/timeline"
)

// The benchmarks read a generated busy node's journal (journaltest.BusyNode:
// kubelet at --v=4, containerd, and other units), made once and kept in
// ${XDG_CACHE_HOME:-$HOME/.cache}/podstart/bench. PODSTART_BENCH_ENTRIES
// sets its size (default 200000); bench/run compares the agent, a bare
// sdjournal loop and journalctl on a million entries.
var benchMatches = []journal.Match{
	{Field: "_SYSTEMD_UNIT", Value: "kubelet.service"},
	{Field: "_SYSTEMD_UNIT", Value: "containerd.service"},
}

func benchJournal(b *testing.B) string {
	b.Helper()
	n := 200000
	if s := os.Getenv("PODSTART_BENCH_ENTRIES"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatalf("PODSTART_BENCH_ENTRIES=%q: %v", s, err)
		}
	}
	dir, err := journaltest.BusyNode{Entries: n}.Cached()
	if err != nil {
		b.Fatal(err)
	}
	return dir
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// report adds ns/entry (wall time) and cpu-ns/entry (user+sys CPU time of
// the process since cpu0, which other work on the machine skews less) and
// entries/op.
func report(b *testing.B, cpu0 time.Duration, entries float64) {
	b.Helper()
	if entries == 0 {
		b.Fatal("no entries read")
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/entries, "ns/entry")
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/entries, "cpu-ns/entry")
	b.ReportMetric(entries/float64(b.N), "entries/op")
}

// BenchmarkReplay is the agent reading the whole journal once with the
// timeline settings of `node-agent report`: journal reader, joiner,
// parsers, timeline and the metrics of serve mode (the report itself keeps
// none). "files": the journal files read directly, as report does;
// "libsystemd": through libsystemd, as serve mode does.
func BenchmarkReplay(b *testing.B) {
	eachReader(b, func(b *testing.B, dir string, libsystemd bool) float64 {
		reg := prometheus.NewRegistry()
		cfg := timeline.DefaultConfig
		cfg.TTL = 100 * 365 * 24 * time.Hour // report: a copied journal holds all its history
		tl := timeline.New(cfg, metrics.NewSink(reg, metrics.Options{}))
		h := metrics.NewHealth(reg, func() float64 { return float64(tl.Len()) })
		jc := journal.Config{Path: dir, Matches: benchMatches, Libsystemd: libsystemd}
		a := agent.New(agent.Config{Journal: jc}, tl, h)
		if err := a.ReadOnce(context.Background()); err != nil {
			b.Fatal(err)
		}
		mfs, err := reg.Gather()
		if err != nil {
			b.Fatal(err)
		}
		var entries float64
		for _, mf := range mfs {
			if mf.GetName() == "podstart_journal_entries_read_total" {
				for _, m := range mf.GetMetric() {
					entries += m.GetCounter().GetValue()
				}
			}
		}
		return entries
	})
}

// eachReader runs read, which reads the journal in dir once and returns
// how many entries it handed over, as a sub-benchmark per reader, and
// reports the costs per entry.
func eachReader(b *testing.B, read func(b *testing.B, dir string, libsystemd bool) float64) {
	for _, via := range readers {
		b.Run(via.name, func(b *testing.B) {
			dir := benchJournal(b)
			var entries float64
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				entries += read(b, dir, via.libsystemd)
			}
			report(b, cpu0, entries)
		})
	}
}

// readers are the two ways of reading a journal once.
var readers = []struct {
	name       string
	libsystemd bool
}{{"files", false}, {"libsystemd", true}}

// countHandler counts entries and drops them.
type countHandler struct{ n int }

func (c *countHandler) Entry(journal.Entry) { c.n++ }
func (c *countHandler) CaughtUp()           {}
func (c *countHandler) Checkpoint(string)   {}

// BenchmarkReader is the agent's journal reader alone (MESSAGE, PID, unit
// and receive time of each entry), its entries dropped.
func BenchmarkReader(b *testing.B) {
	eachReader(b, func(b *testing.B, dir string, libsystemd bool) float64 {
		r, err := journal.Open(journal.Config{Path: dir, Matches: benchMatches, Libsystemd: libsystemd})
		if err != nil {
			b.Fatal(err)
		}
		defer r.Close()
		if r.Direct == libsystemd {
			b.Fatalf("Libsystemd=%v: files read directly: %v", libsystemd, r.Direct)
		}
		var h countHandler
		if err := r.Run(context.Background(), &h); err != nil {
			b.Fatal(err)
		}
		return float64(h.n)
	})
}

// BenchmarkBareLoop is the least any reader of these entries does: the
// same matches, Next and the MESSAGE field.
func BenchmarkBareLoop(b *testing.B) {
	dir := benchJournal(b)
	var entries float64
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		j, err := sdjournal.NewJournalFromDir(dir)
		if err != nil {
			b.Fatal(err)
		}
		for i, m := range benchMatches {
			if i > 0 && m.Field != benchMatches[i-1].Field {
				if err := j.AddDisjunction(); err != nil {
					b.Fatal(err)
				}
			}
			if err := j.AddMatch(m.String()); err != nil {
				b.Fatal(err)
			}
		}
		for {
			n, err := j.Next()
			if err != nil {
				b.Fatal(err)
			}
			if n == 0 {
				break
			}
			if _, err := j.GetData("MESSAGE"); err != nil {
				continue
			}
			entries++
		}
		j.Close()
	}
	report(b, cpu0, entries)
}
