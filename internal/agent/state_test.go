package agent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/podstart/podstart/internal/agent"
	"github.com/podstart/podstart/internal/journal"
	"github.com/podstart/podstart/internal/journaltest"
)

// cursorHandler keeps the count of entries and the last checkpoint.
type cursorHandler struct {
	n      int
	cursor string
}

func (c *cursorHandler) Entry(journal.Entry)   { c.n++ }
func (c *cursorHandler) CaughtUp()             {}
func (c *cursorHandler) Checkpoint(cur string) { c.cursor = cur }

// lastCursor returns the number of matched entries in dir and the cursor of
// the last.
func lastCursor(t *testing.T, dir string) (int, string) {
	t.Helper()
	r, err := journal.Open(journal.Config{Path: dir, Matches: podMatches})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var h cursorHandler
	if err := r.Run(context.Background(), &h); err != nil {
		t.Fatal(err)
	}
	return h.n, h.cursor
}

type stateFile struct {
	Version int       `json:"version"`
	Cursor  string    `json:"cursor"`
	SavedAt time.Time `json:"saved_at"`
}

// running is an agent.Run in progress.
type running struct {
	h      *harness
	cancel context.CancelFunc
	done   chan error
}

func runAgent(t *testing.T, cfg agent.Config) *running {
	t.Helper()
	cfg.StateInterval = 20 * time.Millisecond
	cfg.TickInterval = 10 * time.Millisecond
	cfg.RetryInterval = 50 * time.Millisecond
	h := newHarness(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{h: h, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- h.a.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop cancels Run and waits for it (and its last state write).
func (r *running) stop(t *testing.T) {
	t.Helper()
	if r.done == nil {
		return
	}
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return within 5s of cancel")
	}
	r.done = nil
}

// waitState waits until the state file holds cursor, checking at every look
// that the file, whenever it exists, is whole JSON (written atomically), or
// else the bytes of corrupt, which the test wrote itself.
func waitState(t *testing.T, path, cursor string, corrupt ...byte) stateFile {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var st stateFile
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(path)
		if err == nil {
			st = stateFile{}
			if err := json.Unmarshal(b, &st); err != nil && !bytes.Equal(b, corrupt) {
				t.Fatalf("state file is not whole JSON (%v): %q", err, b)
			}
			if st.Cursor == cursor {
				return st
			}
		} else if !os.IsNotExist(err) {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("state file %s does not hold the last cursor within 10s: %+v, want %s", path, st, cursor)
	return st
}

// TestStateFile: agent.Run keeps the cursor of the last entry read in the
// state file, written atomically; a restarted agent resumes right after it,
// and a cursor that no longer exists falls back to the lookback.
func TestStateFile(t *testing.T) {
	rec := recorded(t, "realnode-basic")
	// Move the recording to the last few minutes, so that the lookback
	// (reading without a cursor) covers it.
	d := time.Now().Add(-5 * time.Minute).Truncate(time.Second).Sub(rec[0].Realtime)
	var part1, part2 []journaltest.Entry
	for _, e := range rec {
		p := journaltest.Containerd(17640)
		if e.Fields["_SYSTEMD_UNIT"] == "kubelet.service" {
			p = journaltest.Kubelet(17689)
		}
		e = p.Replay(e, d, nil)
		if e.Realtime.Before(at("15:26:00").Add(d)) {
			part1 = append(part1, e)
		} else {
			part2 = append(part2, e)
		}
	}
	dir := t.TempDir()
	stateDir := t.TempDir()
	state := filepath.Join(stateDir, "state.json")
	journaltest.Write(t, dir, part1)
	n1, cursor1 := lastCursor(t, dir)
	cfg := agent.Config{Journal: journal.Config{Path: dir}, Lookback: time.Hour, StateFile: state}

	// First start: no state file, the lookback holds everything.
	a := runAgent(t, cfg)
	st := waitState(t, state, cursor1)
	if st.Version != 2 || st.SavedAt.IsZero() {
		t.Errorf("state %+v", st)
	}
	if err := a.h.a.Ready(); err != nil {
		t.Errorf("Ready while following: %v", err)
	}
	a.stop(t)
	if fi, err := os.Stat(state); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("state file: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
	if files, _ := os.ReadDir(stateDir); len(files) != 1 {
		t.Errorf("state directory holds %d files, want only state.json (no temporary files left)", len(files))
	}
	if got := readEntries(t, a.h); got != n1 {
		t.Errorf("first run read %d entries, want %d", got, n1)
	}
	a.h.pod(t, "default/web-vm")
	a.h.pod(t, "default/pair-vm")

	// Restart after more entries arrived (a second file): exactly those are
	// read, none twice.
	journaltest.Write(t, dir, part2)
	n2, cursor2 := lastCursor(t, dir)
	b := runAgent(t, cfg)
	waitState(t, state, cursor2)
	b.stop(t)
	if got := readEntries(t, b.h); got != n2-n1 {
		t.Errorf("restarted agent read %d entries, want the %d after the cursor", got, n2-n1)
	}
	if got := b.h.metric(t, "podstart_journal_cursor_resets_total"); got != 0 {
		t.Errorf("cursor resets %v, want 0", got)
	}
	b.h.pod(t, "default/missing-image-vm")
	if ps := b.h.pods("default/web-vm"); len(ps) != 0 {
		t.Errorf("restarted agent has web-vm, whose start was before the cursor: %+v", ps[0])
	}

	// The journal is replaced (the cursor's file vacuumed): the saved cursor
	// is gone, the agent counts a reset and reads from the lookback.
	files, _ := filepath.Glob(filepath.Join(dir, "*.journal"))
	for _, f := range files {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	journaltest.Write(t, dir, part2)
	n3, cursor3 := lastCursor(t, dir)
	c := runAgent(t, cfg)
	waitState(t, state, cursor3)
	c.stop(t)
	if got := c.h.metric(t, "podstart_journal_cursor_resets_total"); got != 1 {
		t.Errorf("cursor resets %v, want 1", got)
	}
	if got := readEntries(t, c.h); got != n3 {
		t.Errorf("after a reset the agent read %d entries, want all %d of the lookback", got, n3)
	}

	// A corrupt state file is ignored: read from the lookback, then
	// overwritten with a good one.
	corrupt := []byte(`{"version":1,"cursor":`)
	if err := os.WriteFile(state, corrupt, 0o600); err != nil {
		t.Fatal(err)
	}
	e := runAgent(t, cfg)
	waitState(t, state, cursor3, corrupt...)
	e.stop(t)
	if got := readEntries(t, e.h); got != n3 {
		t.Errorf("with a corrupt state file the agent read %d entries, want %d", got, n3)
	}
}

func readEntries(t *testing.T, h *harness) int {
	t.Helper()
	return int(h.metric(t, "podstart_journal_entries_read_total", "unit", "kubelet.service") +
		h.metric(t, "podstart_journal_entries_read_total", "unit", "containerd.service"))
}
