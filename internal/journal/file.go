package journal

// A reader of journal files in Go, for read-once mode (node-agent report).
//
// Why: through libsystemd, every item of every entry is looked up in its
// mmap cache and checked as an object before its field name is known, so
// reading an entry of 21 fields costs what reading all 21 costs, whichever
// one is wanted (see sd.go). Here the file is mapped once; each match's
// data object is found once per file through the file's hash table, and
// the entries are walked through the lists those data objects keep of the
// entries that have them, so that no other entry is touched. An entry's
// items are offsets: the data objects entries share (unit, PID, command
// line, ...) are recognised by offset after their first visit, and only
// MESSAGE is read anew each time. The layout is systemd's documented
// journal file format. The order across files, the start at a time (a
// bisection, as libsystemd seeks), the files skipped as damaged and the
// bad items passed over are libsystemd 252's; systemd 254 and later order
// entries of different boots in different files by the boots' last entries,
// which differs only where boots' clocks disagree.
//
// It reads only files it fully understands: keyed hashes (systemd 246 and
// later), regular or compact entries, data uncompressed or compressed with
// zstd. Anything else (an older hash, xz or lz4, an unknown flag, a file it
// cannot map) makes Open use libsystemd for the whole journal, which is
// always right, only slower. Follow mode, cursors and replay always use
// libsystemd: journald writes those files as they are read.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math/bits"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/klauspost/compress/zstd"
)

// errNeedsLibsystemd says a journal file is of a kind only libsystemd reads.
var errNeedsLibsystemd = errors.New("journal file needs libsystemd")

// errSkipFile says a journal file is one libsystemd skips (damaged, or
// copied in part), and so does this reader.
var errSkipFile = errors.New("journal file unreadable, skipped")

// Header and object layout (systemd's journal-def.h, little endian).
const (
	hdrSignature        = "LPKSHHRH"
	hdrIncompatibleOff  = 12
	hdrFileIDOff        = 24
	hdrSeqnumIDOff      = 72
	hdrHeaderSizeOff    = 88
	hdrDataHashOff      = 104
	hdrDataHashSizeOff  = 112
	hdrNEntriesOff      = 152
	hdrEntryArrayOff    = 176
	hdrMinSize          = 208 // up to n_data: files of systemd 187 and later
	incompatXZ          = 1 << 0
	incompatLZ4         = 1 << 1
	incompatKeyedHash   = 1 << 2
	incompatZstd        = 1 << 3
	incompatCompact     = 1 << 4
	incompatKnown       = incompatXZ | incompatLZ4 | incompatKeyedHash | incompatZstd | incompatCompact
	objHeaderSize       = 16
	objData             = 1
	objEntry            = 3
	objEntryArray       = 6
	objCompressedXZ     = 1 << 0
	objCompressedLZ4    = 1 << 1
	objCompressedZstd   = 1 << 2
	objCompressedMask   = objCompressedXZ | objCompressedLZ4 | objCompressedZstd
	dataHashOff         = 16
	dataNextHashOff     = 24
	dataPayloadRegular  = 64
	dataPayloadCompact  = 72
	entrySeqnumOff      = 16
	entryRealtimeOff    = 24
	entryMonotonicOff   = 32
	entryBootOff        = 40
	entryXorOff         = 56
	entryItemsOff       = 64
	arrayNextOff        = 16
	arrayItemsOff       = 24
	maxHashChainWalk    = 1 << 16
	maxDecompressedSize = 64 << 20
	hdrArenaSizeOff     = 96
	hdrTailObjectOff    = 136
	hdrFieldHashOff     = 120
	hdrStateOff         = 16
	stateArchived       = 2
)

// jfile is one mapped journal file and where reading it has got to.
type jfile struct {
	name     string
	m        []byte
	mapped   bool // m is a mapping of the file, to unmap when done
	compact  bool
	fileID   [16]byte
	seqnumID [16]byte
	nEntries uint64
	payOff   uint64
	// lists are the entry lists walked: the file's own list of all its
	// entries, or, with matches, the list of each match's data object (a
	// data object lists the entries that have it), merged.
	lists []entryList

	// known remembers what the data objects that entries share are (a
	// unit, a PID, a field not read), so that an entry's twenty-odd items
	// cost a lookup each instead of a visit to each object: a
	// direct-mapped cache by offset, of uncompressed objects other than
	// MESSAGE (whose values are each entry's own).
	known [knownSlots]knownData

	// head is the entry the walk stopped at (a matching one), its object
	// and its sort keys; done when there is none.
	done  bool
	head  []byte
	hSeq  uint64
	hRT   uint64
	hMono uint64
	hBoot [16]byte
	hXor  uint64
}

// knownSlots is the size of jfile.known: a node's entries share a few
// dozen data objects per unit and process.
const knownSlots = 1024

type knownData struct {
	off  uint64
	kind uint8
	val  []byte // the value, for the kinds read
}

// Kinds of data objects.
const (
	kindOther uint8 = iota
	kindPID
	kindUnit
	kindIdent
)

func le64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }
func le32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }

// object returns the object at off of type typ, or nil when the offset,
// size or type is not what a sound file has there.
func (f *jfile) object(off uint64, typ byte) []byte {
	if off == 0 || off&7 != 0 || len(f.m) < objHeaderSize || off > uint64(len(f.m))-objHeaderSize {
		return nil
	}
	h := f.m[off:]
	size := le64(h[8:])
	if h[0] != typ || size < objHeaderSize || size > uint64(len(h)) {
		return nil
	}
	return h[:size]
}

// openJFile maps a journal file and checks that this reader can read it.
func openJFile(name string) (*jfile, error) {
	fd, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer fd.Close()
	fi, err := fd.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() < hdrMinSize || fi.Size() != int64(int(fi.Size())) {
		return nil, fmt.Errorf("%s: %w: %d bytes", name, errNeedsLibsystemd, fi.Size())
	}
	m, err := syscall.Mmap(int(fd.Fd()), 0, int(fi.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", name, errNeedsLibsystemd, err)
	}
	f, err := newJFile(name, m)
	if err != nil {
		_ = syscall.Munmap(m)
		return nil, err
	}
	f.mapped = true
	return f, nil
}

// newJFile reads the header of a journal file held in m.
func newJFile(name string, m []byte) (*jfile, error) {
	if len(m) < hdrMinSize {
		return nil, fmt.Errorf("%s: %w: %d bytes", name, errNeedsLibsystemd, len(m))
	}
	f := &jfile{name: name, m: m}
	if err := f.readHeader(); err != nil {
		return nil, err
	}
	return f, nil
}

func (f *jfile) readHeader() error {
	h := f.m
	if string(h[:8]) != hdrSignature {
		return fmt.Errorf("%s: %w: not a journal file", f.name, errNeedsLibsystemd)
	}
	inc := le32(h[hdrIncompatibleOff:])
	if inc&^incompatKnown != 0 || inc&(incompatXZ|incompatLZ4) != 0 || inc&incompatKeyedHash == 0 {
		return fmt.Errorf("%s: %w: incompatible flags %#x", f.name, errNeedsLibsystemd, inc)
	}
	// What libsystemd checks before it reads a file (a file that fails is
	// one it skips: damaged, or copied in part).
	hs, arena, tail := le64(h[hdrHeaderSizeOff:]), le64(h[hdrArenaSizeOff:]), le64(h[hdrTailObjectOff:])
	switch {
	case hs < hdrMinSize || hs > uint64(len(h)) || arena > uint64(len(h))-hs:
		return fmt.Errorf("%s: %w: header and arena of %d+%d bytes in %d", f.name, errSkipFile, hs, arena, len(h))
	case tail > hs+arena:
		return fmt.Errorf("%s: %w: last object beyond the arena", f.name, errSkipFile)
	case tail&7 != 0 || le64(h[hdrDataHashOff:])&7 != 0 || le64(h[hdrFieldHashOff:])&7 != 0 || le64(h[hdrEntryArrayOff:])&7 != 0:
		return fmt.Errorf("%s: %w: unaligned offsets in the header", f.name, errSkipFile)
	case h[hdrStateOff] > stateArchived:
		return fmt.Errorf("%s: %w: state %d", f.name, errSkipFile, h[hdrStateOff])
	}
	f.compact = inc&incompatCompact != 0
	f.payOff = dataPayloadRegular
	if f.compact {
		f.payOff = dataPayloadCompact
	}
	copy(f.fileID[:], h[hdrFileIDOff:])
	copy(f.seqnumID[:], h[hdrSeqnumIDOff:])
	f.nEntries = le64(h[hdrNEntriesOff:])
	return nil
}

func (f *jfile) close() {
	if f.m != nil {
		if f.mapped {
			_ = syscall.Munmap(f.m)
		}
		f.m = nil
		f.known = [knownSlots]knownData{} // its values lay in the mapping
		f.lists = nil
	}
}

// payload is a data object's field=value, decompressed into buf when it is
// compressed; nil when the object is unreadable.
func (f *jfile) payload(d []byte, dec *zstd.Decoder, buf *[]byte) []byte {
	if uint64(len(d)) < f.payOff {
		return nil
	}
	p := d[f.payOff:]
	switch d[1] & objCompressedMask {
	case 0:
		return p
	case objCompressedZstd:
		out, err := dec.DecodeAll(p, (*buf)[:0])
		if err != nil {
			return nil
		}
		*buf = out
		return out
	default:
		return nil // xz or lz4 in a file that said zstd: corrupt
	}
}

// findData returns the offset of the data object holding exactly p, or 0.
func (f *jfile) findData(p []byte, dec *zstd.Decoder, buf *[]byte) uint64 {
	tOff, tSize := le64(f.m[hdrDataHashOff:]), le64(f.m[hdrDataHashSizeOff:])
	n := tSize / 16
	if n == 0 || tOff > uint64(len(f.m)) || tSize > uint64(len(f.m))-tOff {
		return 0
	}
	h := siphash24(f.fileID, p)
	off := le64(f.m[tOff+(h%n)*16:])
	for i := 0; off != 0 && i < maxHashChainWalk; i++ {
		d := f.object(off, objData)
		if uint64(len(d)) < f.payOff {
			return 0
		}
		if le64(d[dataHashOff:]) == h && bytes.Equal(f.payload(d, dec, buf), p) {
			return off
		}
		next := le64(d[dataNextHashOff:])
		if next <= off {
			return 0 // a sound chain only moves forward
		}
		off = next
	}
	return 0
}

// items returns the number of items of an entry object and the offset of
// item i.
func (f *jfile) nItems(e []byte) int {
	if f.compact {
		return (len(e) - entryItemsOff) / 4
	}
	return (len(e) - entryItemsOff) / 16
}

func (f *jfile) item(e []byte, i int) uint64 {
	if f.compact {
		return uint64(le32(e[entryItemsOff+4*i:]))
	}
	return le64(e[entryItemsOff+16*i:])
}

// entryList walks one list of entry offsets, in file order: an inline
// first entry (a data object's), then a chain of entry arrays. Offsets only
// grow along a sound list, which is what bounds the walk of a corrupt one.
type entryList struct {
	inline   uint64
	arrItems []byte // items of the current entry array
	arrOff   uint64 // offset of the current entry array
	arrNext  uint64 // offset of the next entry array
	arrIdx   int
	left     uint64 // entries the list still holds, by its count
	head     uint64 // the current entry; 0 at the end
	// all: the file's list of all its entries, where an unreadable entry
	// is skipped (a match's list ends there, as in libsystemd).
	all bool
}

// dataList is the list of the entries that have the data object at off.
func (f *jfile) dataList(off uint64) entryList {
	d := f.object(off, objData)
	if len(d) < dataPayloadRegular {
		return entryList{}
	}
	return entryList{inline: le64(d[40:]), arrNext: le64(d[48:]), left: le64(d[56:])}
}

func (f *jfile) itemSize() int {
	if f.compact {
		return 4
	}
	return 8
}

// loadNext moves to the next entry array of the chain; false at its end.
func (l *entryList) loadNext(f *jfile) bool {
	if l.arrNext <= l.arrOff {
		return false
	}
	a := f.object(l.arrNext, objEntryArray)
	if len(a) < arrayItemsOff {
		return false
	}
	l.arrOff = l.arrNext
	l.arrItems, l.arrNext, l.arrIdx = a[arrayItemsOff:], le64(a[arrayNextOff:]), 0
	return true
}

func (l *entryList) itemAt(f *jfile, i int) uint64 {
	if f.compact {
		return uint64(le32(l.arrItems[4*i:]))
	}
	return le64(l.arrItems[8*i:])
}

// step moves head to the next entry of the list.
func (l *entryList) step(f *jfile) {
	prev := l.head
	l.head = 0
	if l.left == 0 {
		return
	}
	if l.inline != 0 {
		l.head, l.inline = l.inline, 0
		l.left--
		return
	}
	for l.arrIdx >= len(l.arrItems)/f.itemSize() {
		if !l.loadNext(f) {
			l.left = 0
			return
		}
	}
	o := l.itemAt(f, l.arrIdx)
	l.arrIdx++
	l.left--
	if o <= prev {
		l.left = 0 // an unused slot, or a list that turns back: its end
		return
	}
	l.head = o
}

// start places head on the list's first entry, or with since (µs) on the
// first at or after it as libsystemd's seek by time finds it: the inline
// entry, then array by array, passing over an array whose last entry is
// older and bisecting the first that is not.
func (l *entryList) start(f *jfile, since uint64) {
	if since == 0 {
		l.step(f)
		return
	}
	if l.inline != 0 && l.left > 0 {
		if f.realtime(l.inline) >= since {
			l.step(f)
			return
		}
		l.inline = 0
		l.left--
	}
	for l.left > 0 && l.loadNext(f) {
		n := min(uint64(len(l.arrItems)/f.itemSize()), l.left)
		if n == 0 {
			break
		}
		if f.realtime(l.itemAt(f, int(n-1))) < since {
			l.left -= n
			continue
		}
		lo, hi := 0, int(n-1)
		for lo < hi {
			mid := (lo + hi) / 2
			if f.realtime(l.itemAt(f, mid)) >= since {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		l.arrIdx = lo
		l.left -= uint64(lo)
		l.step(f)
		return
	}
	l.left, l.head = 0, 0
}

// realtime is the receive time of the entry at off; 0 when unreadable.
func (f *jfile) realtime(off uint64) uint64 {
	e := f.object(off, objEntry)
	if len(e) < entryItemsOff {
		return 0
	}
	return le64(e[entryRealtimeOff:])
}

// nextEntry returns the offset of the next entry of the file's lists, or 0
// at the end.
func (f *jfile) nextEntry() uint64 {
	if len(f.lists) == 1 {
		o := f.lists[0].head
		f.lists[0].step(f)
		return o
	}
	var o uint64
	for i := range f.lists {
		if h := f.lists[i].head; h != 0 && (o == 0 || h < o) {
			o = h
		}
	}
	for i := range f.lists {
		if f.lists[i].head == o && o != 0 {
			f.lists[i].step(f) // an entry on two lists is handed out once
		}
	}
	return o
}

// advance moves the head to the next entry; done at the end.
func (f *jfile) advance() {
	for {
		off := f.nextEntry()
		e := f.object(off, objEntry)
		if len(e) < entryItemsOff {
			if off != 0 && len(f.lists) == 1 && f.lists[0].all {
				continue // libsystemd passes over a bad entry of the file's own list
			}
			// Done with the file: its pages leave the process's resident
			// set now rather than when the whole journal is read.
			f.finish()
			return
		}
		f.head = e
		f.hSeq, f.hRT, f.hMono = le64(e[entrySeqnumOff:]), le64(e[entryRealtimeOff:]), le64(e[entryMonotonicOff:])
		copy(f.hBoot[:], e[entryBootOff:])
		f.hXor = le64(e[entryXorOff:])
		return
	}
}

// finish leaves the file: read to its end, or unreadable.
func (f *jfile) finish() {
	f.done, f.head = true, nil
	f.close()
}

// cmpHeads orders two files' heads as libsystemd orders entries of
// different files: by sequence number within one sequence, by monotonic
// time within one boot, else by wall-clock time.
func cmpHeads(a, b *jfile) int {
	if a.seqnumID == b.seqnumID {
		if c := cmpU64(a.hSeq, b.hSeq); c != 0 {
			return c
		}
	}
	if a.hBoot == b.hBoot {
		if c := cmpU64(a.hMono, b.hMono); c != 0 {
			return c
		}
	}
	if c := cmpU64(a.hRT, b.hRT); c != 0 {
		return c
	}
	return cmpU64(a.hXor, b.hXor)
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// fileJournal reads a set of journal files in journal order, as one.
type fileJournal struct {
	files []*jfile
	dec   *zstd.Decoder
	zbuf  []byte
	msg   []byte
	// last is a copy of the sort keys of the entry handed over last:
	// libsystemd hands over an entry present in two files (a copied file)
	// once, and so does this reader.
	last     jfile
	haveLast bool
	pid      [24]byte
	unit     [256]byte
	ident    [256]byte
}

// openFiles maps the journal files at path (as libsystemd would find
// them) and prepares the matches. errNeedsLibsystemd (wrapped) when any of
// them is of a kind this reader does not read.
func openFiles(path string, matches []Match, since time.Time) (*fileJournal, error) {
	names, err := journalFiles(path)
	if err != nil {
		return nil, err
	}
	var files []*jfile
	for _, n := range names {
		f, err := openJFile(n)
		if err != nil {
			if errors.Is(err, fs.ErrPermission) || errors.Is(err, errSkipFile) {
				continue // libsystemd skips what it may not read, as journalctl does
			}
			for _, f := range files {
				f.close()
			}
			return nil, err
		}
		files = append(files, f)
	}
	fj, err := newFileJournal(files, matches, since)
	if err != nil {
		for _, f := range files {
			f.close()
		}
		return nil, err
	}
	return fj, nil
}

// newFileJournal reads files as one journal, with matches (ORed; none: all
// entries) from since on.
func newFileJournal(files []*jfile, matches []Match, since time.Time) (*fileJournal, error) {
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxDecompressedSize), zstd.WithDecoderLowmem(true))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errNeedsLibsystemd, err)
	}
	fj := &fileJournal{files: files, dec: dec, msg: make([]byte, 0, 4096)}
	var sinceUs uint64
	if !since.IsZero() && since.UnixMicro() > 0 {
		sinceUs = uint64(since.UnixMicro())
	}
	for _, f := range fj.files {
		fj.safely(f, func() {
			if len(matches) == 0 {
				f.lists = append(f.lists, entryList{arrNext: le64(f.m[hdrEntryArrayOff:]), left: f.nEntries, all: true})
			}
			for _, m := range matches {
				if o := f.findData([]byte(m.String()), dec, &fj.zbuf); o != 0 {
					f.lists = append(f.lists, f.dataList(o))
				}
			}
			for i := range f.lists {
				f.lists[i].start(f, sinceUs)
			}
			f.advance()
		})
	}
	return fj, nil
}

// journalFiles lists the journal files libsystemd opens for a path: the
// file itself; a directory's files and those of its machine-ID
// subdirectories; for the local journal, the files of /run/log/journal and
// /var/log/journal, of any machine-ID subdirectory under /run and of this
// machine's under /var. Symbolic links count as what they point to.
func journalFiles(path string) ([]string, error) {
	isJournal := func(n string) bool {
		return strings.HasSuffix(n, ".journal") || strings.HasSuffix(n, ".journal~")
	}
	// kind tells a directory entry's type, following a symbolic link.
	kind := func(dir string, e fs.DirEntry) fs.FileMode {
		if e.Type()&fs.ModeSymlink == 0 {
			return e.Type()
		}
		fi, err := os.Stat(filepath.Join(dir, e.Name()))
		if err != nil {
			return e.Type()
		}
		return fi.Mode().Type()
	}
	var out []string
	addDir := func(dir string, sub func(string) bool) error {
		ents, err := os.ReadDir(dir)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		for _, e := range ents {
			n := filepath.Join(dir, e.Name())
			switch k := kind(dir, e); {
			case k.IsRegular() && isJournal(e.Name()):
				out = append(out, n)
			case k.IsDir() && sub(e.Name()):
				sents, err := os.ReadDir(n)
				if err != nil {
					if errors.Is(err, fs.ErrPermission) {
						continue
					}
					return err
				}
				for _, s := range sents {
					if kind(n, s).IsRegular() && isJournal(s.Name()) {
						out = append(out, filepath.Join(n, s.Name()))
					}
				}
			}
		}
		return nil
	}
	switch fi, err := os.Stat(path); {
	case path == "":
		mid, err := os.ReadFile("/etc/machine-id")
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errNeedsLibsystemd, err)
		}
		id := strings.TrimSpace(string(mid))
		if err := addDir("/run/log/journal", isID128); err != nil {
			return nil, err
		}
		if err := addDir("/var/log/journal", func(n string) bool { return n == id }); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	case !fi.IsDir():
		out = append(out, path)
	default:
		if err := addDir(path, isID128); err != nil {
			return nil, err
		}
	}
	sort.Strings(out)
	return out, nil
}

// isID128 tells whether s is a 128-bit ID as libsystemd reads one: 32 hex
// digits, or the 36 characters of a UUID.
func isID128(s string) bool {
	if len(s) == 36 {
		if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
			return false
		}
		s = s[:8] + s[9:13] + s[14:18] + s[19:23] + s[24:]
	}
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') && (c < 'A' || c > 'F') {
			return false
		}
	}
	return true
}

func (fj *fileJournal) close() {
	for _, f := range fj.files {
		f.close()
	}
	fj.files = nil
	if fj.dec != nil {
		fj.dec.Close()
	}
}

// next hands over the next entry in journal order: as libsystemd, it first
// moves every file past the entry handed over last (the same entry in a
// copied file, or one behind it), then takes the least of the files' heads.
func (fj *fileJournal) next(e *sdEntry) (bool, error) {
	var best *jfile
	for _, f := range fj.files {
		for !f.done && fj.haveLast && cmpHeads(f, &fj.last) <= 0 {
			fj.safely(f, f.advance)
		}
		if !f.done && (best == nil || cmpHeads(f, best) < 0) {
			best = f
		}
	}
	if best == nil {
		return false, nil
	}
	if !fj.safely(best, func() { fj.read(best, e) }) {
		return fj.next(e) // the file was cut short under the reader: go on without it
	}
	fj.last.seqnumID, fj.last.hSeq, fj.last.hRT, fj.last.hMono, fj.last.hBoot, fj.last.hXor =
		best.seqnumID, best.hSeq, best.hRT, best.hMono, best.hBoot, best.hXor
	fj.haveLast = true
	fj.safely(best, best.advance)
	return true, nil
}

// safely runs fn, which reads f's mapping, and tells whether it could: a
// file truncated while mapped (an I/O error, a copy being rewritten) makes
// reading its pages fault, which would end the process; instead f is left
// as unreadable, as libsystemd leaves a file it cannot read.
func (fj *fileJournal) safely(f *jfile, fn func()) (ok bool) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if _, fault := r.(interface{ Addr() uintptr }); !fault {
				panic(r)
			}
			f.finish()
			ok = false
		}
	}()
	fn()
	return true
}

// read fills e from f's head, as ps_next does from libsystemd: the last of
// each wanted field wins, and an unreadable item is passed over.
func (fj *fileJournal) read(f *jfile, e *sdEntry) {
	h := f.head
	e.message, e.pid, e.unit, e.ident = nil, nil, nil, nil
	e.realtime, e.monotonic, e.boot = f.hRT, f.hMono, f.hBoot
	n := f.nItems(h)
	for i := 0; i < n; i++ {
		o := f.item(h, i)
		k := &f.known[(o>>3)&(knownSlots-1)]
		if k.off != o {
			d := f.object(o, objData)
			if d == nil {
				continue // libsystemd (252) passes over a bad item too
			}
			p := f.payload(d, fj.dec, &fj.zbuf)
			if p == nil {
				continue
			}
			if len(p) >= 8 && p[0] == 'M' && string(p[:8]) == "MESSAGE=" {
				fj.msg = append(fj.msg[:0], p[8:]...)
				e.message = fj.msg
				continue
			}
			kind, val := classify(p)
			if d[1]&objCompressedMask != 0 {
				// The value lies in the decompression buffer: use it now,
				// never remember it.
				k = &knownData{kind: kind, val: val}
			} else {
				*k = knownData{off: o, kind: kind, val: val}
			}
		}
		switch k.kind {
		case kindPID:
			e.pid = fj.pid[:copy(fj.pid[:], k.val)]
		case kindUnit:
			e.unit = fj.unit[:copy(fj.unit[:], k.val)]
		case kindIdent:
			e.ident = fj.ident[:copy(fj.ident[:], k.val)]
		}
	}
}

// classify tells which of the fields podstart reads a field=value is, and
// its value.
func classify(p []byte) (uint8, []byte) {
	switch {
	case len(p) >= 5 && p[0] == '_' && string(p[:5]) == "_PID=":
		return kindPID, p[5:]
	case len(p) >= 14 && p[0] == '_' && string(p[:14]) == "_SYSTEMD_UNIT=":
		return kindUnit, p[14:]
	case len(p) >= 18 && p[0] == 'S' && string(p[:18]) == "SYSLOG_IDENTIFIER=":
		return kindIdent, p[18:]
	}
	return kindOther, nil
}

// cursor is libsystemd's cursor of the entry handed over last.
func (fj *fileJournal) cursor() (string, error) {
	if !fj.haveLast {
		return "", errors.New("no entry read yet")
	}
	l := &fj.last
	return fmt.Sprintf("s=%x;i=%x;b=%x;m=%x;t=%x;x=%x", l.seqnumID, l.hSeq, l.hBoot, l.hMono, l.hRT, l.hXor), nil
}

// siphash24 is SipHash-2-4 with a 128-bit key, the hash of data objects in
// journal files with keyed hashes (the key is the file's ID).
func siphash24(key [16]byte, p []byte) uint64 {
	k0, k1 := le64(key[:8]), le64(key[8:])
	v0 := k0 ^ 0x736f6d6570736575
	v1 := k1 ^ 0x646f72616e646f6d
	v2 := k0 ^ 0x6c7967656e657261
	v3 := k1 ^ 0x7465646279746573
	round := func() {
		v0 += v1
		v1 = bits.RotateLeft64(v1, 13)
		v1 ^= v0
		v0 = bits.RotateLeft64(v0, 32)
		v2 += v3
		v3 = bits.RotateLeft64(v3, 16)
		v3 ^= v2
		v0 += v3
		v3 = bits.RotateLeft64(v3, 21)
		v3 ^= v0
		v2 += v1
		v1 = bits.RotateLeft64(v1, 17)
		v1 ^= v2
		v2 = bits.RotateLeft64(v2, 32)
	}
	b := uint64(len(p)) << 56
	for ; len(p) >= 8; p = p[8:] {
		m := le64(p)
		v3 ^= m
		round()
		round()
		v0 ^= m
	}
	for i := len(p) - 1; i >= 0; i-- {
		b |= uint64(p[i]) << (8 * i)
	}
	v3 ^= b
	round()
	round()
	v0 ^= b
	v2 ^= 0xff
	round()
	round()
	round()
	round()
	return v0 ^ v1 ^ v2 ^ v3
}
