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
	for i := 1; i < limit; i++ {
		if c := line[i-1]; c != ' ' && c != '\t' && c != ':' {
			continue
		}
		rest := line[i:]
		for _, f := range formats {
			if f.starts(rest) {
				return rest, prefixTime(line[:i]), true
			}
		}
	}
	return "", time.Time{}, false
}

// Month abbreviations as journalctl prints them in the locales seen in the
// corpus (C, de, fr, es, pt, it, nl); matched case-insensitively.
var monthNames = map[string]time.Month{
	"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
	"mär": 3, "mai": 5, "okt": 10, "dez": 12, "janv": 1, "févr": 2, "mars": 3, "avr": 4, "juin": 6, "juil": 7, "août": 8,
	"sept": 9, "déc": 12, "ene": 1, "abr": 4, "ago": 8, "dic": 12, "fev": 2, "set": 9, "out": 10, "dez.": 12,
	"gen": 1, "mag": 5, "giu": 6, "lug": 7, "ott": 10, "mrt": 3, "mei": 5,
}

// prefixTime reads the time at the start of a prefix: RFC 3339, or the
// journal's `Mon DD HH:MM:SS[.ffffff]` (no year: the most recent such date
// not in the future is taken, in UTC).
func prefixTime(p string) time.Time {
	f := strings.Fields(p)
	if len(f) == 0 {
		return time.Time{}
	}
	if t, err := time.Parse(time.RFC3339Nano, f[0]); err == nil {
		return t.UTC()
	}
	if len(f) < 3 {
		return time.Time{}
	}
	mon, ok := monthNames[strings.ToLower(strings.TrimSuffix(f[0], "."))]
	if !ok {
		return time.Time{}
	}
	clock, err := time.Parse("15:04:05.999999", f[2])
	if err != nil {
		return time.Time{}
	}
	day := 0
	for _, c := range f[1] {
		if c < '0' || c > '9' {
			return time.Time{}
		}
		day = day*10 + int(c-'0')
	}
	now := time.Now().UTC()
	t := time.Date(now.Year(), mon, day, clock.Hour(), clock.Minute(), clock.Second(), clock.Nanosecond(), time.UTC)
	if t.After(now.Add(24 * time.Hour)) {
		t = t.AddDate(-1, 0, 0)
	}
	return t
}
