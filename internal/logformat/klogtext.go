package logformat

import (
	"strings"
	"time"

	"github.com/podstart/podstart/internal/event"
)

// klog's text header: `Lmmdd hh:mm:ss.uuuuuu threadid file:line] msg`.
// The header has no year and no time zone. The thread ID (the PID) is
// right-aligned in 7 columns, so a 7-digit PID leaves one space only.
const klogHeaderLen = 21 // up to and including the microseconds

func klogStarts(s string) bool {
	if len(s) < klogHeaderLen+2 {
		return false
	}
	switch s[0] {
	case 'I', 'W', 'E', 'F':
	default:
		return false
	}
	if !(digits(s[1:5]) && s[5] == ' ' && digits(s[6:8]) && s[8] == ':' && digits(s[9:11]) &&
		s[11] == ':' && digits(s[12:14]) && s[14] == '.' && digits(s[15:21]) && s[21] == ' ') {
		return false
	}
	// Plausible date and time only: text that merely looks like a header
	// (an ID, a value) is not one.
	mon, day := atoi(s[1:3]), atoi(s[3:5])
	return mon >= 1 && mon <= 12 && day >= 1 && day <= 31 && atoi(s[6:8]) < 24 && atoi(s[9:11]) < 60 && atoi(s[12:14]) <= 60
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// maxHeaderTail bounds the search for the "] " that ends the header: the
// PID and file:line take a few dozen bytes.
const maxHeaderTail = 128

// parseKlogText reads a klog text line. The kubelet's messages are then
// looked up in kubelet.go.
func parseKlogText(p *Parser, line string, recv time.Time) (Result, bool) {
	if !klogStarts(line) {
		return Result{}, false
	}
	t := klogTime(line, recv)
	// After the time: spaces, the PID, a space, file:line and "] ".
	rest := line[klogHeaderLen:]
	end := strings.Index(rest, "] ")
	if end < 0 || end > maxHeaderTail {
		if strings.HasSuffix(rest, "]") && len(rest) <= maxHeaderTail {
			end = len(rest) - 1 // a line with an empty message
		} else {
			return Result{Outcome: Malformed, Format: "klog", Event: event.Event{Kind: event.Unrecognised, Time: t, Source: event.SourceKubelet}}, true
		}
	}
	body := ""
	if end+2 <= len(rest) {
		body = rest[end+2:]
	}
	res := parseKlogBody(p, body, line[0], t)
	res.Event.PID = headerPID(rest[:end])
	return res, true
}

// headerPID reads the thread ID (the PID) that starts the header's tail,
// "  17689 server.go:545"; 0 when there is none.
func headerPID(tail string) int {
	tail = strings.TrimLeft(tail, " ")
	n := 0
	for i := 0; i < len(tail) && i < 10; i++ {
		c := tail[i]
		if c == ' ' {
			return n
		}
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return 0
}

// parseKlogBody reads what follows a klog header: a quoted message and
// key=value pairs (structured logging), or free text (klog.Infof). sev is
// the header's severity letter.
func parseKlogBody(p *Parser, body string, sev byte, t time.Time) Result {
	res := Result{Outcome: Recognised, Format: "klog"}
	kvs := p.take()
	defer p.give(kvs)
	rec := record{sev: sev, kvs: kvs}
	if body != "" && body[0] == '"' {
		if end := quotedEnd(body); end > 0 {
			if q := body[1:end]; strings.IndexByte(q, '\\') >= 0 && !kubeletMayMatch(q) && validQuoted(q) {
				// No mapping reads this message: it is not decoded
				// (see prefilter.go), only checked.
				res.Outcome = Unrecognised
				if !kvSyntaxOK(body[end+1:]) {
					res.Outcome = Malformed
				}
				res.Event = event.Event{Kind: event.Unrecognised, Time: t, Source: event.SourceKubelet}
				return res
			}
		}
		msg, n, ok := scanValue(body)
		rec.msg = msg
		if !ok {
			// The message itself was cut short (a pager, a cut -c): there
			// are no keys, and the text may stop anywhere. Not mapped.
			res.Outcome = Malformed
			res.Event = event.Event{Kind: event.Unrecognised, Time: t, Source: event.SourceKubelet}
			return res
		}
		rec.raw = body[n:]
	} else {
		// Unstructured (klog.Infof/Errorf): the whole body is the message.
		rec.msg = body
	}
	ev, ok := kubeletEvent(&rec)
	if rec.bad || (!rec.loaded && !kvSyntaxOK(rec.raw)) {
		res.Outcome = Malformed
	}
	if !ok {
		ev = event.Event{Kind: event.Unrecognised}
		if res.Outcome == Recognised {
			res.Outcome = Unrecognised
		}
	}
	ev.Time = t
	ev.Source = event.SourceKubelet
	res.Event = ev
	return res
}

// klogTime places a klog header's month, day and time of day in absolute
// time; the year and the zone offset come from recv, the time the journal
// received the line (or, when that is unknown, the clock).
func klogTime(line string, recv time.Time) time.Time {
	var now time.Time
	if recv.IsZero() {
		now = time.Now() // only needed without recv: not read per line
	}
	return klogTimeAt(line, recv, now)
}

// zoneSlack is how far the header may seem to lie after the receive time
// and still count as the same zone: a journalctl short prefix has whole
// seconds only, so a header can lie up to a second after it.
const zoneSlack = 2 * time.Second

// klogTimeAt is klogTime with the clock passed in.
//
// The year is recv's, or the one before or after when that puts the header
// closer to recv (New Year). Without recv the header is taken to be no more
// than a day in the future of now: a log being read is not from next year.
//
// The zone offset is recv minus the header read as UTC, rounded down to a
// quarter hour (every zone offset is a multiple of one). Rounding down, not
// to the nearest, because the difference is the offset plus how late the
// journal received the line: about 40 µs normally, minutes when a process's
// output was held up (k3s), never negative beyond the prefix's lost
// fraction of a second. A difference beyond any zone (±15 h) is a clock that
// jumped or a copied log: the header is then kept as UTC. So the result keeps
// klog's microseconds, which a journalctl prefix lacks.
func klogTimeAt(line string, recv, now time.Time) time.Time {
	month := time.Month(atoi(line[1:3]))
	day := atoi(line[3:5])
	hh, mm, ss, us := atoi(line[6:8]), atoi(line[9:11]), atoi(line[12:14]), atoi(line[15:21])
	if recv.IsZero() {
		now = now.UTC()
		t := time.Date(now.Year(), month, day, hh, mm, ss, us*1000, time.UTC)
		if t.Sub(now) > 24*time.Hour {
			t = time.Date(now.Year()-1, month, day, hh, mm, ss, us*1000, time.UTC)
		}
		return t
	}
	ref := recv.UTC()
	t := time.Date(ref.Year(), month, day, hh, mm, ss, us*1000, time.UTC)
	// Around New Year the header may belong to the year before or after.
	if d := t.Sub(ref); d > 180*24*time.Hour {
		t = time.Date(ref.Year()-1, month, day, hh, mm, ss, us*1000, time.UTC)
	} else if d < -180*24*time.Hour {
		t = time.Date(ref.Year()+1, month, day, hh, mm, ss, us*1000, time.UTC)
	}
	off := recv.Sub(t)
	if off > 15*time.Hour || off < -15*time.Hour {
		return t
	}
	const quarter = 15 * time.Minute
	x := off + zoneSlack
	q := x / quarter // truncates toward zero: round negatives down
	if x < 0 && x%quarter != 0 {
		q--
	}
	zone := q * quarter
	return t.Add(zone)
}
