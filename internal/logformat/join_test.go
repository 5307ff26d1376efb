package logformat_test

import (
	"strings"
	"testing"
	"time"

	"github.com/podstart/podstart/internal/logformat"
)

// journalEntry is one entry of testdata/realnode-journal.jsonl: the
// kubelet.service and containerd.service entries of
// ../shared/recordings/realnode-basic/journal.json.gz (kubelet v1.37.2,
// containerd 2.4.2), in journal order, with _SYSTEMD_UNIT, _PID,
// __REALTIME_TIMESTAMP (µs) and MESSAGE.
type journalEntry struct {
	Unit string `json:"unit"`
	PID  string `json:"pid"`
	T    int64  `json:"t"`
	Msg  string `json:"msg"`
}

func (e journalEntry) time() time.Time { return time.UnixMicro(e.T).UTC() }

func realnodeJournal(t testing.TB) []journalEntry {
	t.Helper()
	return readJSONL[journalEntry](t, "testdata/realnode-journal.jsonl")
}

// emitted is one call of a Joiner's Emit.
type emitted struct {
	unit, line string
	t          time.Time
	cont       int
}

type emitLog struct{ out []emitted }

func (l *emitLog) emit(unit, line string, t time.Time, cont int) {
	l.out = append(l.out, emitted{unit, line, t, cont})
}

func (l *emitLog) lines() []emitted {
	var out []emitted
	for _, e := range l.out {
		if e.line != "" {
			out = append(out, e)
		}
	}
	return out
}

func (l *emitLog) conts() int {
	n := 0
	for _, e := range l.out {
		n += e.cont
	}
	return n
}

// corpusEntries returns corpus lines from..to (inclusive) as journal
// entries of pid: the MESSAGE after the journal prefix. A continuation that
// journalctl showed indented with spaces gets back the tab klog wrote.
func corpusEntries(t *testing.T, from, to int) []string {
	t.Helper()
	lines, _ := loadCorpus(t)
	var out []string
	for i := from; i <= to; i++ {
		l := lines[i].Line
		j := strings.Index(l, "]: ")
		if j < 0 {
			t.Fatalf("corpus %d has no journal prefix", i)
		}
		msg := l[j+3:]
		if strings.HasPrefix(msg, "        ") {
			msg = "\t" + strings.TrimLeft(msg, " ")
		}
		out = append(out, msg)
	}
	return out
}

// TestJoinerRealnode feeds the whole recorded journal: 488 kubelet lines
// with a header, the 108 entries of the kubelet's multi-line configuration
// dump (107 tab-indented lines and " >"), and 272 containerd lines.
func TestJoinerRealnode(t *testing.T) {
	var j logformat.Joiner
	var log emitLog
	entries := realnodeJournal(t)
	for _, e := range entries {
		j.Add(e.PID, e.Unit, e.Msg, e.time(), log.emit)
	}
	j.Flush(log.emit)
	lines := log.lines()
	if len(lines) != 488+272 || log.conts() != 108 || len(log.out) != len(lines) {
		t.Fatalf("%d lines (%d emits), %d continuations; want 760, 108", len(lines), len(log.out), log.conts())
	}
	var config *emitted
	for i := range lines {
		if strings.Contains(lines[i].line, `"Effective KubeletConfiguration" config=<`) {
			config = &lines[i]
		}
	}
	if config == nil {
		t.Fatal("no configuration line")
	}
	if config.cont != 108 || strings.Count(config.line, "\n\t") != 107 || !strings.HasSuffix(config.line, "\n >") ||
		!strings.Contains(config.line, "config=<\n\taddress: 127.0.0.1\n\tapiVersion: kubelet.config.k8s.io/v1beta1\n") {
		t.Errorf("configuration line: cont %d, %d value lines, %.200q", config.cont, strings.Count(config.line, "\n\t"), config.line)
	}
	// Its time is the first entry's, not the closing one's.
	if !config.t.Equal(time.UnixMicro(1795965942106765).UTC()) {
		t.Errorf("configuration line time %v", config.t)
	}
	// Joining never reorders: the lines of each unit come out in journal
	// order.
	for _, unit := range []string{"kubelet.service", "containerd.service"} {
		var want []string
		for _, e := range entries {
			if e.Unit == unit && (e.Msg == "" || !logformat.IsContinuation(e.Msg)) {
				want = append(want, e.Msg)
			}
		}
		var got []string
		for _, l := range lines {
			if l.unit == unit {
				got = append(got, strings.SplitN(l.line, "\n", 2)[0])
			}
		}
		if strings.Join(got, "\x00") != strings.Join(want, "\x00") {
			t.Errorf("%s: lines out of order or lost (%d, want %d)", unit, len(got), len(want))
		}
	}
	// Every line of a real journal is well-formed once joined.
	for _, l := range lines {
		if res := logformat.Parse(l.line, l.t); res.Outcome == logformat.Malformed {
			t.Errorf("malformed: %.200q", l.line)
		}
	}
}

// TestJoinerClosingWithKeys re-joins corpus 155–158: the closing " >" of
// err=< carries more key/values.
func TestJoinerClosingWithKeys(t *testing.T) {
	var j logformat.Joiner
	var log emitLog
	at := time.Date(2025, 12, 13, 9, 15, 33, 738700000, time.UTC)
	for _, msg := range corpusEntries(t, 155, 158) {
		j.Add("685", "kubelet.service", msg, at, log.emit)
	}
	if len(log.out) != 1 || log.out[0].cont != 3 {
		t.Fatalf("emits %+v", log.out)
	}
	res := logformat.Parse(log.out[0].line, log.out[0].t)
	if res.Outcome != logformat.Unrecognised || res.Format != "klog" {
		t.Errorf("parsed %s %q: %q", res.Outcome, res.Format, log.out[0].line)
	}
	if !strings.HasSuffix(log.out[0].line, "\n > logger=\"UnhandledError\" reflector=\"object-\\\"kube-system\\\"/\\\"kube-proxy\\\"\" type=\"*v1.ConfigMap\"") {
		t.Errorf("line %q", log.out[0].line)
	}
	// The next line of the process is handed on at once.
	next := corpusEntries(t, 159, 159)[0]
	j.Add("685", "kubelet.service", next, at, log.emit)
	if len(log.out) != 2 || log.out[1].line != next || log.out[1].cont != 0 {
		t.Errorf("next line: %+v", log.out[1:])
	}
}

// TestJoinerNeverClosed: the entries after corpus 155–157 were lost (or the
// journal ends there); Flush hands the value on as far as it got, and a new
// line of the same process releases it first.
func TestJoinerNeverClosed(t *testing.T) {
	entries := corpusEntries(t, 155, 157)
	at := time.Date(2025, 12, 13, 9, 15, 33, 738700000, time.UTC)

	var j logformat.Joiner
	var log emitLog
	for _, msg := range entries {
		j.Add("685", "kubelet.service", msg, at, log.emit)
	}
	if len(log.out) != 0 {
		t.Fatalf("emitted before closing: %+v", log.out)
	}
	j.Flush(log.emit)
	if len(log.out) != 1 || log.out[0].cont != 2 || strings.Count(log.out[0].line, "\n\t") != 2 {
		t.Fatalf("flushed %+v", log.out)
	}
	if res := logformat.Parse(log.out[0].line, at); res.Outcome != logformat.Malformed {
		t.Errorf("an unclosed value parses %s", res.Outcome)
	}
	j.Flush(log.emit)
	if len(log.out) != 1 {
		t.Errorf("second Flush emitted again: %+v", log.out[1:])
	}

	j = logformat.Joiner{}
	log = emitLog{}
	for _, msg := range entries {
		j.Add("685", "kubelet.service", msg, at, log.emit)
	}
	next := corpusEntries(t, 159, 159)[0]
	j.Add("685", "kubelet.service", next, at.Add(time.Second), log.emit)
	if len(log.out) != 2 || log.out[0].cont != 2 || !strings.HasPrefix(log.out[0].line, entries[0]) || log.out[1].line != next {
		t.Errorf("released by the next line: %+v", log.out)
	}
}

// TestJoinerInterleaved: containerd's lines arrive while the kubelet's
// configuration dump is held; they pass at once, the dump comes out whole.
func TestJoinerInterleaved(t *testing.T) {
	entries := realnodeJournal(t)
	var kubelet, containerd []journalEntry
	for _, e := range entries {
		if e.Unit == "kubelet.service" {
			kubelet = append(kubelet, e)
		} else {
			containerd = append(containerd, e)
		}
	}
	start := -1
	for i, e := range kubelet {
		if strings.HasSuffix(e.Msg, "config=<") {
			start = i
			break
		}
	}
	if start < 0 {
		t.Fatal("no config=< entry")
	}
	dump := kubelet[start : start+109]

	var j logformat.Joiner
	var log emitLog
	ci := 0
	for i, e := range dump {
		j.Add(e.PID, e.Unit, e.Msg, e.time(), log.emit)
		if i%10 == 5 && ci < len(containerd) {
			c := containerd[ci]
			ci++
			j.Add(c.PID, c.Unit, c.Msg, c.time(), log.emit)
			if last := log.out[len(log.out)-1]; last.line != c.Msg || last.unit != c.Unit {
				t.Fatalf("containerd line held back: %+v", last)
			}
		}
	}
	if len(log.out) != ci+1 {
		t.Fatalf("%d emits, want %d", len(log.out), ci+1)
	}
	last := log.out[len(log.out)-1]
	if last.unit != "kubelet.service" || last.cont != 108 || strings.Count(last.line, "\n") != 108 {
		t.Errorf("dump: cont %d, %d newlines", last.cont, strings.Count(last.line, "\n"))
	}
}

// TestJoinerCap: a multi-line value that would pass logformat.MaxLine is
// cut there; every entry is still counted.
func TestJoinerCap(t *testing.T) {
	entries := realnodeJournal(t)
	var open string
	var body []string
	for _, e := range entries {
		switch {
		case strings.HasSuffix(e.Msg, "config=<"):
			open = e.Msg
		case strings.HasPrefix(e.Msg, "\t"):
			body = append(body, e.Msg)
		}
	}
	var j logformat.Joiner
	var log emitLog
	at := time.Unix(1795965942, 0)
	j.Add("17689", "kubelet.service", open, at, log.emit)
	n, size := 0, len(open)
	for size <= 2*logformat.MaxLine {
		msg := body[n%len(body)]
		j.Add("17689", "kubelet.service", msg, at, log.emit)
		n++
		size += 1 + len(msg)
	}
	j.Add("17689", "kubelet.service", " >", at, log.emit)
	if len(log.out) != 1 {
		t.Fatalf("%d emits", len(log.out))
	}
	got := log.out[0]
	if len(got.line) > logformat.MaxLine || len(got.line) < logformat.MaxLine-200 || got.cont != n+1 {
		t.Errorf("line of %d bytes (max %d), cont %d want %d", len(got.line), logformat.MaxLine, got.cont, n+1)
	}
	// It still parses: a value cut short (no closing " >").
	if res := logformat.Parse(got.line, at); res.Outcome != logformat.Malformed || res.Format != "klog" {
		t.Errorf("parsed %s %s", res.Outcome, res.Format)
	}
}

// TestJoinerHeaderlessAfterLine: corpus 133–137, a gRPC warning whose
// message holds a pretty-printed JSON object; only its first entry has a
// header. The rest follow a line already handed on: counted, not parsed.
func TestJoinerHeaderlessAfterLine(t *testing.T) {
	entries := corpusEntries(t, 133, 137)
	var j logformat.Joiner
	var log emitLog
	at := time.Date(2023, 4, 9, 10, 34, 10, 833931000, time.UTC)
	for _, msg := range entries {
		j.Add("642", "kubelet.service", msg, at, log.emit)
	}
	if len(log.out) != 5 || log.out[0].line != entries[0] || log.out[0].cont != 0 {
		t.Fatalf("emits %+v", log.out)
	}
	for _, e := range log.out[1:] {
		if e.line != "" || e.cont != 1 {
			t.Errorf("continuation emitted as %+v", e)
		}
	}
	// A header-less entry of a process not seen before has nothing to
	// continue (the journal was read from its middle): it is a line.
	msg := corpusEntries(t, 209, 209)[0]
	j.Add("2927", "kubelet.service", msg, at, log.emit)
	if last := log.out[len(log.out)-1]; last.line != msg || last.cont != 0 {
		t.Errorf("first entry of a process: %+v", last)
	}
}

// TestJoinerManyProcesses: past maxProcs processes the oldest is forgotten;
// a value it held is handed on, not lost, and the others' are kept.
func TestJoinerManyProcesses(t *testing.T) {
	entries := corpusEntries(t, 155, 158)
	var j logformat.Joiner
	var log emitLog
	at := time.Unix(0, 0)
	j.Add("p0", "kubelet.service", entries[0], at, log.emit)
	for i := 1; i < 100; i++ {
		j.Add("q"+string(rune('A'+i%26))+string(rune('a'+i/26)), "kubelet.service", entries[0], at, log.emit)
	}
	// p0 was forgotten, its value handed on; its continuation is now a
	// line of its own.
	j.Add("p0", "kubelet.service", entries[1], at, log.emit)
	j.Flush(log.emit)
	n := 0
	for _, e := range log.out {
		if strings.HasSuffix(strings.SplitN(e.line, "\n", 2)[0], "err=<") {
			n++
		}
	}
	if n != 100 {
		t.Errorf("%d of 100 held values handed on", n)
	}
}
