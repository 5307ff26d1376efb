package logformat

import (
	"strings"
	"time"

	"github.com/podstart/podstart/internal/event"
)

// klog's text header: `Lmmdd hh:mm:ss.uuuuuu threadid file:line] msg`.
// The header has no year and no time zone.
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
	return digits(s[1:5]) && s[5] == ' ' && digits(s[6:8]) && s[8] == ':' && digits(s[9:11]) &&
		s[11] == ':' && digits(s[12:14]) && s[14] == '.' && digits(s[15:21])
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

// parseKlogText reads a klog text line. The kubelet's messages are then
// looked up in kubelet.go.
func parseKlogText(line string, recv time.Time) (Result, bool) {
	if !klogStarts(line) {
		return Result{}, false
	}
	res := Result{Outcome: Recognised, Format: "klog"}
	t := klogTime(line, recv)
	rec := record{sev: line[0]}
	// After the time: spaces, the PID (one space only with 7-digit PIDs),
	// a space, file:line and "] ".
	rest := line[klogHeaderLen:]
	end := strings.Index(rest, "] ")
	if end < 0 || end > 128 {
		res.Outcome = Malformed
		res.Event = event.Event{Kind: event.Unrecognised, Time: t, Source: event.SourceKubelet}
		return res, true
	}
	body := rest[end+2:]
	if body != "" && body[0] == '"' {
		msg, n, ok := scanValue(body)
		rec.msg = msg
		if !ok {
			res.Outcome = Malformed
		}
		var good bool
		rec.kvs, good = parseKVs(body[n:], make([]kv, 0, 8))
		if !good {
			res.Outcome = Malformed
		}
	} else {
		// Unstructured (klog.Infof/Errorf): the whole body is the message.
		rec.msg = body
	}
	ev, ok := kubeletEvent(&rec)
	if !ok {
		ev.Kind = event.Unrecognised
		if res.Outcome == Recognised {
			res.Outcome = Unrecognised
		}
	}
	ev.Time = t
	ev.Source = event.SourceKubelet
	res.Event = ev
	return res, true
}

// klogTime places a klog header's month, day and time of day in absolute
// time. The year and the zone offset come from recv, the time the journal
// received the line: the offset is recv minus the header read as UTC,
// rounded to a quarter hour (every zone offset is a multiple of one). So the
// result keeps klog's microseconds, which journald's receive time lacks.
func klogTime(line string, recv time.Time) time.Time {
	month := time.Month(atoi(line[1:3]))
	day := atoi(line[3:5])
	hh, mm, ss, us := atoi(line[6:8]), atoi(line[9:11]), atoi(line[12:14]), atoi(line[15:21])
	ref := recv
	if ref.IsZero() {
		ref = time.Now()
	}
	ref = ref.UTC()
	t := time.Date(ref.Year(), month, day, hh, mm, ss, us*1000, time.UTC)
	// Around New Year the header may belong to the year before or after.
	if d := t.Sub(ref); d > 180*24*time.Hour {
		t = t.AddDate(-1, 0, 0)
	} else if d < -180*24*time.Hour {
		t = t.AddDate(1, 0, 0)
	}
	if recv.IsZero() {
		return t
	}
	off := recv.Sub(t)
	const quarter = 15 * time.Minute
	if off > 15*time.Hour || off < -15*time.Hour {
		return t // not a zone offset: a clock that jumped, or a copied log
	}
	return t.Add(off.Round(quarter))
}
