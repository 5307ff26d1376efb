// Package journaltest writes real systemd journal files for tests, as
// net/http/httptest runs real servers: entries go through
// systemd-journal-remote (Debian package systemd-journal-remote), so the
// files are exactly what libsystemd and journalctl read on a node, with the
// receive times the test chose.
//
// Entries are built with Process, which adds the fields journald stores for
// a line of a systemd service (see Process.Entry), or taken from the real
// recordings in testdata (Recording). Write turns them into a journal file;
// calling it again on the same directory adds a second file, and a
// directory of several files is read as one journal.
package journaltest

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Entry is one journal entry: when journald received it, and its fields.
type Entry struct {
	// Realtime is __REALTIME_TIMESTAMP (microsecond precision).
	Realtime time.Time
	// Monotonic is __MONOTONIC_TIMESTAMP, the time since boot. Zero means
	// Realtime since the Unix epoch, which keeps entries of one boot in
	// order whatever file they are in.
	Monotonic time.Duration
	// Fields maps field names (MESSAGE, _PID, ...) to values. A value may
	// hold newlines or any bytes: such values are written in the export
	// format's binary form.
	Fields map[string]string
}

// Message returns the entry's MESSAGE.
func (e Entry) Message() string { return e.Fields["MESSAGE"] }

// Remote is the systemd-journal-remote binary. Tests fail, never skip,
// when it is missing.
var Remote = "/lib/systemd/systemd-journal-remote"

// ErrNoRemote says systemd-journal-remote is not installed.
var ErrNoRemote = errors.New("systemd-journal-remote is not installed (Debian/Ubuntu: apt-get install systemd-journal-remote)")

func remotePath() (string, error) {
	if fi, err := os.Stat(Remote); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		return "", fmt.Errorf("%w: no executable %s", ErrNoRemote, Remote)
	}
	return Remote, nil
}

var fieldName = regexp.MustCompile(`^[A-Z_][A-Z0-9_]{0,63}$`)

// AppendExport appends e in the journal export format to b: FIELD=value
// lines, binary-safe fields for values that are not printable text, and the
// blank line that ends an entry.
func AppendExport(b []byte, e Entry) ([]byte, error) {
	if e.Realtime.IsZero() {
		return b, errors.New("journaltest: entry without Realtime")
	}
	us := e.Realtime.UnixMicro()
	mono := e.Monotonic.Microseconds()
	if e.Monotonic == 0 {
		mono = us
	}
	if us <= 0 || mono < 0 {
		return b, fmt.Errorf("journaltest: entry times out of range (realtime %s, monotonic %s)", e.Realtime, e.Monotonic)
	}
	b = append(b, "__REALTIME_TIMESTAMP="...)
	b = strconv.AppendInt(b, us, 10)
	b = append(b, "\n__MONOTONIC_TIMESTAMP="...)
	b = strconv.AppendInt(b, mono, 10)
	b = append(b, '\n')
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if c := cmp.Compare(fieldRank(a), fieldRank(b)); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	for _, k := range keys {
		if !fieldName.MatchString(k) || k[:2] == "__" {
			return b, fmt.Errorf("journaltest: %q is not a journal field name (A-Z, 0-9 and _, not starting with a digit or __)", k)
		}
		b = appendField(b, k, e.Fields[k])
	}
	return append(b, '\n'), nil
}

// journaldOrder is the order in which journald hands an entry's fields to
// the journal file (a stream's own fields, the message, then the fields it
// adds about the sender). The file creates the data objects of new values
// in this order and sorts an entry's items by object offset, so the order
// decides how far sd_journal_get_data scans for a field: keeping journald's
// keeps reading costs as on a node.
var journaldOrder = []string{
	"_TRANSPORT", "_STREAM_ID", "PRIORITY", "SYSLOG_FACILITY", "SYSLOG_IDENTIFIER", "SYSLOG_PID", "SYSLOG_TIMESTAMP", "MESSAGE",
	"_PID", "_UID", "_GID", "_COMM", "_EXE", "_CMDLINE", "_CAP_EFFECTIVE", "_SELINUX_CONTEXT", "_AUDIT_SESSION", "_AUDIT_LOGINUID",
	"_SYSTEMD_CGROUP", "_SYSTEMD_SESSION", "_SYSTEMD_OWNER_UID", "_SYSTEMD_UNIT", "_SYSTEMD_USER_UNIT", "_SYSTEMD_SLICE",
	"_SYSTEMD_USER_SLICE", "_SYSTEMD_INVOCATION_ID", "_SOURCE_REALTIME_TIMESTAMP", "_SOURCE_MONOTONIC_TIMESTAMP",
	"_BOOT_ID", "_MACHINE_ID", "_HOSTNAME", "_RUNTIME_SCOPE",
}

var fieldRanks = func() map[string]int {
	m := map[string]int{}
	for i, f := range journaldOrder {
		m[f] = i
	}
	return m
}()

// fieldRank places journald's own fields in its order; other fields (a
// native sender's CODE_FILE, UNIT, ...) come after MESSAGE, as journald
// keeps a native message's fields together.
func fieldRank(f string) int {
	if r, ok := fieldRanks[f]; ok {
		return r
	}
	return fieldRanks["MESSAGE"]
}

func appendField(b []byte, k, v string) []byte {
	if printable(v) {
		b = append(b, k...)
		b = append(b, '=')
		b = append(b, v...)
		return append(b, '\n')
	}
	b = append(b, k...)
	b = append(b, '\n')
	b = binary.LittleEndian.AppendUint64(b, uint64(len(v)))
	b = append(b, v...)
	return append(b, '\n')
}

// printable reports whether v may be written as FIELD=value: valid UTF-8
// without control characters other than tab.
func printable(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
		if c >= 0x80 {
			return utf8.ValidString(v[i:])
		}
	}
	return true
}

// Writer streams entries into one systemd-journal-remote process, which
// writes them to a journal file. It is the non-test form of Write, for
// generators of large journals.
type Writer struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	bw     *bufio.Writer
	stderr bytes.Buffer
	buf    []byte
	n      int
	err    error
	path   string
}

// NewWriter starts systemd-journal-remote writing to path, which must end
// in .journal. An existing file is appended to. When the file grows past
// journal-remote's size limit (about 270,000 entries of a busy node) it is
// rotated: the full file is renamed to path's name with @… before .journal
// and a new file takes its place, so read the whole directory.
func NewWriter(path string) (*Writer, error) {
	bin, err := remotePath()
	if err != nil {
		return nil, err
	}
	if filepath.Ext(path) != ".journal" {
		return nil, fmt.Errorf("journaltest: %s: systemd-journal-remote output must end in .journal", path)
	}
	w := &Writer{path: path}
	w.cmd = exec.Command(bin, "--output="+path, "-")
	w.cmd.Stdout = &w.stderr
	w.cmd.Stderr = &w.stderr
	if w.in, err = w.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	if err := w.cmd.Start(); err != nil {
		return nil, fmt.Errorf("journaltest: starting %s: %w", bin, err)
	}
	w.bw = bufio.NewWriterSize(w.in, 1<<20)
	return w, nil
}

// Write adds one entry.
func (w *Writer) Write(e Entry) error {
	if w.err != nil {
		return w.err
	}
	var err error
	if w.buf, err = AppendExport(w.buf[:0], e); err != nil {
		w.err = err
		return err
	}
	if _, err := w.bw.Write(w.buf); err != nil {
		w.err = fmt.Errorf("journaltest: writing to systemd-journal-remote: %w (%s)", err, bytes.TrimSpace(w.stderr.Bytes()))
		return w.err
	}
	w.n++
	return nil
}

// remoteDone is what systemd-journal-remote prints when it finishes.
var remoteDone = regexp.MustCompile(`Finishing after writing (\d+) entries`)

// Close ends the input and waits for systemd-journal-remote to finish the
// file. It fails when journal-remote did not write every entry.
func (w *Writer) Close() error {
	ferr := w.bw.Flush()
	cerr := w.in.Close()
	werr := w.cmd.Wait()
	out := bytes.TrimSpace(w.stderr.Bytes())
	switch {
	case w.err != nil:
		return w.err
	case werr != nil:
		return fmt.Errorf("journaltest: systemd-journal-remote --output=%s: %w: %s", w.path, werr, out)
	case ferr != nil:
		return fmt.Errorf("journaltest: writing to systemd-journal-remote: %w: %s", ferr, out)
	case cerr != nil:
		return cerr
	}
	if m := remoteDone.FindSubmatch(out); m != nil {
		if n, _ := strconv.Atoi(string(m[1])); n != w.n {
			return fmt.Errorf("journaltest: systemd-journal-remote wrote %d of %d entries to %s: %s", n, w.n, w.path, out)
		}
	}
	return nil
}

// WriteFile writes entries to the journal file at path (ending in
// .journal) with systemd-journal-remote. When path exists, journal-remote
// appends to it, as journald appends to system.journal. The test fails
// when journal-remote is missing or rejects an entry.
func WriteFile(t testing.TB, path string, entries []Entry) {
	t.Helper()
	if err := writeFile(path, entries); err != nil {
		t.Fatal(err)
	}
}

func writeFile(path string, entries []Entry) error {
	w, err := NewWriter(path)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := w.Write(e); err != nil {
			_ = w.Close()
			return err
		}
	}
	return w.Close()
}

// Write writes entries to a new journal file in dir, named podstart-NNN.journal
// after the files already there, and returns its path. Call it again to
// add a second file: a directory of files is read as one journal, in
// time order (same boot: by monotonic time).
func Write(t testing.TB, dir string, entries []Entry) string {
	t.Helper()
	path, err := nextFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	WriteFile(t, path, entries)
	return path
}

func nextFile(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	for i := 1; ; i++ {
		p := filepath.Join(dir, fmt.Sprintf("podstart-%03d.journal", i))
		if _, err := os.Lstat(p); errors.Is(err, os.ErrNotExist) {
			return p, nil
		} else if err != nil {
			return "", err
		}
	}
}

// WriteAside writes entries to a new journal file outside dir and then
// renames it into dir, so that a reader following dir sees a complete file
// appear at once, as when journald rotates. It returns the final path.
func WriteAside(t testing.TB, dir string, entries []Entry) string {
	t.Helper()
	path, err := nextFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(t.TempDir(), filepath.Base(path))
	WriteFile(t, tmp, entries)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	return path
}
