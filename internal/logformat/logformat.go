// Package logformat turns one log line of the kubelet or of a container
// runtime into a typed event. It knows the formats (klog text and JSON,
// containerd's logfmt and JSON, CRI-O) and the messages of every kubelet and
// runtime version podstart supports, and nothing of where lines come from.
//
// Each format has its own file; formats.go lists them in the order they are
// tried. Parsers never panic and never block: a line they cannot read yields
// an Unrecognised or Malformed result.
package logformat

import (
	"time"
	"unicode/utf8"

	"github.com/podstart/podstart/internal/event"
)

// Outcome says what became of a line.
type Outcome uint8

// Outcomes of Parse.
const (
	// Recognised: the line means something for a pod start; Event is set.
	Recognised Outcome = iota
	// Unrecognised: a well-formed line of a known format that podstart does
	// not use, or text in no known format.
	Unrecognised
	// Malformed: the line starts like a known format but breaks it (cut
	// short, bad quoting, bad JSON). What could be read may still be used.
	Malformed
)

// String returns the outcome as a metric label value.
func (o Outcome) String() string {
	switch o {
	case Recognised:
		return "recognised"
	case Unrecognised:
		return "unrecognised"
	default:
		return "malformed"
	}
}

// MaxLine is the longest line parsed. Longer lines are cut to this length
// first; what remains is parsed as far as it goes.
const MaxLine = 1 << 20

// Result is what Parse made of a line.
type Result struct {
	Event   event.Event
	Outcome Outcome
	Format  string // the format that read the line ("klog", "klog-json", "containerd", "crio"), "" when none did
}

// Parse reads one log line: a journal MESSAGE, or a whole line as journalctl
// prints it. recv is when the journal received the line (zero when unknown);
// it supplies the year and time zone that klog headers leave out.
func Parse(line string, recv time.Time) Result {
	var p Parser
	return p.Parse(line, recv)
}

// Parser parses lines as Parse does, keeping its scratch space from one
// line to the next, so that a line costs no allocation to read its keys.
// The zero value is ready; it is not safe for concurrent use.
type Parser struct {
	free [][]kv // key lists not in use; one per wrapper a line nests
}

// take returns an empty key list to scan a line's keys into.
func (p *Parser) take() []kv {
	if p == nil || len(p.free) == 0 {
		return make([]kv, 0, 16)
	}
	s := p.free[len(p.free)-1]
	p.free = p.free[:len(p.free)-1]
	return s[:0]
}

// give hands a key list back once its line is parsed: nothing a Result
// holds points into it (its values are strings of their own).
func (p *Parser) give(s []kv) {
	if p != nil && cap(s) > 0 && len(p.free) < 4 {
		clear(s[:cap(s)]) // drop the strings of the line, for the collector
		p.free = append(p.free, s)
	}
}

// Parse reads one log line, as the package's Parse does.
func (p *Parser) Parse(line string, recv time.Time) Result {
	if len(line) > MaxLine {
		line = line[:MaxLine]
	}
	if !utf8.ValidString(line) {
		line = toValidUTF8(line)
	}
	if res, ok := parseFormats(p, line, recv); ok {
		return res
	}
	// No format at the start of the line: a journal or syslog prefix, or a
	// wrapper, may stand in front of one.
	if body, pfxTime, ok := stripPrefix(line); ok {
		if recv.IsZero() {
			recv = pfxTime
		}
		if res, ok := parseFormats(p, body, recv); ok {
			return res
		}
	}
	// A kubelet line whose header was cut off (`sed 's/^.*\] //'`, a
	// pasted excerpt): the quoted message and keys alone. Taken only when
	// the message is one the kubelet mapping knows, so free text that
	// happens to start with a quote stays unrecognised.
	if len(line) > 1 && line[0] == '"' {
		if res := parseKlogBody(p, line, 'I', recv); res.Event.Kind != event.Unrecognised {
			return res
		}
	}
	return Result{Event: event.Event{Kind: event.Unrecognised, Time: recv}, Outcome: Unrecognised}
}

// parseFormats tries every format at the start of line.
func parseFormats(p *Parser, line string, recv time.Time) (Result, bool) {
	for _, f := range formats {
		res, ok := f.parse(p, line, recv)
		if !ok {
			continue
		}
		if res.Outcome == Recognised && (res.Event.Kind == "" || res.Event.Kind == event.Unrecognised) {
			res.Event.Kind = event.Unrecognised
			res.Outcome = Unrecognised
		}
		if res.Event.Kind == "" {
			res.Event.Kind = event.Unrecognised
		}
		if res.Format == "" {
			res.Format = f.name
		}
		return res, true
	}
	return Result{}, false
}

// IsContinuation reports whether a journal entry continues the previous
// entry of the same process rather than starting a new line: the body or end
// of a klog multi-line value (`\t…`, ` >…`), or the rest of a line that a
// literal newline split (no header of any known format).
func IsContinuation(msg string) bool {
	if msg == "" {
		return false
	}
	if msg[0] == '\t' || (len(msg) >= 2 && msg[0] == ' ' && msg[1] == '>') {
		return true
	}
	for _, f := range formats {
		if f.starts(msg) {
			return false
		}
	}
	return true
}

// Opens reports whether a line ends inside a klog multi-line value (`key=<`),
// so that the entries after it belong to it.
func Opens(msg string) bool {
	n := len(msg)
	return n >= 2 && msg[n-1] == '<' && msg[n-2] == '='
}

func toValidUTF8(s string) string {
	b := make([]byte, 0, len(s))
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		if r == utf8.RuneError && size <= 1 {
			b = append(b, "\uFFFD"...)
			s = s[1:]
			continue
		}
		b = append(b, s[:size]...)
		s = s[size:]
	}
	return string(b)
}
