package logformat

import "strings"

// kv is one key=value pair of a structured line, its value already decoded:
// quoted strings are unquoted, klog multi-line values (key=<…>) joined with
// newlines, brackets and bare tokens kept as written.
type kv struct {
	key, val string
	// cut: the value ran to the end of the line without being closed (an
	// unterminated quote or bracket, a multi-line value that never ended):
	// the line was cut short. What there is may serve as a message, never
	// as a name or an ID.
	cut bool
}

// record is a decoded log line of any supported encoding, before its meaning
// is looked up. The kubelet's text and JSON encodings both decode into one,
// and so do containerd's logfmt and JSON, so that each component's messages
// are mapped to events in one place.
type record struct {
	sev byte // klog I/W/E/F, or the first letter of a logrus level upper-cased
	msg string
	kvs []kv
	// raw holds key=value text not yet scanned: most lines are not about
	// pod starts, and their keys are never asked for, so they are scanned
	// only when a key is (load).
	raw    string
	bad    bool // scanning raw found text that was not a pair
	loaded bool
}

// load scans raw into kvs, once.
func (r *record) load() {
	if r.loaded || r.raw == "" {
		r.loaded = true
		return
	}
	r.loaded = true
	var ok bool
	r.kvs, ok = parseKVs(r.raw, r.kvs)
	r.bad = !ok
}

// get returns the last value of key (klog: a later duplicate wins).
func (r *record) get(key string) string {
	r.load()
	for i := len(r.kvs) - 1; i >= 0; i-- {
		if r.kvs[i].key == key {
			return r.kvs[i].val
		}
	}
	return ""
}

// whole returns the last value of key unless it was cut short: names and
// IDs are read only from whole values.
func (r *record) whole(key string) string {
	r.load()
	for i := len(r.kvs) - 1; i >= 0; i-- {
		if r.kvs[i].key == key {
			if r.kvs[i].cut {
				return ""
			}
			return r.kvs[i].val
		}
	}
	return ""
}

// parseKVs scans ` key=value` pairs as klog's text format and logrus's logfmt
// write them. It never fails: text it cannot read as a pair is skipped up to
// the next space, and ok reports whether that happened.
func parseKVs(s string, dst []kv) (_ []kv, ok bool) {
	dst, _, ok = parseKVsUntil(s, dst, "")
	return dst, ok
}

// parseKVsUntil is parseKVs that stops after the pair whose key is stop
// ("" never stops) and returns the text left unscanned.
func parseKVsUntil(s string, dst []kv, stop string) (_ []kv, rest string, ok bool) {
	ok = true
	for {
		s = strings.TrimLeft(s, " ")
		if s == "" {
			return dst, "", ok
		}
		eq := keyEnd(s)
		if eq <= 0 || eq >= len(s) || s[eq] != '=' {
			ok = false
			sp := strings.IndexByte(s, ' ')
			if sp < 0 {
				return dst, "", ok
			}
			s = s[sp:]
			continue
		}
		key := s[:eq]
		rest := s[eq+1:]
		val, n, good := scanValue(rest)
		if !good {
			ok = false
		}
		dst = append(dst, kv{key: key, val: val, cut: !good && n == len(rest)})
		s = rest[n:]
		if key == stop {
			return dst, s, ok
		}
	}
}

// keyEnd returns the length of the key at the start of s.
func keyEnd(s string) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || c == '.' || c == '-' || c == '/' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') {
			continue
		}
		return i
	}
	return len(s)
}

// scanValue reads one value at the start of s and returns it decoded with the
// number of bytes consumed.
func scanValue(s string) (val string, n int, ok bool) {
	if s == "" {
		return "", 0, true
	}
	switch s[0] {
	case '"':
		end := quotedEnd(s)
		if end < 0 {
			// Unterminated: a line cut short. Keep what is there.
			return unescapeLoose(s[1:]), len(s), false
		}
		q := s[:end+1]
		if strings.IndexByte(q, '\\') < 0 {
			return q[1 : len(q)-1], end + 1, true
		}
		u, err := unquote(q)
		if err != nil {
			return unescapeLoose(q[1 : len(q)-1]), end + 1, false
		}
		return u, end + 1, true
	case '<':
		if len(s) == 1 {
			// key=< at the end of the line: the value's lines are in the
			// journal entries that follow (see Joiner).
			return "", 1, false
		}
		if s[1] == '\n' {
			return multiline(s)
		}
	case '{', '[':
		end := bracketEnd(s, 0)
		if end < 0 {
			return s, len(s), false
		}
		return s[:end+1], end + 1, true
	case '&':
		// A pointer to a struct as %+v renders it: &{…} or &Type{…}
		// (klog before v2.100); the braces may hold spaces.
		i := 1
		for i < len(s) && (s[i] == '.' || s[i] == '_' || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')) {
			i++
		}
		if i < len(s) && s[i] == '{' {
			end := bracketEnd(s, i)
			if end < 0 {
				return s, len(s), false
			}
			return s[:end+1], end + 1, true
		}
	}
	sp := strings.IndexByte(s, ' ')
	if sp < 0 {
		return s, len(s), true
	}
	return s[:sp], sp, true
}

// quotedEnd returns the index of the closing quote of the Go-quoted string
// that starts s, or -1.
func quotedEnd(s string) int {
	// Jump from quote to quote (IndexByte is vectorised); a quote ends the
	// string unless an odd number of backslashes stands before it.
	for i := 1; i < len(s); {
		q := strings.IndexByte(s[i:], '"')
		if q < 0 {
			return -1
		}
		i += q
		n := 0
		for j := i - 1; j >= 1 && s[j] == '\\'; j-- {
			n++
		}
		if n%2 == 0 {
			return i
		}
		i++
	}
	return -1
}

// bracketEnd returns the index of the bracket closing the one at s[start],
// skipping quoted strings, or -1.
func bracketEnd(s string, start int) int {
	depth := 0
	for i := start; i < len(s); i++ {
		switch s[i] {
		case '"':
			e := quotedEnd(s[i:])
			if e < 0 {
				return -1
			}
			i += e
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

// multiline decodes klog's `key=<\n\tline\n\tline\n >` value. s starts at '<'.
func multiline(s string) (string, int, bool) {
	var b strings.Builder
	i := 2
	for i <= len(s) {
		nl := strings.IndexByte(s[i:], '\n')
		var line string
		next := len(s)
		if nl >= 0 {
			line = s[i : i+nl]
			next = i + nl + 1
		} else {
			line = s[i:]
		}
		if strings.HasPrefix(line, " >") {
			return b.String(), i + 2, true
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(strings.TrimPrefix(line, "\t"))
		if nl < 0 {
			break
		}
		i = next
	}
	// Never closed: the value runs to the end.
	return b.String(), len(s), false
}

// unescapeLoose undoes the common escapes of a string that strconv cannot
// unquote (cut short, or invalid escapes).
func unescapeLoose(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	return looseUnescaper.Replace(s)
}

var looseUnescaper = strings.NewReplacer(`\"`, `"`, `\\`, `\`, `\n`, "\n", `\t`, "\t")

// kvSyntaxOK reports whether s reads as key=value pairs, as parseKVs would
// find, without decoding any value: lines no mapping wants are checked this
// way, so that broken ones are still counted as malformed.
func kvSyntaxOK(s string) bool {
	for {
		s = strings.TrimLeft(s, " ")
		if s == "" {
			return true
		}
		eq := keyEnd(s)
		if eq <= 0 || eq >= len(s) || s[eq] != '=' {
			return false
		}
		rest := s[eq+1:]
		n, ok := skimValue(rest)
		if !ok {
			return false
		}
		s = rest[n:]
	}
}

// skimValue is scanValue without decoding: the bytes a value takes.
func skimValue(s string) (int, bool) {
	if s != "" {
		switch s[0] {
		case '"':
			end := quotedEnd(s)
			if end < 0 {
				return len(s), false
			}
			return end + 1, true
		case '<':
			if len(s) == 1 {
				return 1, false
			}
			if s[1] == '\n' {
				i := strings.Index(s, "\n >")
				if i < 0 {
					return len(s), false
				}
				return i + 3, true
			}
		}
	}
	_, n, ok := scanValue(s) // brackets and bare tokens: no copies
	return n, ok
}
