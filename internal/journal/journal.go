// Package journal reads the kubelet's and the container runtime's entries
// from the systemd journal: through libsystemd (sd-journal, see sd.go) when
// following or resuming, and from the journal files directly when reading
// once from the start or a time (file.go). It hands each entry's message,
// unit, process and receive time to a Handler, and knows nothing of what
// the messages mean.
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
	"unsafe"
)

// Entry is one journal entry, as much of it as podstart reads.
type Entry struct {
	// Message is valid only until Handler.Entry returns: it lies in a
	// buffer the reader reuses, so that no entry costs a copy. A handler
	// that keeps it, or any part of it, copies it (strings.Clone).
	Message string
	Unit    string // _SYSTEMD_UNIT, or SYSLOG_IDENTIFIER when the entry has no unit
	PID     string
	Time    time.Time // __REALTIME_TIMESTAMP: when journald received the line
	// Replay: the entry was handed over before, up to Config.Cursor, and is
	// read again because Config.ReplayFrom asked for it.
	Replay bool
	// ClockStep is how far the node's wall clock was stepped (by NTP, by
	// hand) since the previous entry read: the receive times moved by this
	// much more than the boot's monotonic clock did. Zero normally.
	ClockStep time.Duration
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
	// ReplayFrom, with a usable Cursor before it in time, begins reading
	// at this receive time instead of after the cursor: the entries up to
	// and including the cursor's are handed over again, marked Replay. An
	// agent restarted in the middle of pod starts rebuilds their timelines
	// this way.
	ReplayFrom time.Time
	// Follow keeps reading as entries arrive, until the context ends.
	Follow bool
	// Scribble overwrites each message once its handler returned, so that
	// a handler that keeps Entry.Message without copying it shows up as
	// garbage in tests instead of as a rare corruption on a node.
	Scribble bool
	// CheckpointEvery bounds how often Checkpoint is called; zero means 5s.
	CheckpointEvery time.Duration
	// Libsystemd reads through libsystemd even where the journal files
	// could be read directly (read-once mode, see file.go).
	Libsystemd bool
}

// source is what Run reads from: libsystemd (sd.go) or the journal files
// themselves (file.go).
type source interface {
	next(e *sdEntry) (bool, error)
	cursor() (string, error)
	close()
}

// Reader reads one journal. It is not safe for concurrent use; Run owns it.
type Reader struct {
	cfg Config
	src source
	j   *sdJournal // the same as src when reading through libsystemd; nil otherwise
	// Direct is set when the journal files are read directly (file.go)
	// rather than through libsystemd.
	Direct bool
	// CursorReset is set when Open could not resume from Config.Cursor
	// (vacuumed away, or from another journal) and fell back to Since.
	CursorReset bool
	// replayUntil is the cursor whose entry ends the replay, and
	// replayUntilUs its receive time; empty when not replaying.
	replayUntil   string
	replayUntilUs uint64
}

// ErrNoJournal says the path holds no journal files.
var ErrNoJournal = errors.New("no journal files found")

// Open opens the journal, applies the matches and seeks to where reading
// begins. Its errors name the path and say what to do.
func Open(cfg Config) (*Reader, error) {
	if err := check(cfg.Path); err != nil {
		return nil, err
	}
	if !cfg.Follow && cfg.Cursor == "" && cfg.ReplayFrom.IsZero() && !cfg.Libsystemd {
		// Read once from the start or a time: the files can be read
		// directly. Files of a kind file.go does not read fall back to
		// libsystemd below.
		if fj, err := openFiles(cfg.Path, cfg.Matches, cfg.Since); err == nil {
			return &Reader{cfg: cfg, src: fj, Direct: true}, nil
		}
	}
	var (
		j   *sdJournal
		err error
	)
	switch fi, _ := os.Stat(cfg.Path); {
	case cfg.Path == "":
		j, err = openLocal()
	case fi != nil && !fi.IsDir():
		j, err = openFile(cfg.Path)
	default:
		j, err = openDir(cfg.Path)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot open the journal at %s: %w", describe(cfg.Path), err)
	}
	r := &Reader{cfg: cfg, src: j, j: j}
	if err := r.addMatches(); err != nil {
		j.close()
		return nil, err
	}
	if err := r.seek(); err != nil {
		j.close()
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
			if err := r.j.addDisjunction(); err != nil {
				return fmt.Errorf("cannot filter the journal: %w", err)
			}
		}
		for _, v := range byField[f] {
			if err := r.j.addMatch(f + "=" + v); err != nil {
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
		if err := r.j.seekCursor(c); err == nil {
			var e sdEntry
			ok, err := r.j.next(&e)
			if err == nil && ok && r.j.testCursor(c) {
				if rf := r.cfg.ReplayFrom; !rf.IsZero() && uint64(rf.UnixMicro()) < e.realtime {
					if err := r.j.seekRealtime(rf); err != nil {
						return fmt.Errorf("cannot seek the journal to %s: %w", rf.Format(time.RFC3339), err)
					}
					r.replayUntil, r.replayUntilUs = c, e.realtime
				}
				return nil // positioned on the last entry read: the next is new
			}
		}
		// The cursor's entry is gone (vacuumed, rotated away) or from
		// another journal: begin from Since, as without a cursor.
		r.CursorReset = true
	}
	if !r.cfg.Since.IsZero() {
		if err := r.j.seekRealtime(r.cfg.Since); err != nil {
			return fmt.Errorf("cannot seek the journal to %s: %w", r.cfg.Since.Format(time.RFC3339), err)
		}
		return nil
	}
	if err := r.j.seekHead(); err != nil {
		return fmt.Errorf("cannot seek to the start of the journal: %w", err)
	}
	return nil
}

// Close releases the journal.
func (r *Reader) Close() error {
	r.src.close()
	return nil
}

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
		strs           = interner{}
		se             sdEntry
		prev           sdEntry // realtime, monotonic and boot of the last entry handed over
	)
	checkpoint := func(force bool) {
		if !pending || (!force && time.Since(lastCheckpoint) < every) {
			return
		}
		if c, err := r.src.cursor(); err == nil {
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
		ok, err := r.src.next(&se)
		if err != nil {
			return fmt.Errorf("cannot read the next journal entry: %w", err)
		}
		if !ok {
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
		if se.message == nil {
			continue // an entry without MESSAGE (or unreadable): nothing to parse
		}
		e := Entry{Message: unsafe.String(unsafe.SliceData(se.message), len(se.message)), PID: strs.get(se.pid)}
		if r.replayUntil != "" {
			// The cursor's entry ends the replay; one past its time does
			// too, should it have been missed.
			if se.realtime > r.replayUntilUs {
				r.replayUntil = ""
			} else {
				e.Replay = true
				if r.j.testCursor(r.replayUntil) {
					r.replayUntil = ""
				}
			}
		}
		if se.realtime != 0 {
			e.Time = time.UnixMicro(int64(se.realtime)).UTC()
		}
		if len(se.unit) > 0 {
			e.Unit = strs.get(se.unit)
		} else {
			e.Unit = strs.get(se.ident)
		}
		e.ClockStep = clockStep(&prev, &se)
		h.Entry(e)
		if r.cfg.Scribble {
			for i := range se.message {
				se.message[i] = '#'
			}
		}
		// A replayed entry was handed over before: the cursor never
		// moves back to it.
		pending = pending || !e.Replay
		if n&1023 == 0 {
			checkpoint(false)
		}
	}
}

// minClockStep is the least difference between the wall clock's and the
// monotonic clock's advance that counts as a step: journald stamps both
// when it receives an entry, so they agree to microseconds otherwise.
const minClockStep = time.Second

// clockStep compares the entry's receive times with the previous entry's
// of the same boot and returns by how much the wall clock was stepped
// between them, if at least minClockStep; it then remembers the entry.
func clockStep(prev, cur *sdEntry) time.Duration {
	var d time.Duration
	if prev.monotonic != 0 && cur.monotonic != 0 && prev.boot == cur.boot {
		rt := time.Duration(int64(cur.realtime)-int64(prev.realtime)) * time.Microsecond
		mono := time.Duration(int64(cur.monotonic)-int64(prev.monotonic)) * time.Microsecond
		if step := rt - mono; step >= minClockStep || step <= -minClockStep {
			d = step
		}
	}
	prev.realtime, prev.monotonic, prev.boot = cur.realtime, cur.monotonic, cur.boot
	return d
}

// interner keeps the few PIDs and units that log from being allocated as
// strings per entry.
type interner map[string]string

// maxInterned bounds the interner; past it (processes come and go) it
// starts over.
const maxInterned = 256

func (in *interner) get(b []byte) string {
	if s, ok := (*in)[string(b)]; ok { // no allocation: the compiler's map lookup by bytes
		return s
	}
	if len(*in) >= maxInterned {
		*in = interner{}
	}
	s := string(b)
	(*in)[s] = s
	return s
}

// pollEvery bounds how long the reader sleeps without looking: journald
// tells inotify of new entries only every 250 ms (its post-change timer),
// while the entries are in the mapped file at once, so looking every
// 50 ms cuts the latency from a line to the metric by about 200 ms for a
// few microseconds of CPU a look.
const pollEvery = 50 * time.Millisecond

// wait blocks until the journal changes or ctx ends. A failing wait (for
// example inotify instances exhausted) is retried after a pause, so that it
// never spins.
func (r *Reader) wait(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return nil
		}
		switch st := r.j.wait(pollEvery); {
		case st == sdAppend, st == sdInvalidate:
			return nil
		case st == sdNop:
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
