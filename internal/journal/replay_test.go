package journal_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/podstart/podstart/internal/journal"
	"github.com/podstart/podstart/internal/journaltest"
)

// TestReplayFrom: with a cursor and ReplayFrom before it, reading begins at
// ReplayFrom; the entries up to and including the cursor's are marked
// Replay, the ones after it are not. Without a usable cursor ReplayFrom is
// ignored, and so is a ReplayFrom after the cursor.
func TestReplayFrom(t *testing.T) {
	dir := t.TempDir()
	journaltest.Write(t, dir, numbered(t0, 0, 3000))
	cfg := journal.Config{Path: dir, Matches: podMatches, CheckpointEvery: time.Nanosecond}
	first := &recorder{}
	read(t, context.Background(), cfg, first)
	cursor, after := first.cursors[len(first.cursors)-1], first.at[len(first.at)-1]
	if after != 3000 {
		t.Fatalf("the last checkpoint is after %d entries, want 3000", after)
	}
	journaltest.Write(t, dir, numbered(t0, 3000, 40))
	const last = 3039

	cases := []struct {
		name       string
		cursor     string
		from       time.Time
		wantFirst  int
		wantReplay int // entries marked Replay
	}{
		{"replay 20 entries", cursor, t0.Add(time.Duration(after-20) * time.Millisecond), after - 20, 20},
		{"replay from before the journal", cursor, t0.Add(-time.Hour), 0, after},
		{"replay from after the cursor: none", cursor, t0.Add(time.Hour), after, 0},
		{"no cursor: from the start, none replayed", "", t0.Add(10 * time.Millisecond), 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := cfg
			cfg.Cursor, cfg.ReplayFrom = c.cursor, c.from
			h := &recorder{}
			read(t, context.Background(), cfg, h)
			got := lineNumbers(t, h.messages())
			if len(got) == 0 || got[0] != c.wantFirst || !slices.Equal(got, seq(c.wantFirst, len(got))) || got[len(got)-1] != last {
				t.Fatalf("lines %v…, want from %d to the end in order", got[:min(3, len(got))], c.wantFirst)
			}
			n := 0
			for j, e := range h.entries {
				if e.Replay {
					n++
					if j >= c.wantReplay {
						t.Fatalf("entry %d (line %d) marked Replay after the cursor's", j, got[j])
					}
				}
			}
			if n != c.wantReplay {
				t.Fatalf("%d entries marked Replay, want %d", n, c.wantReplay)
			}
			// The cursor never moves back into what is replayed: a crash
			// then would read the entries after it as new ones.
			for j, at := range h.at {
				if at <= c.wantReplay {
					t.Fatalf("checkpoint %d after %d entries, inside the replay of %d", j, at, c.wantReplay)
				}
			}
		})
	}
}

// TestClockStep: entries whose receive times move apart from the boot's
// monotonic clock by a second or more carry the step; the others none.
func TestClockStep(t *testing.T) {
	dir := t.TempDir()
	es := numbered(t0, 0, 6)
	for i := range es {
		es[i].Monotonic = time.Hour + time.Duration(i)*time.Millisecond
	}
	// The wall clock is stepped back 90 s before entry 2 and forward 10 min
	// before entry 4; 500 ms of drift before entry 5 is no step.
	es[2].Realtime = es[2].Realtime.Add(-90 * time.Second)
	es[3].Realtime = es[3].Realtime.Add(-90 * time.Second)
	es[4].Realtime = es[4].Realtime.Add(-90*time.Second + 10*time.Minute)
	es[5].Realtime = es[5].Realtime.Add(-90*time.Second + 10*time.Minute + 500*time.Millisecond)
	journaltest.Write(t, dir, es)
	h := &recorder{}
	read(t, context.Background(), journal.Config{Path: dir, Matches: podMatches}, h)
	want := []time.Duration{0, 0, -90 * time.Second, 0, 10 * time.Minute, 0}
	if len(h.entries) != len(want) {
		t.Fatalf("%d entries, want %d", len(h.entries), len(want))
	}
	for i, e := range h.entries {
		if e.ClockStep != want[i] {
			t.Errorf("entry %d: ClockStep %s, want %s", i, e.ClockStep, want[i])
		}
	}
}
