package journal

// A thin binding of libsystemd's sd-journal, made for the one loop that
// costs: each entry is read with one C call. go-systemd's sdjournal pays,
// for every field read, a C string for the field name, a mutex, a function
// looked up by name and a copy (about 0.45 µs before libsystemd does any
// work), and a field read scans the entry's items up to that field, which
// on a node is nearly all of them: journald stores the new MESSAGE value
// last. sdNext walks the items once (sd_journal_enumerate_data) and keeps
// the four fields podstart reads, so an entry costs what reading its
// MESSAGE alone costs. bench/ and the tests keep go-systemd as the
// reference reader.

/*
#cgo LDFLAGS: -lsystemd
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-journal.h>

// ps_entry is what ps_next keeps of an entry. msg points into buf, which
// ps_next grows as needed; the other fields are short and kept inline,
// cut to their arrays' size.
typedef struct {
	char *buf;
	size_t cap;
	size_t msg_len;
	int has_msg;
	uint64_t realtime;
	uint64_t monotonic;
	sd_id128_t boot;
	char pid[24];
	size_t pid_len;
	char unit[256];
	size_t unit_len;
	char ident[256];
	size_t ident_len;
} ps_entry;

static size_t ps_copy(char *dst, size_t cap, const char *src, size_t len) {
	if (len > cap) len = cap;
	memcpy(dst, src, len);
	return len;
}

// ps_next advances to the next entry and reads it: 1 when there is one,
// 0 at the end, a negative errno on failure. A field that cannot be read
// (a corrupt object, say) is left out; the entry is still returned.
static int ps_next(sd_journal *j, ps_entry *e) {
	int r = sd_journal_next(j);
	if (r <= 0) return r;
	e->has_msg = 0;
	e->msg_len = e->pid_len = e->unit_len = e->ident_len = 0;
	if (sd_journal_get_realtime_usec(j, &e->realtime) < 0) e->realtime = 0;
	if (sd_journal_get_monotonic_usec(j, &e->monotonic, &e->boot) < 0) e->monotonic = 0;
	const void *d;
	size_t l;
	sd_journal_restart_data(j);
	for (;;) {
		int k = sd_journal_enumerate_data(j, &d, &l);
		if (k == 0) break;
		if (k < 0) {
			// libsystemd 252 and later pass over a bad item themselves;
			// an error here ends what older ones can read of the entry.
			break;
		}
		const char *s = d;
		if (l >= 8 && s[0] == 'M' && memcmp(s, "MESSAGE=", 8) == 0) {
			size_t n = l - 8;
			if (n + 1 > e->cap) {
				size_t c = e->cap ? e->cap : 4096;
				while (c < n + 1) c *= 2;
				char *b = realloc(e->buf, c);
				if (!b) return -ENOMEM;
				e->buf = b;
				e->cap = c;
			}
			memcpy(e->buf, s + 8, n);
			e->msg_len = n;
			e->has_msg = 1;
		} else if (l >= 5 && s[0] == '_' && memcmp(s, "_PID=", 5) == 0) {
			e->pid_len = ps_copy(e->pid, sizeof e->pid, s + 5, l - 5);
		} else if (l >= 14 && s[0] == '_' && memcmp(s, "_SYSTEMD_UNIT=", 14) == 0) {
			e->unit_len = ps_copy(e->unit, sizeof e->unit, s + 14, l - 14);
		} else if (l >= 18 && s[0] == 'S' && memcmp(s, "SYSLOG_IDENTIFIER=", 18) == 0) {
			e->ident_len = ps_copy(e->ident, sizeof e->ident, s + 18, l - 18);
		}
	}
	return 1;
}

static int ps_open_files(sd_journal **j, const char *path) {
	const char *paths[2] = {path, NULL};
	return sd_journal_open_files(j, paths, 0);
}

static int ps_get_cursor(sd_journal *j, char **c) { return sd_journal_get_cursor(j, c); }
*/
import "C"

import (
	"syscall"
	"time"
	"unsafe"
)

// sdJournal is an open journal. Not safe for concurrent use.
type sdJournal struct {
	j *C.sd_journal
	e *C.ps_entry // C memory: libsystemd's data never crosses into Go memory
}

// sdEntry is the current entry, valid until the next call to next or close.
type sdEntry struct {
	message          []byte // nil when the entry has no MESSAGE
	pid, unit, ident []byte
	realtime         uint64 // µs since the epoch
	monotonic        uint64 // µs since boot (0 when unknown)
	boot             [16]byte
}

func errno(r C.int) error {
	return syscall.Errno(-r)
}

func newSD(open func(**C.sd_journal) C.int) (*sdJournal, error) {
	var j *C.sd_journal
	if r := open(&j); r < 0 {
		return nil, errno(r)
	}
	e := (*C.ps_entry)(C.calloc(1, C.size_t(unsafe.Sizeof(C.ps_entry{}))))
	if e == nil {
		C.sd_journal_close(j)
		return nil, syscall.ENOMEM
	}
	return &sdJournal{j: j, e: e}, nil
}

// openLocal opens the local system journal (this machine's, as journalctl).
func openLocal() (*sdJournal, error) {
	return newSD(func(j **C.sd_journal) C.int { return C.sd_journal_open(j, C.SD_JOURNAL_LOCAL_ONLY) })
}

// openDir opens the journal files in a directory.
func openDir(path string) (*sdJournal, error) {
	p := C.CString(path)
	defer C.free(unsafe.Pointer(p))
	return newSD(func(j **C.sd_journal) C.int { return C.sd_journal_open_directory(j, p, 0) })
}

// openFile opens one journal file.
func openFile(path string) (*sdJournal, error) {
	p := C.CString(path)
	defer C.free(unsafe.Pointer(p))
	return newSD(func(j **C.sd_journal) C.int { return C.ps_open_files(j, p) })
}

func (s *sdJournal) close() {
	C.sd_journal_close(s.j)
	C.free(unsafe.Pointer(s.e.buf))
	C.free(unsafe.Pointer(s.e))
}

func (s *sdJournal) addMatch(m string) error {
	p := C.CString(m)
	defer C.free(unsafe.Pointer(p))
	if r := C.sd_journal_add_match(s.j, unsafe.Pointer(p), C.size_t(len(m))); r < 0 {
		return errno(r)
	}
	return nil
}

func (s *sdJournal) addDisjunction() error {
	if r := C.sd_journal_add_disjunction(s.j); r < 0 {
		return errno(r)
	}
	return nil
}

func (s *sdJournal) seekHead() error {
	if r := C.sd_journal_seek_head(s.j); r < 0 {
		return errno(r)
	}
	return nil
}

func (s *sdJournal) seekRealtime(t time.Time) error {
	if r := C.sd_journal_seek_realtime_usec(s.j, C.uint64_t(t.UnixMicro())); r < 0 {
		return errno(r)
	}
	return nil
}

func (s *sdJournal) seekCursor(c string) error {
	p := C.CString(c)
	defer C.free(unsafe.Pointer(p))
	if r := C.sd_journal_seek_cursor(s.j, p); r < 0 {
		return errno(r)
	}
	return nil
}

// testCursor tells whether the current entry is the cursor's.
func (s *sdJournal) testCursor(c string) bool {
	p := C.CString(c)
	defer C.free(unsafe.Pointer(p))
	return C.sd_journal_test_cursor(s.j, p) > 0
}

func (s *sdJournal) cursor() (string, error) {
	var c *C.char
	if r := C.ps_get_cursor(s.j, &c); r < 0 {
		return "", errno(r)
	}
	defer C.free(unsafe.Pointer(c))
	return C.GoString(c), nil
}

// next moves to the next entry and reads it; false at the end.
func (s *sdJournal) next(e *sdEntry) (bool, error) {
	r := C.ps_next(s.j, s.e)
	if r < 0 {
		return false, errno(r)
	}
	if r == 0 {
		return false, nil
	}
	c := s.e
	e.message = nil
	if c.has_msg != 0 {
		e.message = unsafe.Slice((*byte)(unsafe.Pointer(c.buf)), int(c.msg_len))
	}
	e.pid = unsafe.Slice((*byte)(unsafe.Pointer(&c.pid[0])), int(c.pid_len))
	e.unit = unsafe.Slice((*byte)(unsafe.Pointer(&c.unit[0])), int(c.unit_len))
	e.ident = unsafe.Slice((*byte)(unsafe.Pointer(&c.ident[0])), int(c.ident_len))
	e.realtime = uint64(c.realtime)
	e.monotonic = uint64(c.monotonic)
	e.boot = *(*[16]byte)(unsafe.Pointer(&c.boot))
	return true, nil
}

// Wait results, as sd_journal_wait returns them.
const (
	sdNop        = int(C.SD_JOURNAL_NOP)
	sdAppend     = int(C.SD_JOURNAL_APPEND)
	sdInvalidate = int(C.SD_JOURNAL_INVALIDATE)
)

// wait blocks until the journal changes or d passes; a negative errno on
// failure.
func (s *sdJournal) wait(d time.Duration) int {
	return int(C.sd_journal_wait(s.j, C.uint64_t(d.Microseconds())))
}
