package journal_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podstart/podstart/internal/journal"
	"github.com/podstart/podstart/internal/journaltest"
)

// recorder is a Handler that keeps what it is given.
type recorder struct {
	entries  []journal.Entry
	cursors  []string // Checkpoint's cursors
	at       []int    // len(entries) at each checkpoint
	caughtUp int
	// onCheckpoint, if set, runs after a checkpoint is recorded.
	onCheckpoint func()
}

func (r *recorder) Entry(e journal.Entry) {
	e.Message = strings.Clone(e.Message) // valid only during the call
	r.entries = append(r.entries, e)
}
func (r *recorder) CaughtUp() { r.caughtUp++ }
func (r *recorder) Checkpoint(c string) {
	r.cursors = append(r.cursors, c)
	r.at = append(r.at, len(r.entries))
	if r.onCheckpoint != nil {
		r.onCheckpoint()
	}
}

func (r *recorder) messages() []string {
	var out []string
	for _, e := range r.entries {
		out = append(out, e.Message)
	}
	return out
}

// read opens cfg and reads it to its end (or until ctx ends).
func read(t *testing.T, ctx context.Context, cfg journal.Config, h *recorder) *journal.Reader {
	t.Helper()
	r, err := journal.Open(cfg)
	if err != nil {
		t.Fatalf("Open(%s): %v", cfg.Path, err)
	}
	t.Cleanup(func() { r.Close() })
	if err := r.Run(ctx, h); err != nil {
		t.Fatalf("Run: %v", err)
	}
	return r
}

var podMatches = []journal.Match{
	{Field: "_SYSTEMD_UNIT", Value: "kubelet.service"},
	{Field: "_SYSTEMD_UNIT", Value: "containerd.service"},
	{Field: "SYSLOG_IDENTIFIER", Value: "kubenswrapper"},
}

// t0 is when the recordings' first pod start began.
var t0 = time.Date(2026, 11, 29, 15, 25, 47, 360193000, time.UTC)

// realLines returns the kubelet and containerd entries of the realnode-basic
// recording, with their real receive times and PIDs.
func realLines(t *testing.T) []journaltest.Entry {
	t.Helper()
	var out []journaltest.Entry
	for _, e := range journaltest.MustRecording(t, "realnode-basic") {
		switch e.Fields["_SYSTEMD_UNIT"] {
		case "kubelet.service", "containerd.service":
			out = append(out, e)
		}
	}
	if len(out) != 868 {
		t.Fatalf("realnode-basic has %d kubelet and containerd entries, want 868", len(out))
	}
	return out
}

// numbered returns n kubelet entries one millisecond apart, MESSAGE "line i".
func numbered(from time.Time, first, n int) []journaltest.Entry {
	k := journaltest.Kubelet(4242)
	out := make([]journaltest.Entry, 0, n)
	for i := first; i < first+n; i++ {
		out = append(out, k.Entry(from.Add(time.Duration(i)*time.Millisecond), "line "+strconv.Itoa(i)))
	}
	return out
}

func lineNumbers(t *testing.T, msgs []string) []int {
	t.Helper()
	var out []int
	for _, m := range msgs {
		n, err := strconv.Atoi(strings.TrimPrefix(m, "line "))
		if err != nil {
			t.Fatalf("unexpected message %q", m)
		}
		out = append(out, n)
	}
	return out
}

func seq(first, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = first + i
	}
	return out
}

func TestMatches(t *testing.T) {
	dir := t.TempDir()
	real := realLines(t)
	// Other units around the kubelet's and containerd's lines, as on a node.
	sshd, cron, systemd := journaltest.Sshd(30511), journaltest.Cron(30600), journaltest.Systemd()
	crio := journaltest.Service("crio.service", 990, "crio", "/usr/bin/crio", "/usr/bin/crio")
	// A kubelet behind OpenShift's wrapper, outside any unit: selected by
	// its SYSLOG_IDENTIFIER alone.
	wrapped := journaltest.Kubenswrapper(5150)
	wrapped.Unit = ""
	// The same wrapper inside kubelet.service: its unit names it.
	wrappedUnit := journaltest.Kubenswrapper(5151)
	// Not selected: an identifier "kubelet" in another unit.
	impostor := journaltest.Service("kubelet-helper.service", 5152, "kubelet", "/usr/local/bin/kubelet", "kubelet --help")

	var entries []journaltest.Entry
	var want []journal.Entry
	others := 0
	for i, e := range real {
		entries = append(entries, e)
		want = append(want, journal.Entry{Message: e.Message(), Unit: e.Fields["_SYSTEMD_UNIT"], PID: e.Fields["_PID"], Time: e.Realtime})
		at := e.Realtime.Add(3 * time.Microsecond)
		switch i % 7 {
		case 0:
			entries = append(entries, sshd.Entry(at, "Accepted publickey for root from 192.0.2.10 port 52144 ssh2: ED25519 SHA256:3p0Cq0E2zYwQ0kQm3m3YgH0yTqEo2hM1bQzF0s8zUlc"))
		case 1:
			entries = append(entries, cron.Entry(at, "(root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)"))
		case 2:
			entries = append(entries, systemd.Entry(at, "Started session-42.scope - Session 42 of User root."))
		case 3:
			entries = append(entries, crio.Entry(at, `time="2026-11-29 15:25:47.670887443Z" level=info msg="Running pod sandbox: default/web-vm/POD" id=0d0a87`))
		case 4:
			entries = append(entries, impostor.Entry(at, "I1129 15:25:47.000000    5152 helper.go:1] not the kubelet"))
		default:
			continue
		}
		others++
	}
	for i, p := range []*journaltest.Process{wrapped, wrappedUnit} {
		at := real[len(real)-1].Realtime.Add(time.Duration(i+1) * time.Second)
		msg := fmt.Sprintf(`I1129 15:27:4%d.000000    %d kubelet.go:2760] "SyncLoop ADD" source="api" pods=["openshift-dns/dns-default-x"]`, 8+i, p.PID)
		entries = append(entries, p.Entry(at, msg))
		unit := "kubenswrapper"
		if p.Unit != "" {
			unit = p.Unit
		}
		want = append(want, journal.Entry{Message: msg, Unit: unit, PID: strconv.Itoa(p.PID), Time: at})
	}
	journaltest.Write(t, dir, entries)

	var h recorder
	read(t, context.Background(), journal.Config{Path: dir, Matches: podMatches}, &h)
	if len(h.entries) != len(want) {
		t.Fatalf("read %d entries, want %d (%d entries of other units were written)", len(h.entries), len(want), others)
	}
	for i := range want {
		g := h.entries[i]
		// The recorded entries and the made-up ones share a boot ID but
		// not a monotonic clock: their ClockStep is meaningless here
		// (TestClockStep tests it).
		g.ClockStep = 0
		if g != want[i] {
			t.Errorf("entry %d:\n got %+v\nwant %+v", i, g, want[i])
		}
	}
	if h.caughtUp != 1 || len(h.cursors) != 1 {
		t.Errorf("CaughtUp %d times, Checkpoint %d times; want 1 and 1 at the end", h.caughtUp, len(h.cursors))
	}

	// Without matches every entry is read, in order.
	var all recorder
	read(t, context.Background(), journal.Config{Path: dir}, &all)
	if len(all.entries) != len(entries) {
		t.Errorf("without matches: %d entries, want %d", len(all.entries), len(entries))
	}
	// A single file reads like its directory.
	files, _ := filepath.Glob(filepath.Join(dir, "*.journal"))
	var one recorder
	read(t, context.Background(), journal.Config{Path: files[0], Matches: podMatches}, &one)
	if len(one.entries) != len(want) {
		t.Errorf("reading the file: %d entries, want %d", len(one.entries), len(want))
	}
}

// TestUnitOfReusedPID: the reader reads a process's unit once and keeps
// it while the process logs; a PID that logs again after a pause is looked
// up again, so a PID reused by a process of another unit gets its own unit.
func TestUnitOfReusedPID(t *testing.T) {
	dir := t.TempDir()
	k := journaltest.Kubelet(4242)
	c := journaltest.Containerd(4242) // the same PID, later
	other := journaltest.Containerd(999)
	var entries []journaltest.Entry
	for i := range 20 {
		entries = append(entries, k.Entry(t0.Add(time.Duration(i)*200*time.Millisecond), "kubelet "+strconv.Itoa(i)))
		entries = append(entries, other.Entry(t0.Add(time.Duration(i)*200*time.Millisecond+time.Microsecond), "containerd"))
	}
	// The kubelet exits; 10 s later a containerd process has its PID.
	for i := range 5 {
		entries = append(entries, c.Entry(t0.Add(14*time.Second+time.Duration(i)*time.Millisecond), "reused "+strconv.Itoa(i)))
	}
	journaltest.Write(t, dir, entries)
	h := &recorder{}
	read(t, context.Background(), journal.Config{Path: dir, Matches: podMatches}, h)
	if len(h.entries) != len(entries) {
		t.Fatalf("%d entries, want %d", len(h.entries), len(entries))
	}
	for _, e := range h.entries {
		want := "containerd.service"
		if strings.HasPrefix(e.Message, "kubelet") {
			want = "kubelet.service"
		}
		if e.Unit != want {
			t.Errorf("%q of PID %s: unit %s, want %s", e.Message, e.PID, e.Unit, want)
		}
	}
}

func TestSince(t *testing.T) {
	dir := t.TempDir()
	journaltest.Write(t, dir, numbered(t0, 0, 100))
	var h recorder
	read(t, context.Background(), journal.Config{Path: dir, Since: t0.Add(40 * time.Millisecond)}, &h)
	if got := lineNumbers(t, h.messages()); !slices.Equal(got, seq(40, 60)) {
		t.Errorf("from Since: lines %v, want 40..99", got)
	}
}

// TestResume reads part of a journal, stops, and resumes from the cursor of
// the last checkpoint: exactly the entries after it, none twice.
func TestResume(t *testing.T) {
	dir := t.TempDir()
	const n = 3000
	entries := numbered(t0, 0, n)
	// Other units' entries between them: the cursor is of a matched entry.
	cron := journaltest.Cron(77)
	for i := 0; i < n; i += 10 {
		entries = append(entries, cron.Entry(t0.Add(time.Duration(i)*time.Millisecond+time.Microsecond), "(root) CMD (true)"))
	}
	journaltest.Write(t, dir, entries)
	cfg := journal.Config{Path: dir, Matches: podMatches, CheckpointEvery: time.Nanosecond}

	// Read part: stop at the first checkpoint (the reader checkpoints every
	// 1024 entries when CheckpointEvery has passed).
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first := &recorder{onCheckpoint: cancel}
	read(t, ctx, cfg, first)
	if len(first.cursors) == 0 || len(first.entries) == 0 || len(first.entries) >= n {
		t.Fatalf("first read: %d entries, %d checkpoints; want a part of %d", len(first.entries), len(first.cursors), n)
	}
	cursorAt := first.at[len(first.at)-1]
	if cursorAt != len(first.entries) {
		t.Errorf("last checkpoint after %d entries, but %d were handed over", cursorAt, len(first.entries))
	}

	cfg.Cursor = first.cursors[len(first.cursors)-1]
	second := &recorder{}
	r := read(t, context.Background(), cfg, second)
	if r.CursorReset {
		t.Fatal("CursorReset with a valid cursor")
	}
	got := append(lineNumbers(t, first.messages()), lineNumbers(t, second.messages())...)
	if !slices.Equal(got, seq(0, n)) {
		t.Fatalf("first read %d + resumed read %d entries: not each of the %d exactly once (resumed from %v)",
			len(first.entries), len(second.entries), n, lineNumbers(t, second.messages())[:3])
	}

	// Every checkpoint of a whole read resumes right after its entry.
	whole := &recorder{}
	cfg.Cursor = ""
	read(t, context.Background(), cfg, whole)
	if len(whole.cursors) < 3 {
		t.Fatalf("%d checkpoints in %d entries", len(whole.cursors), n)
	}
	for i, c := range whole.cursors {
		cfg.Cursor = c
		rest := &recorder{}
		read(t, context.Background(), cfg, rest)
		if got := lineNumbers(t, rest.messages()); !slices.Equal(got, seq(whole.at[i], n-whole.at[i])) {
			t.Errorf("resume from checkpoint %d (after %d entries): %d entries, first %v", i, whole.at[i], len(got), got[:min(len(got), 1)])
		}
	}

	// The last cursor resumes at the end, and entries of a second file come after it.
	last := whole.cursors[len(whole.cursors)-1]
	journaltest.Write(t, dir, numbered(t0, n, 5))
	cfg.Cursor = last
	more := &recorder{}
	if r := read(t, context.Background(), cfg, more); r.CursorReset {
		t.Error("CursorReset after a second file was added")
	}
	if got := lineNumbers(t, more.messages()); !slices.Equal(got, seq(n, 5)) {
		t.Errorf("after a second file: lines %v, want %v", got, seq(n, 5))
	}
}

// TestVacuumedCursor: a cursor whose entry is gone (its file vacuumed, or
// the journal replaced) resets to Since.
func TestVacuumedCursor(t *testing.T) {
	dir := t.TempDir()
	old := journaltest.Write(t, dir, numbered(t0, 0, 50))
	h := &recorder{}
	read(t, context.Background(), journal.Config{Path: dir}, h)
	cursor := h.cursors[len(h.cursors)-1]

	// The old file is vacuumed; a newer one holds later entries, and also
	// the same 50 entries again (a copy is another file: its cursors differ).
	if err := os.Remove(old); err != nil {
		t.Fatal(err)
	}
	journaltest.Write(t, dir, append(numbered(t0, 0, 50), numbered(t0, 50, 50)...))

	for _, tc := range []struct {
		name  string
		since time.Time
		want  []int
	}{
		{"since", t0.Add(70 * time.Millisecond), seq(70, 30)},
		{"no since: from the start", time.Time{}, append(seq(0, 50), seq(50, 50)...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &recorder{}
			r := read(t, context.Background(), journal.Config{Path: dir, Cursor: cursor, Since: tc.since}, h)
			if !r.CursorReset {
				t.Error("CursorReset is false for a cursor whose file is gone")
			}
			if got := lineNumbers(t, h.messages()); !slices.Equal(got, tc.want) {
				t.Errorf("lines %v, want %v", got, tc.want)
			}
		})
	}

	for _, bad := range []string{"s=0123;i=1", "not a cursor"} {
		h := &recorder{}
		r := read(t, context.Background(), journal.Config{Path: dir, Cursor: bad, Since: t0.Add(90 * time.Millisecond)}, h)
		if !r.CursorReset || len(h.entries) != 10 {
			t.Errorf("cursor %q: CursorReset %v, %d entries; want true and 10", bad, r.CursorReset, len(h.entries))
		}
	}
}

// TestBigAndBinaryMessages: a 1 MiB MESSAGE, invalid UTF-8 and binary
// garbage pass through the reader as they are, and the entries after them
// too.
func TestBigAndBinaryMessages(t *testing.T) {
	dir := t.TempDir()
	k := journaltest.Kubelet(4242)
	big := "I1129 15:25:47.360130    4242 kubelet.go:2760] " + strings.Repeat("x", 1<<20)
	msgs := []string{
		big,
		"I1129 15:25:47.360131    4242 kubelet.go:2760] invalid \xff\xfe UTF-8",
		"\x00\x01\x02\xff binary\x00garbage\n",
		"",
		"after",
	}
	var entries []journaltest.Entry
	for i, m := range msgs {
		entries = append(entries, k.Entry(t0.Add(time.Duration(i)*time.Millisecond), m))
	}
	journaltest.Write(t, dir, entries)
	h := &recorder{}
	read(t, context.Background(), journal.Config{Path: dir, Matches: podMatches}, h)
	if len(h.entries) != len(msgs) {
		t.Fatalf("%d entries, want %d", len(h.entries), len(msgs))
	}
	for i, m := range msgs {
		if got := h.entries[i].Message; got != m {
			t.Errorf("entry %d: %d bytes %.60q, want %d bytes %.60q", i, len(got), got, len(m), m)
		}
	}
}

// TestFollow: Run in follow mode hands over entries of files that appear
// while it runs and of a file that grows, and stops promptly when its
// context ends.
func TestFollow(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "system.journal")
	journaltest.WriteFile(t, live, numbered(t0, 0, 10))
	r, err := journal.Open(journal.Config{Path: dir, Matches: podMatches, Follow: true, CheckpointEvery: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	h := newChanHandler()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx, h) }()

	h.expect(t, seq(0, 10), "the existing file")
	// A file that appears whole (as journald's rotation renames one in).
	journaltest.WriteAside(t, dir, numbered(t0, 10, 5))
	h.expect(t, seq(10, 5), "a file renamed into the directory")
	// A new file that systemd-journal-remote creates and writes in place.
	journaltest.Write(t, dir, numbered(t0, 15, 5))
	h.expect(t, seq(15, 5), "a file written in the directory")
	// The first file grows (journal-remote appends to an existing file).
	journaltest.WriteFile(t, live, numbered(t0, 20, 5))
	h.expect(t, seq(20, 5), "entries appended to a file")

	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after cancel: %v", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("Run took %s to stop after cancel", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return within 5s of cancel")
	}
	select {
	case e := <-h.entries:
		t.Errorf("unexpected entry %q", e.Message)
	default:
	}
}

// chanHandler passes entries to the test goroutine.
type chanHandler struct {
	entries chan journal.Entry
}

func newChanHandler() *chanHandler { return &chanHandler{entries: make(chan journal.Entry, 1000)} }

func (c *chanHandler) Entry(e journal.Entry) {
	e.Message = strings.Clone(e.Message) // valid only during the call
	c.entries <- e
}
func (c *chanHandler) CaughtUp()         {}
func (c *chanHandler) Checkpoint(string) {}

func (c *chanHandler) expect(t *testing.T, want []int, what string) {
	t.Helper()
	var got []int
	deadline := time.After(10 * time.Second)
	for len(got) < len(want) {
		select {
		case e := <-c.entries:
			got = append(got, lineNumbers(t, []string{e.Message})...)
		case <-deadline:
			t.Fatalf("%s: got lines %v within 10s, want %v", what, got, want)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("%s: lines %v, want %v", what, got, want)
	}
}

func TestOpenErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no", "such", "journal")
	empty := t.TempDir()
	notJournal := t.TempDir()
	if err := os.WriteFile(filepath.Join(notJournal, "notes.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path string
		want       []string
		is         error
	}{
		{"missing", missing, []string{missing, "no such file or directory"}, os.ErrNotExist},
		{"empty directory", empty, []string{empty, "no journal files found"}, journal.ErrNoJournal},
		{"no journal files", notJournal, []string{notJournal, "no journal files found"}, journal.ErrNoJournal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := journal.Open(journal.Config{Path: tc.path})
			if err == nil {
				t.Fatal("Open succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if !errors.Is(err, tc.is) {
				t.Errorf("error %q is not %v", err, tc.is)
			}
		})
	}
}

// TestUnreadable: a journal the agent may not read is an error naming the
// path and saying what to do, not an empty journal. Root reads everything,
// so as root the check runs in a copy of the test binary as user nobody.
func TestUnreadable(t *testing.T) {
	base, err := os.MkdirTemp("", "podstart-unreadable-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	// journald's layout: the directory is searchable, the files are
	// root:systemd-journal 0640.
	files := filepath.Join(base, "files")
	journaltest.Write(t, files, numbered(t0, 0, 3))
	closed := filepath.Join(base, "closed")
	journaltest.Write(t, closed, numbered(t0, 0, 3))
	for p, mode := range map[string]os.FileMode{base: 0o755, files: 0o755, closed: 0o700} {
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	for _, path := range []string{files, closed} {
		msg := openAsNobody(t, base, path)
		t.Logf("%s: %s", filepath.Base(path), msg)
		for _, want := range []string{"cannot read the journal at " + path, "permission denied", "systemd-journal group"} {
			if !strings.Contains(msg, want) {
				t.Errorf("%s: error %q does not say %q", filepath.Base(path), msg, want)
			}
		}
	}
}

// openAsNobody returns the error text of journal.Open(path) for an
// unprivileged user.
func openAsNobody(t *testing.T, base, path string, groups ...uint32) string {
	t.Helper()
	if os.Geteuid() != 0 {
		_, err := journal.Open(journal.Config{Path: path})
		if err == nil {
			t.Fatalf("Open(%s) succeeded", path)
		}
		return err.Error()
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(base, "journal.test")
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestOpenAsNobodyHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), "PODSTART_OPEN_AS_NOBODY="+path)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534, Groups: groups}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper as nobody: %v\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if m, ok := strings.CutPrefix(line, "OPEN ERROR: "); ok {
			return m
		}
	}
	t.Fatalf("helper as nobody printed no error:\n%s", out)
	return ""
}

// TestReadableWithJournalGroup: the least the agent needs to read the
// journal is the systemd-journal group: journald's files are
// root:systemd-journal 0640, and nobody in that group reads them.
func TestReadableWithJournalGroup(t *testing.T) {
	g, err := user.LookupGroup("systemd-journal")
	if err != nil {
		t.Fatalf("the systemd-journal group is needed (Debian package systemd): %v", err)
	}
	gid, err := strconv.ParseUint(g.Gid, 10, 32)
	if err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		t.Fatal("this test needs root, to run its helper as nobody")
	}
	base, err := os.MkdirTemp("", "podstart-group-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	dir := filepath.Join(base, "journal")
	journaltest.Write(t, dir, numbered(t0, 0, 3))
	files, _ := filepath.Glob(filepath.Join(dir, "*.journal"))
	for _, f := range files {
		if err := os.Chown(f, 0, int(gid)); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(f, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{base, dir} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if msg := openAsNobody(t, base, dir); !strings.Contains(msg, "permission denied") {
		t.Fatalf("nobody without the group: %q, want permission denied", msg)
	}
	if msg := openAsNobody(t, base, dir, uint32(gid)); msg != "<none: Open succeeded>" {
		t.Fatalf("nobody in systemd-journal: %q, want the journal opened", msg)
	}
}

// TestOpenAsNobodyHelper is run by openAsNobody in a process of its own; in
// the normal test run it has nothing to do.
func TestOpenAsNobodyHelper(t *testing.T) {
	path := os.Getenv("PODSTART_OPEN_AS_NOBODY")
	if path == "" {
		return
	}
	if os.Geteuid() == 0 {
		t.Fatal("helper runs as root")
	}
	r, err := journal.Open(journal.Config{Path: path})
	if err == nil {
		r.Close()
		fmt.Println("OPEN ERROR: <none: Open succeeded>")
		return
	}
	fmt.Println("OPEN ERROR: " + err.Error())
}
