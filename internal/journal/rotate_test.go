package journal_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/podstart/podstart/internal/journal"
	"github.com/podstart/podstart/internal/journaltest"
)

// The tests in this file run a real systemd-journald (a journal namespace
// of its own) and follow it while journalctl rotates and vacuums its files.

const rotIdent = "podstart-rot"

var rotMatch = []journal.Match{{Field: "SYSLOG_IDENTIFIER", Value: rotIdent}}

// seqHandler records the sequence numbers of "line N" messages.
type seqHandler struct {
	mu      sync.Mutex
	got     []int
	bad     []string
	cursors []string
}

func (h *seqHandler) Entry(e journal.Entry) {
	h.mu.Lock()
	defer h.mu.Unlock()
	n, err := strconv.Atoi(strings.TrimPrefix(e.Message, "line "))
	if err != nil {
		h.bad = append(h.bad, strings.Clone(e.Message))
		return
	}
	h.got = append(h.got, n)
}
func (h *seqHandler) CaughtUp() {}
func (h *seqHandler) Checkpoint(c string) {
	h.mu.Lock()
	h.cursors = append(h.cursors, c)
	h.mu.Unlock()
}

func (h *seqHandler) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.got)
}

// waitFor waits until n lines arrived; a reader that stops handing on
// entries (stalled on a deleted file, say) fails here.
func (h *seqHandler) waitFor(t *testing.T, n int, what string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for h.count() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d of %d lines arrived within 15s: the reader stalled", what, h.count(), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestFollowThroughRotationAndVacuum follows a running journald while its
// files are rotated (journalctl --rotate, also with lines in flight) and
// vacuumed (--vacuum-files, --vacuum-time): no line is lost or read twice,
// and lines keep arriving after each step.
func TestFollowThroughRotationAndVacuum(t *testing.T) {
	jd := journaltest.StartJournald(t)
	next := 0
	send := func(n int) {
		for range n {
			jd.Send(t, rotIdent, fmt.Sprintf("line %d", next))
			next++
		}
	}
	send(1) // journald creates the namespace's file on the first entry
	waitFiles(t, jd)

	r, err := journal.Open(journal.Config{Path: jd.Dir, Matches: rotMatch, Follow: true, CheckpointEvery: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	h := &seqHandler{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx, h) }()

	steps := []struct {
		name string
		args []string
		wait bool // let the reader catch up before the step
		// removes: the step must delete files (vacuum), so that the test
		// sees the reader survive it.
		removes bool
	}{
		{"rotate", []string{"--rotate"}, true, false},
		{"rotate with lines in flight", []string{"--rotate"}, false, false},
		{"vacuum-files", []string{"--vacuum-files=1"}, true, true},
		{"rotate again", []string{"--rotate"}, false, false},
		{"vacuum-time", []string{"--vacuum-time=1s"}, true, true},
		{"rotate and vacuum", []string{"--rotate", "--vacuum-files=1"}, true, false},
	}
	for _, s := range steps {
		send(500)
		if s.wait {
			h.waitFor(t, next, "before "+s.name)
		}
		if s.name == "vacuum-time" {
			time.Sleep(1100 * time.Millisecond) // the archive's entries are older than 1s
		}
		files := len(jd.Files(t))
		jd.Journalctl(t, s.args...)
		after := len(jd.Files(t))
		t.Logf("%s: %d journal files before, %d after", s.name, files, after)
		if s.removes && after >= files {
			t.Fatalf("%s removed no journal file (%d before, %d after)", s.name, files, after)
		}
		send(500)
		h.waitFor(t, next, "after "+s.name)
	}
	if len(jd.Files(t)) == 0 {
		t.Fatal("journald left no files: the namespace was not written")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return within 5s of its context ending")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.bad) > 0 {
		t.Fatalf("unexpected messages: %q", h.bad)
	}
	if len(h.got) != next {
		t.Fatalf("%d lines handed on, %d sent", len(h.got), next)
	}
	for i, n := range h.got {
		if n != i {
			t.Fatalf("line %d arrived as number %d: lost, repeated or reordered", i, n)
		}
	}
	if len(h.cursors) == 0 {
		t.Fatal("no checkpoint was made")
	}
}

// TestCursorVacuumedByJournald: a cursor whose file journald's vacuum
// removed no longer resumes; Open says so (CursorReset) and begins at
// Since, which here still finds the lines written after the cursor.
func TestCursorVacuumedByJournald(t *testing.T) {
	jd := journaltest.StartJournald(t)
	for i := range 100 {
		jd.Send(t, rotIdent, fmt.Sprintf("line %d", i))
	}
	waitFiles(t, jd)
	h := &seqHandler{}
	readAll(t, journal.Config{Path: jd.Dir, Matches: rotMatch, CheckpointEvery: time.Millisecond}, h, 100)
	cursor := h.cursors[len(h.cursors)-1]

	// The cursor's file is archived, then vacuumed away.
	jd.Journalctl(t, "--rotate")
	since := time.Now()
	for i := 100; i < 200; i++ {
		jd.Send(t, rotIdent, fmt.Sprintf("line %d", i))
	}
	jd.Journalctl(t, "--rotate")
	before := len(jd.Files(t))
	// At most two files remain (vacuum counts the active one): the archive
	// of lines 100 to 199 and the new, empty, active file.
	jd.Journalctl(t, "--vacuum-files=2")
	if after := len(jd.Files(t)); after >= before {
		t.Fatalf("vacuum removed no file (%d before, %d after)", before, after)
	}

	r, err := journal.Open(journal.Config{Path: jd.Dir, Matches: rotMatch, Cursor: cursor, Since: since})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if !r.CursorReset {
		t.Fatal("the cursor's file was vacuumed, but Open resumed from it")
	}
	h2 := &seqHandler{}
	if err := r.Run(context.Background(), h2); err != nil {
		t.Fatal(err)
	}
	if len(h2.got) != 100 || h2.got[0] != 100 || h2.got[99] != 199 {
		t.Fatalf("after the reset: %d lines from %v, want lines 100 to 199", len(h2.got), first(h2.got))
	}
}

func first(s []int) []int {
	if len(s) > 3 {
		return s[:3]
	}
	return s
}

// readAll reads the journal once and waits for want lines (journald may
// still be writing the last ones).
func readAll(t *testing.T, cfg journal.Config, h *seqHandler, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		*h = seqHandler{}
		r, err := journal.Open(cfg)
		if err != nil {
			t.Fatal(err)
		}
		err = r.Run(context.Background(), h)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(h.got) >= want || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(h.got) != want {
		t.Fatalf("read %d lines, want %d", len(h.got), want)
	}
}

func waitFiles(t *testing.T, jd *journaltest.Namespace) {
	t.Helper()
	for i := 0; len(jd.Files(t)) == 0; i++ {
		if i == 100 {
			t.Fatalf("journald wrote no file in %s within 10s", jd.Dir)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
