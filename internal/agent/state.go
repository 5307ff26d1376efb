package agent

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"time"

	"github.com/google/renameio/v2"
)

// state is what the state file holds.
type state struct {
	Version int       `json:"version"`
	Cursor  string    `json:"cursor"`
	SavedAt time.Time `json:"saved_at"`
	// ReplayFrom is when the earliest pod in flight was first seen: a
	// restart reads the journal again from there (version 2).
	ReplayFrom time.Time `json:"replay_from,omitzero"`
	// Pods holds the observations made, by pod and kind, of recent pods:
	// a restart drops them when the replay makes them again (version 2).
	Pods map[string]map[string]int `json:"pods,omitempty"`
}

// loadState reads the state file. A missing file is a first start; an
// unreadable or corrupt one is reported and ignored (reading falls back to
// the lookback), never fatal.
func (a *Agent) loadState() state {
	var st state
	if a.cfg.StateFile == "" {
		return st
	}
	b, err := os.ReadFile(a.cfg.StateFile)
	if errors.Is(err, fs.ErrNotExist) {
		return st
	}
	if err != nil {
		a.log.Warn("cannot read the state file; starting from the lookback", "path", a.cfg.StateFile, "err", err)
		return st
	}
	if err := json.Unmarshal(b, &st); err != nil {
		a.log.Warn("state file is corrupt; starting from the lookback", "path", a.cfg.StateFile, "err", err)
		return state{}
	}
	return st
}

// saveState writes the cursor of the last entry handed to the timeline,
// atomically (temporary file, fsync, rename), at most every StateInterval
// unless forced.
func (a *Agent) saveState(force bool) {
	if a.cfg.StateFile == "" {
		return
	}
	a.mu.Lock()
	cursor := a.cursor
	due := force || time.Since(a.savedAt) >= a.cfg.StateInterval
	a.mu.Unlock()
	if cursor == "" || !due {
		return
	}
	st := state{Version: 2, Cursor: cursor, SavedAt: time.Now().UTC()}
	if d := a.cfg.Dedup; d != nil {
		if t := a.tl.InFlightSince(); !t.IsZero() {
			// A second early: journald's receive time is a little after
			// the time a line states. No further back than replayWindow
			// before the latest event.
			st.ReplayFrom = t.Add(-time.Second).UTC()
			if limit := a.tl.Clock().Add(-replayWindow); st.ReplayFrom.Before(limit) {
				st.ReplayFrom = limit.UTC()
			}
		}
		st.Pods = d.snapshot(time.Now().Add(-replayWindow))
	}
	b, _ := json.Marshal(st)
	if err := renameio.WriteFile(a.cfg.StateFile, b, 0o600); err != nil {
		a.health.StateErrors.Inc()
		a.log.Error("cannot write the state file", "path", a.cfg.StateFile, "err", err)
		return
	}
	a.mu.Lock()
	a.savedAt = time.Now()
	a.mu.Unlock()
}
