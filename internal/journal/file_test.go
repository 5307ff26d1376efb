package journal

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podstart/podstart/internal/journaltest"
)

// The example of the SipHash paper (Aumasson and Bernstein, appendix A).
func TestSipHash24(t *testing.T) {
	var key [16]byte
	msg := make([]byte, 15)
	for i := range key {
		key[i] = byte(i)
	}
	for i := range msg {
		msg[i] = byte(i)
	}
	if got, want := siphash24(key, msg), uint64(0xa129ca6149be45e5); got != want {
		t.Fatalf("siphash24 = %#x, want %#x", got, want)
	}
}

// seen is what a Handler is given, with the last checkpoint's cursor.
type seen struct {
	entries []string
	cursor  string
}

type seenHandler struct{ s *seen }

func (h seenHandler) Entry(e Entry) {
	h.s.entries = append(h.s.entries, fmt.Sprintf("%s|%s|%s|%d|%v|%s",
		e.Time.Format(time.RFC3339Nano), e.Unit, e.PID, len(e.Message), e.ClockStep, e.Message))
}
func (h seenHandler) CaughtUp()           {}
func (h seenHandler) Checkpoint(c string) { h.s.cursor = c }

// readWith reads cfg to its end and says whether the files were read
// directly.
func readWith(t *testing.T, cfg Config) (seen, bool) {
	t.Helper()
	r, err := Open(cfg)
	if err != nil {
		t.Fatalf("Open(%s): %v", cfg.Path, err)
	}
	defer r.Close()
	var s seen
	if err := r.Run(context.Background(), seenHandler{&s}); err != nil {
		t.Fatal(err)
	}
	return s, r.Direct
}

// agree reads cfg directly and through libsystemd and fails on the first
// difference: every entry (time, unit, PID, message, clock step) in order,
// and the cursor of the last one.
func agree(t *testing.T, cfg Config, wantDirect bool, atLeast int) {
	t.Helper()
	direct, isDirect := readWith(t, cfg)
	if isDirect != wantDirect {
		t.Fatalf("files read directly: %v, want %v", isDirect, wantDirect)
	}
	cfg.Libsystemd = true
	ref, isDirect := readWith(t, cfg)
	if isDirect {
		t.Fatal("Config.Libsystemd did not make the reader use libsystemd")
	}
	if len(ref.entries) < atLeast {
		t.Fatalf("libsystemd read %d entries, want at least %d", len(ref.entries), atLeast)
	}
	for i := range min(len(direct.entries), len(ref.entries)) {
		if direct.entries[i] != ref.entries[i] {
			t.Fatalf("entry %d:\n direct:     %.300s\n libsystemd: %.300s", i, direct.entries[i], ref.entries[i])
		}
	}
	if len(direct.entries) != len(ref.entries) {
		t.Fatalf("read %d entries directly, %d through libsystemd", len(direct.entries), len(ref.entries))
	}
	if direct.cursor != ref.cursor {
		t.Fatalf("last cursor: direct %q, libsystemd %q", direct.cursor, ref.cursor)
	}
}

var testMatches = []Match{
	{Field: "_SYSTEMD_UNIT", Value: "kubelet.service"},
	{Field: "_SYSTEMD_UNIT", Value: "containerd.service"},
	{Field: "SYSLOG_IDENTIFIER", Value: "kubenswrapper"},
}

// TestDirectReaderAgreesWithLibsystemd: the journal files read directly
// hand over exactly what libsystemd hands over, on journals written by
// journald and by journal-remote, over several files, with and without
// matches and a start time.
func TestDirectReaderAgreesWithLibsystemd(t *testing.T) {
	t.Run("recorded by journald on a real node", func(t *testing.T) {
		for _, rec := range []string{"realnode-basic", "clusternode-basic"} {
			dir := t.TempDir()
			out, err := exec.Command("tar", "--zstd", "-xf", filepath.Join("..", "..", "testdata", "recordings", rec, "journal.tar.zst"), "-C", dir).CombinedOutput()
			if err != nil {
				t.Fatalf("unpacking %s: %v: %s", rec, err, out)
			}
			dir = filepath.Join(dir, "journal")
			agree(t, Config{Path: dir, Matches: testMatches}, true, 300)
			agree(t, Config{Path: dir}, true, 850)
			// The middle of the recording, by receive time.
			all, _ := readWith(t, Config{Path: dir})
			mid, err := time.Parse(time.RFC3339Nano, strings.SplitN(all.entries[len(all.entries)/2], "|", 2)[0])
			if err != nil {
				t.Fatal(err)
			}
			agree(t, Config{Path: dir, Matches: testMatches, Since: mid}, true, 100)
		}
	})

	t.Run("two files interleaved in time", func(t *testing.T) {
		dir := t.TempDir()
		a, err := journaltest.NewWriter(filepath.Join(dir, "a.journal"))
		if err != nil {
			t.Fatal(err)
		}
		b, err := journaltest.NewWriter(filepath.Join(dir, "b.journal"))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		err = journaltest.BusyNode{Entries: 20000}.Generate(func(e journaltest.Entry) error {
			n++
			if n%3 == 0 {
				return b.Write(e)
			}
			return a.Write(e)
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		agree(t, Config{Path: dir, Matches: testMatches}, true, 15000)
		agree(t, Config{Path: dir}, true, 19000)
		agree(t, Config{Path: dir, Matches: []Match{{Field: "_SYSTEMD_UNIT", Value: "no-such.service"}}}, true, 0)
		agree(t, Config{Path: filepath.Join(dir, "b.journal"), Matches: testMatches}, true, 5000)
	})

	t.Run("rotated by journald, and a copied file", func(t *testing.T) {
		jd := journaltest.StartJournald(t)
		for round := range 3 {
			for i := range 300 {
				jd.Send(t, "kubenswrapper", fmt.Sprintf("I1129 10:00:00.000000    1 x.go:1] round %d line %d", round, i))
				if i%10 == 0 {
					jd.Send(t, "other", fmt.Sprintf("round %d line %d %s", round, i, strings.Repeat("z", i*40)))
				}
			}
			jd.Journalctl(t, "--sync")
			if round < 2 {
				jd.Journalctl(t, "--rotate")
			}
		}
		if n := len(jd.Files(t)); n < 3 {
			t.Fatalf("journald left %d files, want 3", n)
		}
		agree(t, Config{Path: jd.Dir, Matches: testMatches}, true, 900)
		agree(t, Config{Path: jd.Dir}, true, 990)
		// A copy of an archived file next to it: each entry once.
		var archived string
		for _, f := range jd.Files(t) {
			if strings.Contains(filepath.Base(f), "@") {
				archived = f
			}
		}
		if archived == "" {
			t.Fatal("journald left no archived file")
		}
		dir := t.TempDir()
		copyFile(t, archived, filepath.Join(dir, "x.journal"))
		copyFile(t, archived, filepath.Join(dir, "y.journal"))
		agree(t, Config{Path: dir, Matches: testMatches}, true, 300)
	})

	t.Run("a linked file and a subdirectory named by a UUID", func(t *testing.T) {
		dir, elsewhere := t.TempDir(), t.TempDir()
		journaltest.WriteFile(t, filepath.Join(elsewhere, "a.journal"), numberedKubelet(0, 100))
		if err := os.Symlink(filepath.Join(elsewhere, "a.journal"), filepath.Join(dir, "linked.journal")); err != nil {
			t.Fatal(err)
		}
		sub := filepath.Join(dir, "01234567-89ab-cdef-0123-456789abcdef")
		if err := os.Mkdir(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		journaltest.WriteFile(t, filepath.Join(sub, "b.journal"), numberedKubelet(100, 100))
		agree(t, Config{Path: dir, Matches: testMatches}, true, 200)
		// A file copied in part (its header says more than it holds) is
		// skipped by both.
		journaltest.WriteFile(t, filepath.Join(elsewhere, "c.journal"), numberedKubelet(200, 100))
		b, err := os.ReadFile(filepath.Join(elsewhere, "c.journal"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "partial.journal"), b[:len(b)/2], 0o644); err != nil {
			t.Fatal(err)
		}
		agree(t, Config{Path: dir, Matches: testMatches}, true, 200)
	})

	// Files journal-remote writes in other forms, as an environment
	// variable asks (systemd 252 reads them): the regular layout is read
	// directly, an unkeyed hash only through libsystemd.
	for _, c := range []struct {
		name, env string
		flag      uint32
		direct    bool
	}{
		{"entries of the regular, not compact, layout", "SYSTEMD_JOURNAL_COMPACT", incompatCompact, true},
		{"an unkeyed hash is read through libsystemd", "SYSTEMD_JOURNAL_KEYED_HASH", incompatKeyedHash, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv(c.env, "0")
			dir := t.TempDir()
			if err := (journaltest.BusyNode{Entries: 3000}).Write(dir); err != nil {
				t.Fatal(err)
			}
			if headerFlags(t, filepath.Join(dir, "busynode.journal"))&c.flag != 0 {
				t.Fatalf("%s=0 did not turn the flag %#x off", c.env, c.flag)
			}
			agree(t, Config{Path: dir, Matches: testMatches}, c.direct, 2000)
		})
	}
}

func headerFlags(t *testing.T, path string) uint32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return binary.LittleEndian.Uint32(b[hdrIncompatibleOff:])
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDirectReaderSurvivesCorruption: bytes overwritten anywhere after the
// header (a disk error, a crash while writing) never make the direct
// reader crash or loop; it hands over what it can read.
func TestDirectReaderSurvivesCorruption(t *testing.T) {
	src := t.TempDir()
	if err := (journaltest.BusyNode{Entries: 3000}).Write(src); err != nil {
		t.Fatal(err)
	}
	orig, err := os.ReadFile(filepath.Join(src, "busynode.journal"))
	if err != nil {
		t.Fatal(err)
	}
	clean, _ := readWith(t, Config{Path: src})
	rnd := rand.New(rand.NewPCG(7, 7))
	for round := range 40 {
		b := append([]byte(nil), orig...)
		for range 1 + round*5 {
			off := 256 + rnd.IntN(len(b)-256-8)
			binary.LittleEndian.PutUint64(b[off:], rnd.Uint64()>>uint(rnd.IntN(64)))
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "x.journal"), b, 0o644); err != nil {
			t.Fatal(err)
		}
		done := make(chan seen, 1)
		go func() {
			s, _ := readWith(t, Config{Path: dir})
			done <- s
		}()
		select {
		case s := <-done:
			if len(s.entries) > len(clean.entries)+10 {
				t.Fatalf("round %d: %d entries from a corrupted file of %d", round, len(s.entries), len(clean.entries))
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("round %d: reading a corrupted file did not end", round)
		}
	}
	if len(clean.entries) < 3000 {
		t.Fatalf("read %d entries of the clean file, want 3000", len(clean.entries))
	}
}

// smallJournal is a journal file of a few entries (one MESSAGE compressed)
// cut to the part journal-remote used, for fuzzing.
func smallJournal(t testing.TB) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "small.journal")
	k := journaltest.Kubelet(4242)
	c := journaltest.Containerd(842)
	at := time.Date(2026, 11, 29, 15, 0, 0, 0, time.UTC)
	journaltest.WriteFile(t, path, []journaltest.Entry{
		k.Entry(at, `I1129 15:00:00.000000    4242 kubelet.go:2470] "SyncLoop ADD" source="api" pods=["default/web"]`),
		c.Entry(at.Add(time.Millisecond), `time="2026-11-29T15:00:00.001000000Z" level=info msg="RunPodSandbox for name:\"web\" uid:\"u1\" namespace:\"default\""`),
		k.Entry(at.Add(2*time.Millisecond), "I1129 15:00:00.002000    4242 x.go:1] "+strings.Repeat("long ", 400)),
		c.Entry(at.Add(3*time.Millisecond), `time="2026-11-29T15:00:00.003000000Z" level=info msg="RunPodSandbox for name:\"web\" uid:\"u1\" namespace:\"default\" returns sandbox id \"abc\""`),
	})
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tail := binary.LittleEndian.Uint64(b[136:])
	size := binary.LittleEndian.Uint64(b[tail+8:])
	b = b[:(tail+size+7)&^7]
	// The arena as the header says it now ends.
	binary.LittleEndian.PutUint64(b[96:], uint64(len(b))-binary.LittleEndian.Uint64(b[88:]))
	return b
}

// FuzzJournalFile: whatever bytes a journal file holds, reading it
// directly ends, without a panic, after at most one entry per 64 bytes.
// A journal file is megabytes of mostly empty hash table, too big an input
// for the fuzzer: an input is instead a patch of up to 64 bytes, written
// over the seed file at an offset (odd offsets land among the objects,
// after the hash tables).
func FuzzJournalFile(f *testing.F) {
	seed := smallJournal(f)
	objects := binary.LittleEndian.Uint64(seed[120:]) + binary.LittleEndian.Uint64(seed[128:]) // after the field hash table
	buf := append([]byte(nil), seed...)
	f.Add(uint64(0), []byte{})
	f.Add(uint64(1), []byte{0xff, 0xff, 0xff, 0xff})
	f.Add(uint64(2*objects+1), []byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add(uint64(16), []byte{0x10, 0, 0, 0, 0xff})
	f.Fuzz(func(t *testing.T, at uint64, patch []byte) {
		if len(patch) > 64 {
			patch = patch[:64]
		}
		off := at / 2
		if at%2 == 1 {
			off = objects + off%(uint64(len(seed))-objects)
		}
		off %= uint64(len(seed))
		n := copy(buf[off:], patch)
		defer copy(buf[off:off+uint64(n)], seed[off:])
		for _, matches := range [][]Match{nil, testMatches} {
			jf, err := newJFile("fuzz", buf)
			if err != nil {
				return
			}
			fj, err := newFileJournal([]*jfile{jf}, matches, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			var e sdEntry
			for n := 0; ; n++ {
				ok, err := fj.next(&e)
				if err != nil || !ok {
					break
				}
				if n > len(buf)/64 {
					t.Fatalf("%d entries from %d bytes", n, len(buf))
				}
			}
			fj.close()
		}
	})
}

// TestSmallJournalReads: the fuzz seed is a journal the reader reads whole.
func TestSmallJournalReads(t *testing.T) {
	b := smallJournal(t)
	jf, err := newJFile("small", b)
	if err != nil {
		t.Fatal(err)
	}
	fj, err := newFileJournal([]*jfile{jf}, testMatches, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	defer fj.close()
	var e sdEntry
	var msgs []string
	for {
		ok, err := fj.next(&e)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		msgs = append(msgs, string(e.message))
	}
	if len(msgs) != 4 || len(msgs[2]) < 2000 || !strings.Contains(msgs[3], "returns sandbox id") {
		t.Fatalf("read %d entries: %.80q", len(msgs), msgs)
	}
	if headerFlags(t, writeTemp(t, b))&incompatZstd == 0 {
		t.Fatal("the seed is not zstd-compressed")
	}
}

func writeTemp(t *testing.T, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "x.journal")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSinceAcrossAClockStep: with the wall clock stepped back inside a
// file, reading from a time starts where libsystemd's seek starts (it
// bisects the file's entry arrays, it does not scan), with and without
// matches.
func TestSinceAcrossAClockStep(t *testing.T) {
	dir := t.TempDir()
	k := journaltest.Kubelet(4242)
	o := journaltest.Service("other.service", 77, "other", "/usr/bin/other", "/usr/bin/other")
	at := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	var entries []journaltest.Entry
	for i := range 2000 {
		rt := at.Add(time.Duration(i) * time.Second)
		if i >= 1000 {
			rt = rt.Add(-500 * time.Second) // the clock stepped back
		}
		p := k
		if i%3 == 0 {
			p = o
		}
		e := p.Entry(rt, fmt.Sprintf("line %d", i))
		e.Monotonic = time.Hour + time.Duration(i)*time.Second // the boot's clock goes on
		entries = append(entries, e)
	}
	journaltest.Write(t, dir, entries)
	for _, s := range []time.Duration{0, 100 * time.Second, 700 * time.Second, 900 * time.Second, 1400 * time.Second} {
		agree(t, Config{Path: dir, Since: at.Add(s)}, true, 1)
		agree(t, Config{Path: dir, Since: at.Add(s), Matches: testMatches}, true, 1)
	}
}

// TestLoopingChainEnds: an entry array chain that turns back (corruption)
// ends the file's list instead of walking it again and again.
func TestLoopingChainEnds(t *testing.T) {
	b := smallJournal(t)
	arr := binary.LittleEndian.Uint64(b[hdrEntryArrayOff:])
	binary.LittleEndian.PutUint64(b[arr+arrayNextOff:], arr) // the first array's next is itself
	binary.LittleEndian.PutUint64(b[hdrNEntriesOff:], 1<<40) // and the file claims many entries
	jf, err := newJFile("loop", b)
	if err != nil {
		t.Fatal(err)
	}
	fj, err := newFileJournal([]*jfile{jf}, nil, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	defer fj.close()
	var e sdEntry
	n := 0
	for {
		ok, _ := fj.next(&e)
		if !ok {
			break
		}
		if n++; n > 4 {
			t.Fatalf("%d entries from a file of 4", n)
		}
	}
	if n == 0 {
		t.Fatal("no entry read before the loop")
	}
}

// TestTruncatedWhileRead: a file cut short while the reader has it mapped
// (its pages then fault) is left as unreadable; the process goes on.
func TestTruncatedWhileRead(t *testing.T) {
	src := t.TempDir()
	if err := (journaltest.BusyNode{Entries: 3000}).Write(src); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "x.journal")
	copyFile(t, filepath.Join(src, "busynode.journal"), path)
	r, err := Open(Config{Path: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if !r.Direct {
		t.Fatal("not read directly")
	}
	// Cut it three quarters of the way into its objects.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cut := int64(binary.LittleEndian.Uint64(b[hdrTailObjectOff:])*3/4) &^ 4095
	if err := os.Truncate(path, cut); err != nil {
		t.Fatal(err)
	}
	var s seen
	if err := r.Run(context.Background(), seenHandler{&s}); err != nil {
		t.Fatal(err)
	}
	if len(s.entries) >= 3000 {
		t.Fatalf("read %d entries from a file cut to %d bytes", len(s.entries), cut)
	}
	if len(s.entries) == 0 {
		t.Fatal("no entry read before the cut")
	}
	t.Logf("%d entries read before the cut at %d bytes", len(s.entries), cut)
}

// numberedKubelet returns n kubelet entries a millisecond apart, "line i".
func numberedKubelet(first, n int) []journaltest.Entry {
	k := journaltest.Kubelet(4242)
	at := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	var out []journaltest.Entry
	for i := first; i < first+n; i++ {
		out = append(out, k.Entry(at.Add(time.Duration(i)*time.Millisecond), fmt.Sprintf("line %d", i)))
	}
	return out
}
