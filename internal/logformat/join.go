package logformat

import "time"

// Joiner re-joins log lines that journald stored as several entries: a klog
// multi-line value (`key=<`, tab-indented lines, ` >` and maybe more
// key=values) arrives as one entry per physical line, and a value with a
// literal newline is split the same way. Continuations come from the same
// process, so lines are keyed by PID.
//
// Only a line that opens a multi-line value is held back until it closes;
// every other line is handed on at once, so joining never reorders lines.
// Header-less entries after a line that was already handed on are dropped
// as continuations (they hold no record of their own) and counted.
type Joiner struct {
	procs []proc
}

type proc struct {
	key       string
	unit      string
	held      []byte
	t         time.Time
	open      bool // a line is held
	seen      bool // a line of this process has been handed on
	contCount int
}

// maxProcs bounds the processes remembered; more are only seen when
// processes restart, and the oldest is forgotten first.
const maxProcs = 64

// Emit receives a complete line; cont counts header-less entries that were
// merged into it or dropped after it.
type Emit func(unit, line string, t time.Time, cont int)

func (j *Joiner) proc(key string, emit Emit) *proc {
	for i := range j.procs {
		if j.procs[i].key == key {
			return &j.procs[i]
		}
	}
	if len(j.procs) >= maxProcs {
		// The oldest process is forgotten; a line it holds is handed on
		// as far as it got, not lost.
		if j.procs[0].open {
			j.release(&j.procs[0], emit, 0)
		}
		j.procs = append(j.procs[:0], j.procs[1:]...)
	}
	j.procs = append(j.procs, proc{key: key})
	return &j.procs[len(j.procs)-1]
}

// Add takes one entry of process key (the journal's _PID, or the unit when
// there is none).
func (j *Joiner) Add(key, unit, msg string, t time.Time, emit Emit) {
	p := j.proc(key, emit)
	if IsContinuation(msg) {
		switch {
		case p.open:
			if len(p.held)+1+len(msg) <= MaxLine {
				p.held = append(p.held, '\n')
				p.held = append(p.held, msg...)
			}
			// A closing ` >` may be followed by another `key=<`.
			if len(msg) >= 2 && msg[0] == ' ' && msg[1] == '>' && !Opens(msg) {
				j.release(p, emit, 1)
				return
			}
			p.contCount++
		case p.seen:
			emit(unit, "", t, 1)
		default:
			// Nothing to continue: parse it as a line of its own.
			emit(unit, msg, t, 0)
		}
		return
	}
	if p.open {
		j.release(p, emit, 0)
	}
	p.unit = unit
	p.seen = true
	if Opens(msg) {
		p.open = true
		p.t = t
		p.held = append(p.held[:0], msg...)
		p.contCount = 0
		return
	}
	emit(unit, msg, t, 0)
}

func (j *Joiner) release(p *proc, emit Emit, extra int) {
	line := string(p.held)
	n := p.contCount + extra
	p.open = false
	p.held = p.held[:0]
	p.contCount = 0
	emit(p.unit, line, p.t, n)
}

// Flush hands on every held line: a multi-line value that never closed is
// parsed as far as it got.
func (j *Joiner) Flush(emit Emit) {
	for i := range j.procs {
		if j.procs[i].open {
			j.release(&j.procs[i], emit, 0)
		}
	}
}
