package logformat

import (
	"strings"
	"time"
)

// maxPrefix bounds the search for a known format behind a prefix, so a long
// line in no known format costs little.
const maxPrefix = 256

// stripPrefix finds a known format behind whatever stands in front of it: a
// journalctl short or short-precise prefix (`Nov 29 15:25:41 host kubelet[17689]: `),
// an RFC 3339 syslog prefix, a wrapper such as MicroShift's `kubelet I0206 …`,
// minikube's `* ` or Talos' `10.200.1.3: `. It returns the line from the
// format on, and the prefix's time when it has one.
func stripPrefix(line string) (string, time.Time, bool) {
	limit := len(line)
	if limit > maxPrefix {
		limit = maxPrefix
	}
	braces := 0
	for i := 1; i < limit; i++ {
		if c := line[i-1]; c != ' ' && c != '\t' && c != ':' {
			continue
		}
		rest := line[i:]
		if rest[0] == '{' {
			// A JSON format's test may read the whole line: try a few
			// braces only, so a long line of them costs little.
			if braces++; braces > 4 {
				continue
			}
		}
		for _, f := range formats {
			if f.starts(rest) {
				return rest, prefixTime(line[:i]), true
			}
		}
	}
	return "", time.Time{}, false
}

// Month abbreviations as journalctl prints them (the locale's %b): C/en, de,
// fr, es, pt, it, nl and ru, matched case-insensitively with a trailing dot
// dropped. CJK locales print the month number and 月 or 월 ("2月", "3월"),
// read by monthOf.
var monthNames = map[string]time.Month{
	"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
	"mär": 3, "mrz": 3, "mai": 5, "okt": 10, "dez": 12, "janv": 1, "févr": 2, "mars": 3, "avr": 4, "avril": 4, "juin": 6, "juil": 7,
	"août": 8, "sept": 9, "déc": 12, "ene": 1, "abr": 4, "ago": 8, "dic": 12, "fev": 2, "set": 9, "out": 10,
	"gen": 1, "mag": 5, "giu": 6, "lug": 7, "ott": 10, "mrt": 3, "mei": 5,
	"янв": 1, "фев": 2, "мар": 3, "апр": 4, "мая": 5, "май": 5, "июн": 6, "июл": 7, "авг": 8, "сен": 9, "окт": 10, "ноя": 11, "дек": 12,
}

// monthOf reads a journal prefix's month.
func monthOf(s string) (time.Month, bool) {
	if m, ok := monthNames[strings.ToLower(strings.TrimSuffix(s, "."))]; ok {
		return m, true
	}
	for _, suffix := range []string{"月", "월"} {
		if n := strings.TrimSuffix(s, suffix); len(n) < len(s) && len(n) >= 1 && len(n) <= 2 && digits(n) {
			if m := atoi(n); m >= 1 && m <= 12 {
				return time.Month(m), true
			}
		}
	}
	return 0, false
}

// prefixTime reads the time at the start of a prefix: RFC 3339, or the
// journal's `Mon DD HH:MM:SS[.ffffff]` (no year: the most recent such date
// not more than a day in the future is taken, in UTC). minikube's `* ` in
// front is skipped.
func prefixTime(p string) time.Time {
	f := strings.Fields(p)
	if len(f) > 0 && f[0] == "*" {
		f = f[1:]
	}
	if len(f) == 0 {
		return time.Time{}
	}
	if t, err := time.Parse(time.RFC3339Nano, f[0]); err == nil {
		return t.UTC()
	}
	if len(f) < 3 {
		return time.Time{}
	}
	mon, ok := monthOf(f[0])
	if !ok {
		return time.Time{}
	}
	clock, err := time.Parse("15:04:05.999999", f[2])
	if err != nil {
		return time.Time{}
	}
	if len(f[1]) > 2 || !digits(f[1]) {
		return time.Time{}
	}
	day := atoi(f[1])
	if day < 1 || day > 31 {
		return time.Time{}
	}
	now := time.Now().UTC()
	t := time.Date(now.Year(), mon, day, clock.Hour(), clock.Minute(), clock.Second(), clock.Nanosecond(), time.UTC)
	if t.After(now.Add(24 * time.Hour)) {
		t = time.Date(now.Year()-1, mon, day, clock.Hour(), clock.Minute(), clock.Second(), clock.Nanosecond(), time.UTC)
	}
	return t
}
