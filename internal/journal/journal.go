// Package journal reads the kubelet's and the container runtime's entries
// from the systemd journal through libsystemd (go-systemd's sdjournal). It
// hands each entry's message, unit, process and receive time to a Handler,
// and knows nothing of what the messages mean.
//
// Only the fields podstart needs are read, and the journal's own matches
// select the units, because the per-entry cost is the agent's main cost.
package journal

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/coreos/go-systemd/v22/sdjournal"
)

// Entry is one journal entry, as much of it as podstart reads.
type Entry struct {
	Message string
	Unit    string // _SYSTEMD_UNIT, or SYSLOG_IDENTIFIER when the entry has no unit
	PID     string
	Time    time.Time // __REALTIME_TIMESTAMP: when journald received the line
}

// Handler receives what a Reader reads. Calls come from the reader's own
// goroutine, one at a time.
type Handler interface {
	// Entry is called for each entry, in journal order.
	Entry(e Entry)
	// CaughtUp is called whenever the reader has read all there is (for a
	// moment, in follow mode): a good time to flush what waits for more.
	CaughtUp()
	// Checkpoint is called after entries were handed over with the cursor
	// of the last of them, at most every CheckpointEvery.
	Checkpoint(cursor string)
}

// Match selects entries: Field=Value. Matches on the same field are ORed;
// groups of different fields are ORed too (each Match is its own
// alternative), as in journalctl's `_SYSTEMD_UNIT=a + SYSLOG_IDENTIFIER=b`.
type Match struct {
	Field, Value string
}

func (m Match) String() string { return m.Field + "=" + m.Value }

// Config says what to read and where to begin.
type Config struct {
	// Path is a journal directory or one journal file; empty means the
	// local system journal (/var/log/journal and /run/log/journal).
	Path    string
	Matches []Match
	// Cursor, when set, resumes right after that entry.
	Cursor string
	// Since is where to begin without a usable cursor; zero means the
	// start of the journal.
	Since time.Time
	// Follow keeps reading as entries arrive, until the context ends.
	Follow bool
	// CheckpointEvery bounds how often Checkpoint is called; zero means 5s.
	CheckpointEvery time.Duration
}

// Reader reads one journal. It is not safe for concurrent use; Run owns it.
type Reader struct {
	cfg Config
	j   *sdjournal.Journal
	// CursorReset is set when Open could not resume from Config.Cursor
	// (vacuumed away, or from another journal) and fell back to Since.
	CursorReset bool
}

// ErrNoJournal says the path holds no journal files.
var ErrNoJournal = errors.New("no journal files found")

// Open opens the journal, applies the matches and seeks to where reading
// begins. Its errors name the path and say what to do.
func Open(cfg Config) (*Reader, error) {
	if err := check(cfg.Path); err != nil {
		return nil, err
	}
	var (
		j   *sdjournal.Journal
		err error
	)
	switch fi, _ := os.Stat(cfg.Path); {
	case cfg.Path == "":
		j, err = sdjournal.NewJournal()
	case fi != nil && !fi.IsDir():
		j, err = sdjournal.NewJournalFromFiles(cfg.Path)
	default:
		j, err = sdjournal.NewJournalFromDir(cfg.Path)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot open the journal at %s: %w", describe(cfg.Path), err)
	}
	r := &Reader{cfg: cfg, j: j}
	if err := r.addMatches(); err != nil {
		j.Close()
		return nil, err
	}
	if err := r.seek(); err != nil {
		j.Close()
		return nil, err
	}
	return r, nil
}

func describe(path string) string {
	if path == "" {
		return "the local system journal (/var/log/journal, /run/log/journal)"
	}
	return path
}

// check tells, before libsystemd silently skips what it cannot read,
// whether the path has journal files podstart may read.
func check(path string) error {
	paths := []string{path}
	if path == "" {
		paths = []string{"/var/log/journal", "/run/log/journal"}
	}
	var denied error
	found := false
	for _, p := range paths {
		err := filepath.WalkDir(p, func(name string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrPermission) && denied == nil {
					denied = err
				}
				if d != nil && d.IsDir() && name != p {
					return fs.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				// A journal directory holds files directly or in one level
				// of machine-id subdirectories.
				if name != p && strings.Count(strings.TrimPrefix(name, p), "/") > 2 {
					return fs.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(name, ".journal") && !strings.HasSuffix(name, ".journal~") {
				return nil
			}
			f, err := os.Open(name)
			if err != nil {
				if errors.Is(err, fs.ErrPermission) && denied == nil {
					denied = err
				}
				return nil
			}
			f.Close()
			found = true
			return fs.SkipAll
		})
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("cannot read the journal at %s: %w", describe(path), err)
		}
		if found {
			return nil
		}
	}
	if denied != nil {
		return fmt.Errorf("cannot read the journal at %s: %w (run podstart as root or in the systemd-journal group)", describe(path), denied)
	}
	if path != "" {
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("cannot open the journal at %s: %w", path, err)
		}
	}
	return fmt.Errorf("%w at %s", ErrNoJournal, describe(path))
}

func (r *Reader) addMatches() error {
	// Group matches by field: same-field matches OR within a group, and a
	// disjunction separates the groups.
	var fields []string
	byField := map[string][]string{}
	for _, m := range r.cfg.Matches {
		if _, ok := byField[m.Field]; !ok {
			fields = append(fields, m.Field)
		}
		byField[m.Field] = append(byField[m.Field], m.Value)
	}
	for i, f := range fields {
		if i > 0 {
			if err := r.j.AddDisjunction(); err != nil {
				return fmt.Errorf("cannot filter the journal: %w", err)
			}
		}
		for _, v := range byField[f] {
			if err := r.j.AddMatch(f + "=" + v); err != nil {
				return fmt.Errorf("cannot filter the journal on %s=%s: %w", f, v, err)
			}
		}
	}
	return nil
}

// seek places the reader so that the next Next returns the first entry to
// hand over.
func (r *Reader) seek() error {
	if c := r.cfg.Cursor; c != "" {
		if err := r.j.SeekCursor(c); err == nil {
			n, err := r.j.Next()
			if err == nil && n > 0 && r.j.TestCursor(c) == nil {
				return nil // positioned on the last entry read: the next is new
			}
		}
		// The cursor's entry is gone (vacuumed, rotated away) or from
		// another journal: begin from Since, as without a cursor.
		r.CursorReset = true
	}
	if !r.cfg.Since.IsZero() {
		if err := r.j.SeekRealtimeUsec(uint64(r.cfg.Since.UnixMicro())); err != nil {
			return fmt.Errorf("cannot seek the journal to %s: %w", r.cfg.Since.Format(time.RFC3339), err)
		}
		return nil
	}
	if err := r.j.SeekHead(); err != nil {
		return fmt.Errorf("cannot seek to the start of the journal: %w", err)
	}
	return nil
}

// Close releases the journal.
func (r *Reader) Close() error { return r.j.Close() }

// Run reads entries and hands them to h: to the end of the journal, or,
// in follow mode, until ctx ends. A read error of one entry is skipped;
// errors of the journal as a whole are returned.
func (r *Reader) Run(ctx context.Context, h Handler) error {
	every := r.cfg.CheckpointEvery
	if every <= 0 {
		every = 5 * time.Second
	}
	var (
		lastCheckpoint time.Time
		pending        bool // entries handed over since the last checkpoint
		units          unitCache
	)
	checkpoint := func(force bool) {
		if !pending || (!force && time.Since(lastCheckpoint) < every) {
			return
		}
		if c, err := r.j.GetCursor(); err == nil {
			h.Checkpoint(c)
			pending = false
			lastCheckpoint = time.Now()
		}
	}
	n := 0
	for {
		if n&1023 == 0 {
			if err := ctx.Err(); err != nil {
				checkpoint(true)
				return nil
			}
		}
		n++
		adv, err := r.j.Next()
		if err != nil {
			return fmt.Errorf("cannot read the next journal entry: %w", err)
		}
		if adv == 0 {
			h.CaughtUp()
			checkpoint(true)
			if !r.cfg.Follow {
				return nil
			}
			if err := r.wait(ctx); err != nil {
				return err
			}
			continue
		}
		// Each field read scans the entry's fields up to it (about 20 on a
		// node), which makes it cost as much as Next. MESSAGE is read as
		// one string (GetData copies once) and the unit only when its
		// process is new (see unitCache).
		msg, err := r.j.GetData("MESSAGE")
		if err != nil {
			continue // an entry without MESSAGE (or unreadable): nothing to parse
		}
		e := Entry{Message: strings.TrimPrefix(msg, "MESSAGE=")}
		var us uint64
		if us, err = r.j.GetRealtimeUsec(); err == nil {
			e.Time = time.UnixMicro(int64(us)).UTC()
		}
		var pid []byte
		if b, err := r.j.GetDataBytes("_PID"); err == nil {
			pid = value(b)
		}
		e.PID, e.Unit = units.lookup(pid, us, r.readUnit)
		h.Entry(e)
		pending = true
		if n&1023 == 0 {
			checkpoint(false)
		}
	}
}

// readUnit reads the current entry's _SYSTEMD_UNIT, or its
// SYSLOG_IDENTIFIER when it has no unit.
func (r *Reader) readUnit() []byte {
	if b, err := r.j.GetDataBytes("_SYSTEMD_UNIT"); err == nil {
		return value(b)
	}
	if b, err := r.j.GetDataBytes("SYSLOG_IDENTIFIER"); err == nil {
		return value(b)
	}
	return nil
}

// unitCache remembers the unit of the processes that log, so that the unit
// (a field as costly to read as MESSAGE) is read once per process rather
// than once per entry. A process stays in its unit; its PID could name
// another process later, but only after it exited and the PIDs wrapped
// around, or after a reboot. So a PID's unit is reused only while the PID
// keeps logging: when it was last seen more than unitTTL before (by
// receive time), or time went backwards (another boot, another file), the
// unit is read again. It also keeps the PID and unit strings, which
// rarely change, from being allocated per entry.
type unitCache struct {
	procs []procUnit // most recent first
	last  uint64     // receive time of the previous entry, µs
}

type procUnit struct {
	pid, unit string
	seen      uint64 // receive time of its last entry, µs
}

// unitTTL is how long a PID's unit is trusted after its last entry, in µs.
const unitTTL = 5_000_000

// maxProcs bounds the processes remembered; more are only seen when
// processes come and go, and the least recent is forgotten.
const maxProcs = 32

// lookup returns the PID (as a string) and the unit of an entry received
// at us from process pid; read reads the unit from the entry.
func (c *unitCache) lookup(pid []byte, us uint64, read func() []byte) (string, string) {
	if us < c.last {
		c.procs = c.procs[:0] // time went back: another boot or file
	}
	c.last = us
	if len(pid) == 0 {
		return "", c.unitString(read())
	}
	for i := range c.procs {
		p := &c.procs[i]
		if p.pid != string(pid) {
			continue
		}
		if us-p.seen > unitTTL {
			if u := read(); p.unit != string(u) {
				p.unit = c.unitString(u)
			}
		}
		p.seen = us
		if i > 0 {
			// Move to the front: the processes that log most are found first.
			q := *p
			copy(c.procs[1:i+1], c.procs[:i])
			c.procs[0] = q
		}
		return c.procs[0].pid, c.procs[0].unit
	}
	if len(c.procs) == maxProcs {
		c.procs = c.procs[:maxProcs-1]
	}
	c.procs = append(c.procs, procUnit{})
	copy(c.procs[1:], c.procs)
	c.procs[0] = procUnit{pid: string(pid), unit: c.unitString(read()), seen: us}
	return c.procs[0].pid, c.procs[0].unit
}

// unitString returns u as a string, sharing the strings of known units.
func (c *unitCache) unitString(u []byte) string {
	for i := range c.procs {
		if c.procs[i].unit == string(u) {
			return c.procs[i].unit
		}
	}
	return string(u)
}

// value returns the part of a FIELD=value data object after '='.
func value(b []byte) []byte {
	for i, c := range b {
		if c == '=' {
			return b[i+1:]
		}
	}
	return nil
}

// wait blocks until the journal changes or ctx ends. A failing wait (for
// example inotify instances exhausted) is retried after a pause, so that it
// never spins.
func (r *Reader) wait(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return nil
		}
		switch st := r.j.Wait(250 * time.Millisecond); {
		case st == sdjournal.SD_JOURNAL_APPEND, st == sdjournal.SD_JOURNAL_INVALIDATE:
			return nil
		case st == sdjournal.SD_JOURNAL_NOP:
			if ctx.Err() != nil {
				return nil
			}
			// Nothing new: try again, but also look once, since a rotated
			// file may not signal.
			return nil
		case st < 0:
			err := syscall.Errno(-st)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(time.Second):
			}
			_ = err
		}
	}
}
