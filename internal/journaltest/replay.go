package journaltest

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Replaying recorded lines as new ones: at another time, from another
// process, about other pods.

// klogHeader matches a klog text header: severity, MMDD hh:mm:ss.micro,
// the thread id padded to 7, and the source location.
var klogHeader = regexp.MustCompile(`^([IWEF])(\d{4} \d{2}:\d{2}:\d{2}\.\d{6}) +(\d+) `)

// Timestamps embedded in the recordings' lines, each with its layout.
var embedded = []struct {
	re     *regexp.Regexp
	layout string // "" for exited_at's seconds and nanos
}{
	{regexp.MustCompile(`time="(\d{4}-\d{2}-\d{2}T[0-9:.]+Z)"`), time.RFC3339Nano},                                                // logrus (containerd)
	{regexp.MustCompile(`"ts":"(\d{4}-\d{2}-\d{2}T[0-9:.]+Z)"`), "2006-01-02T15:04:05.000000Z07:00"},                              // zap (etcd)
	{regexp.MustCompile(`(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)? \+0000 UTC)`), "2006-01-02 15:04:05.999999999 -0700 MST"}, // Go's time.Time.String
	{regexp.MustCompile(`exited_at:\{(seconds:\d+ nanos:\d+)\}`), ""},                                                             // containerd's protobuf text
}

// ShiftMessage moves the timestamps a line carries by d: the klog header
// (which has no year), logrus's time="…" (containerd), zap's "ts":"…"
// (etcd), Go time.Time strings ("2026-11-29 16:30:53 +0000 UTC") and
// containerd's exited_at:{seconds:… nanos:…}.
func ShiftMessage(msg string, d time.Duration) string {
	if d == 0 {
		return msg
	}
	if m := klogHeader.FindStringSubmatchIndex(msg); m != nil {
		// 2000 is a leap year, so 0229 parses.
		if t, err := time.Parse("2006 0102 15:04:05.000000", "2000 "+msg[m[4]:m[5]]); err == nil {
			msg = msg[:m[4]] + t.Add(d).Format("0102 15:04:05.000000") + msg[m[5]:]
		}
	}
	for _, em := range embedded {
		if !em.re.MatchString(msg) {
			continue
		}
		var b strings.Builder
		last := 0
		for _, m := range em.re.FindAllStringSubmatchIndex(msg, -1) {
			b.WriteString(msg[last:m[2]])
			b.WriteString(shiftTime(msg[m[2]:m[3]], em.layout, d))
			last = m[3]
		}
		b.WriteString(msg[last:])
		msg = b.String()
	}
	return msg
}

func shiftTime(s, layout string, d time.Duration) string {
	if layout == "" {
		var sec, ns int64
		if _, err := fmt.Sscanf(s, "seconds:%d nanos:%d", &sec, &ns); err != nil {
			return s
		}
		t := time.Unix(sec, ns).Add(d)
		return fmt.Sprintf("seconds:%d nanos:%d", t.Unix(), t.Nanosecond())
	}
	t, err := time.Parse(layout, s)
	if err != nil {
		return s
	}
	return t.Add(d).UTC().Format(layout)
}

// SetKlogPID puts pid in a klog header's thread-id column, as the process
// pid would have logged the line.
func SetKlogPID(msg string, pid int) string {
	m := klogHeader.FindStringSubmatchIndex(msg)
	if m == nil {
		return msg
	}
	return msg[:m[5]] + " " + pad7(pid) + " " + msg[m[7]+1:]
}

func pad7(pid int) string {
	s := strconv.Itoa(pid)
	if len(s) < 7 {
		s = strings.Repeat(" ", 7-len(s)) + s
	}
	return s
}

// Replay returns entry e as process p would have logged it d later, with
// rewrite (if not nil) applied to its message first: p's fields replace
// the recorded process's, and the times in the message move with the
// receive time.
func (p *Process) Replay(e Entry, d time.Duration, rewrite func(string) string) Entry {
	msg := e.Message()
	if rewrite != nil {
		msg = rewrite(msg)
	}
	msg = SetKlogPID(ShiftMessage(msg, d), p.PID)
	return p.Entry(e.Realtime.Add(d), msg)
}

// IDs of the recordings' lines: container and sandbox ids and image
// digests (64 hex), API pod UIDs (UUID) and static pod UIDs (32 hex), also
// in cgroup paths (.../pod<uid>).
var idPattern = regexp.MustCompile(`(?:\bpod|\b)([0-9a-f]{64}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32})\b`)

// FreshIDs returns a rewrite that replaces every id in a line (64-hex
// container, sandbox and image ids, pod UIDs) by a new one derived from
// seed, the same old id always by the same new one, so that the lines of
// one recorded pod become the lines of another pod. names maps further
// text (pod names) to its replacement.
func FreshIDs(seed string, names ...string) func(string) string {
	ids := map[string]string{}
	var rn *strings.Replacer
	if len(names) > 0 {
		rn = strings.NewReplacer(names...)
	}
	fresh := func(old string) string {
		if n, ok := ids[old]; ok {
			return n
		}
		h := id(seed, old) + id(old, seed)
		var n string
		switch len(old) {
		case 64:
			n = h
		case 32:
			n = h[:32]
		default:
			n = h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
		}
		ids[old] = n
		return n
	}
	return func(msg string) string {
		if ms := idPattern.FindAllStringSubmatchIndex(msg, -1); ms != nil {
			var b strings.Builder
			last := 0
			for _, m := range ms {
				b.WriteString(msg[last:m[2]])
				b.WriteString(fresh(msg[m[2]:m[3]]))
				last = m[3]
			}
			b.WriteString(msg[last:])
			msg = b.String()
		}
		if rn != nil {
			msg = rn.Replace(msg)
		}
		return msg
	}
}
