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
	b, _ := json.Marshal(state{Version: 1, Cursor: cursor, SavedAt: time.Now().UTC()})
	if err := renameio.WriteFile(a.cfg.StateFile, b, 0o600); err != nil {
		a.health.StateErrors.Inc()
		a.log.Error("cannot write the state file", "path", a.cfg.StateFile, "err", err)
		return
	}
	a.mu.Lock()
	a.savedAt = time.Now()
	a.mu.Unlock()
}
