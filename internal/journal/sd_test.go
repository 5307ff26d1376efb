package journal

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-systemd/v22/sdjournal"

	"github.com/podstart/podstart/internal/journaltest"
)

// TestReaderAgreesWithGoSystemd reads one journal with the agent's reader
// (sd.go) and with go-systemd's sdjournal, the reference, and compares
// every entry: MESSAGE, _PID, the unit (or SYSLOG_IDENTIFIER) and the
// receive time. The journal is a busy node's (kubelet, containerd, kernel
// lines without a unit, other units) plus odd entries: an empty, a 1 MiB, a
// binary and an invalid UTF-8 MESSAGE, and an entry without MESSAGE.
func TestReaderAgreesWithGoSystemd(t *testing.T) {
	dir := t.TempDir()
	if err := (journaltest.BusyNode{Entries: 20000}).Write(dir); err != nil {
		t.Fatal(err)
	}
	k := journaltest.Kubelet(4242)
	at := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	odd := []journaltest.Entry{
		k.Entry(at, ""),
		k.Entry(at.Add(time.Millisecond), "I0101 00:00:00.000001    4242 x.go:1] "+strings.Repeat("y", 1<<20)),
		k.Entry(at.Add(2*time.Millisecond), "\x00\x01 binary\xff"),
		k.Entry(at.Add(3*time.Millisecond), "bad \xfe UTF-8"),
	}
	noMsg := k.Entry(at.Add(4*time.Millisecond), "x")
	delete(noMsg.Fields, "MESSAGE")
	noMsg.Fields["OTHER"] = "no message here"
	odd = append(odd, noMsg)
	journaltest.WriteAside(t, dir, odd)

	type rec struct {
		msg, pid, unit string
		us             uint64
	}
	var want []rec
	ref, err := sdjournal.NewJournalFromDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	for {
		n, err := ref.Next()
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		msg, err := ref.GetDataValue("MESSAGE")
		if err != nil {
			continue // the reader hands on no entry without MESSAGE
		}
		pid, _ := ref.GetDataValue("_PID")
		unit, err := ref.GetDataValue("_SYSTEMD_UNIT")
		if err != nil {
			unit, _ = ref.GetDataValue("SYSLOG_IDENTIFIER")
		}
		us, err := ref.GetRealtimeUsec()
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, rec{msg, pid, unit, us})
	}

	if len(want) < 20000 {
		t.Fatalf("go-systemd read %d entries, want at least 20000", len(want))
	}
	// Both readers: libsystemd (sd.go) and the files read directly
	// (file.go), which read-once mode uses.
	for _, viaLibsystemd := range []bool{false, true} {
		r, err := Open(Config{Path: dir, Libsystemd: viaLibsystemd})
		if err != nil {
			t.Fatal(err)
		}
		if r.Direct == viaLibsystemd {
			t.Fatalf("Libsystemd=%v: files read directly: %v", viaLibsystemd, r.Direct)
		}
		var got []rec
		h := handlerFunc(func(e Entry) {
			got = append(got, rec{strings.Clone(e.Message), e.PID, e.Unit, uint64(e.Time.UnixMicro())})
		})
		err = r.Run(context.Background(), h)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("Libsystemd=%v: the reader handed on %d entries, go-systemd read %d", viaLibsystemd, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				g, w := got[i], want[i]
				t.Fatalf("Libsystemd=%v: entry %d: reader %q pid=%s unit=%s at %d (%d bytes); go-systemd %q pid=%s unit=%s at %d (%d bytes)",
					viaLibsystemd, i, trunc(g.msg), g.pid, g.unit, g.us, len(g.msg), trunc(w.msg), w.pid, w.unit, w.us, len(w.msg))
			}
		}
	}
}

func trunc(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

type handlerFunc func(Entry)

func (f handlerFunc) Entry(e Entry)     { f(e) }
func (f handlerFunc) CaughtUp()         {}
func (f handlerFunc) Checkpoint(string) {}
