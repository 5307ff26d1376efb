package journaltest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"maps"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// readBack returns what journalctl reads from path: every field of every
// entry (binary values decoded), in journal order.
func readBack(t *testing.T, path string) []map[string]string {
	t.Helper()
	args := []string{"--no-pager", "-o", "json", "--all", "--file", path}
	if !strings.HasSuffix(path, ".journal") {
		args[len(args)-2] = "-D"
	}
	out, err := exec.Command("journalctl", args...).Output()
	if err != nil {
		t.Fatalf("journalctl %v: %v", args, err)
	}
	var got []map[string]string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 8<<20)
	for sc.Scan() {
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &raw); err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for k, v := range raw {
			s, err := jsonValue(v)
			if err != nil {
				t.Fatalf("%s: %v", k, err)
			}
			m[k] = s
		}
		got = append(got, m)
	}
	return got
}

func TestWriteRoundTrip(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 11, 29, 15, 25, 47, 360193000, time.UTC)
	k := Kubelet(17689)
	values := []string{
		`I1129 15:25:47.360130   17689 kubelet.go:2760] "SyncLoop ADD" source="file" pods=["default/web-vm"]`,
		"a value\nwith newlines\n",
		"invalid UTF-8 \xff\xfe and a NUL \x00 byte",
		"\ttab-indented continuation",
		"",
		strings.Repeat("x", 70000),
	}
	var entries []Entry
	for i, v := range values {
		entries = append(entries, k.Entry(t0.Add(time.Duration(i)*time.Millisecond), v))
	}
	path := Write(t, dir, entries)
	if filepath.Base(path) != "podstart-001.journal" {
		t.Errorf("first file is %s, want podstart-001.journal", path)
	}
	got := readBack(t, path)
	if len(got) != len(entries) {
		t.Fatalf("journalctl read %d entries, want %d", len(got), len(entries))
	}
	for i, e := range entries {
		g := got[i]
		if g["__REALTIME_TIMESTAMP"] != strconv.FormatInt(e.Realtime.UnixMicro(), 10) {
			t.Errorf("entry %d: realtime %s, want %d", i, g["__REALTIME_TIMESTAMP"], e.Realtime.UnixMicro())
		}
		if g["__MONOTONIC_TIMESTAMP"] != strconv.FormatInt(e.Monotonic.Microseconds(), 10) {
			t.Errorf("entry %d: monotonic %s, want %d", i, g["__MONOTONIC_TIMESTAMP"], e.Monotonic.Microseconds())
		}
		for f, v := range e.Fields {
			if g[f] != v {
				t.Errorf("entry %d: %s = %.80q, want %.80q", i, f, g[f], v)
			}
		}
		for f := range g {
			if _, ok := e.Fields[f]; !ok && !strings.HasPrefix(f, "__") {
				t.Errorf("entry %d: unexpected field %s", i, f)
			}
		}
	}
	// The fields a systemd service's stdout line has (shared/reference/real-node-stack.md §3.3,
	// plus SYSLOG_FACILITY and _SYSTEMD_INVOCATION_ID, which systemd adds).
	want := []string{"MESSAGE", "PRIORITY", "SYSLOG_FACILITY", "SYSLOG_IDENTIFIER", "_PID", "_UID", "_GID", "_COMM", "_EXE",
		"_CMDLINE", "_CAP_EFFECTIVE", "_SYSTEMD_CGROUP", "_SYSTEMD_UNIT", "_SYSTEMD_SLICE", "_SYSTEMD_INVOCATION_ID",
		"_STREAM_ID", "_BOOT_ID", "_MACHINE_ID", "_HOSTNAME", "_RUNTIME_SCOPE", "_TRANSPORT"}
	for _, f := range want {
		if _, ok := got[0][f]; !ok {
			t.Errorf("field %s missing", f)
		}
	}

	// A second Write adds a second file; the directory reads as one journal.
	second := Write(t, dir, []Entry{k.Entry(t0.Add(time.Second), "second file")})
	if filepath.Base(second) != "podstart-002.journal" {
		t.Errorf("second file is %s", second)
	}
	all := readBack(t, dir)
	if len(all) != len(entries)+1 || all[len(all)-1]["MESSAGE"] != "second file" {
		t.Errorf("directory read %d entries, last %q", len(all), all[len(all)-1]["MESSAGE"])
	}
}

func TestRecordingRoundTrip(t *testing.T) {
	for _, name := range []string{"realnode-basic", "clusternode-basic"} {
		t.Run(name, func(t *testing.T) {
			es := MustRecording(t, name)
			path := Write(t, t.TempDir(), es)
			got := readBack(t, path)
			if len(got) != len(es) {
				t.Fatalf("%d entries read back, want %d", len(got), len(es))
			}
			for i, e := range es {
				g := maps.Clone(got[i])
				for _, f := range []string{"__CURSOR", "__REALTIME_TIMESTAMP", "__MONOTONIC_TIMESTAMP"} {
					delete(g, f)
				}
				if !maps.Equal(g, e.Fields) {
					t.Fatalf("entry %d differs:\n got %v\nwant %v", i, g, e.Fields)
				}
			}
		})
	}
}

func TestWriteRejects(t *testing.T) {
	now := time.Now()
	for _, e := range []Entry{
		{Realtime: now, Fields: map[string]string{"message": "lower case"}},
		{Realtime: now, Fields: map[string]string{"__CURSOR": "reserved"}},
		{Realtime: now, Fields: map[string]string{"1X": "digit first"}},
		{Fields: map[string]string{"MESSAGE": "no time"}},
	} {
		if _, err := AppendExport(nil, e); err == nil {
			t.Errorf("AppendExport(%v) accepted it", e.Fields)
		}
	}
}

func TestMissingRemote(t *testing.T) {
	old := Remote
	Remote = "/nonexistent/systemd-journal-remote"
	defer func() { Remote = old }()
	_, err := NewWriter(filepath.Join(t.TempDir(), "x.journal"))
	if err == nil || !strings.Contains(err.Error(), "apt-get install systemd-journal-remote") {
		t.Errorf("NewWriter without the binary: %v", err)
	}
}

func TestReplay(t *testing.T) {
	d := 90*time.Minute + 1500*time.Microsecond
	for _, c := range [][2]string{
		{`I1129 15:25:47.360130   17689 kubelet.go:2760] "SyncLoop ADD" source="file" pods=["default/web-vm"]`,
			`I1129 16:55:47.361630   17689 kubelet.go:2760] "SyncLoop ADD" source="file" pods=["default/web-vm"]`},
		{`E1231 23:59:59.999999 1234567 x.go:1] "year end"`, `E0101 01:30:00.001499 1234567 x.go:1] "year end"`},
		{`time="2026-11-29T15:25:47.670887443Z" level=info msg="RunPodSandbox for name:\"web-vm\""`,
			`time="2026-11-29T16:55:47.672387443Z" level=info msg="RunPodSandbox for name:\"web-vm\""`},
		{`{"level":"info","ts":"2026-11-29T16:30:38.227129Z","msg":"bootstrapping cluster"}`,
			`{"level":"info","ts":"2026-11-29T18:00:38.228629Z","msg":"bootstrapping cluster"}`},
		{`msg="received container exit event pid:17878 exited_at:{seconds:1795965948 nanos:900916954}"`,
			`msg="received container exit event pid:17878 exited_at:{seconds:1795971348 nanos:902416954}"`},
		{`podCreationTimestamp="2026-11-29 16:30:53 +0000 UTC" observedRunningTime="2026-11-29 16:30:56.089711224 +0000 UTC m=+8.260221005"`,
			`podCreationTimestamp="2026-11-29 18:00:53.0015 +0000 UTC" observedRunningTime="2026-11-29 18:00:56.091211224 +0000 UTC m=+8.260221005"`},
		{"\tno time here", "\tno time here"},
	} {
		if got := ShiftMessage(c[0], d); got != c[1] {
			t.Errorf("ShiftMessage(%q)\n = %q\nwant %q", c[0], got, c[1])
		}
	}
	if got, want := SetKlogPID(`I1129 15:25:47.360130   17689 kubelet.go:2760] "x"`, 123), `I1129 15:25:47.360130     123 kubelet.go:2760] "x"`; got != want {
		t.Errorf("SetKlogPID = %q, want %q", got, want)
	}
	if got, want := SetKlogPID(`I1129 15:25:47.360130 1234567 kubelet.go:2760] "x"`, 17689), `I1129 15:25:47.360130   17689 kubelet.go:2760] "x"`; got != want {
		t.Errorf("SetKlogPID = %q, want %q", got, want)
	}

	rw := FreshIDs("seed", "web-vm", "other-vm")
	sandbox := "0d0a8768576a0488557871d5db492019032debc4169a9ddc2fdc451e87969f30"
	uid := "37ce7e5d26922d1f0d4b9c2642f91cc9"
	api := "93e17ecc-ab55-461a-b526-29248d2554ad"
	a := rw(`RunPodSandbox for name:\"web-vm\" uid:\"` + uid + `\" returns sandbox id \"` + sandbox + `\" ` + api)
	b := rw(`StartContainer for \"` + sandbox + `\"`)
	if strings.Contains(a+b, sandbox) || strings.Contains(a, uid) || strings.Contains(a, api) || strings.Contains(a, "web-vm") || !strings.Contains(a, "other-vm") {
		t.Errorf("FreshIDs kept an old id or name: %s", a)
	}
	newSandbox := strings.TrimSuffix(strings.TrimPrefix(b, `StartContainer for \"`), `\"`)
	if len(newSandbox) != 64 || !strings.Contains(a, newSandbox) {
		t.Errorf("FreshIDs did not map the sandbox id consistently: %s / %s", a, b)
	}
	if f := idPattern.FindAllStringSubmatch(a, -1); len(f) != 3 || len(f[1][1]) != 64 || len(f[0][1]) != 32 || len(f[2][1]) != 36 {
		t.Errorf("FreshIDs changed the ids' shapes: %v", f)
	}
	cg := rw(`/sys/fs/cgroup/memory/kubepods/burstable/pod` + api + `/memory.limit_in_bytes`)
	if strings.Contains(cg, api) || !strings.Contains(cg, "/pod"+rw(api)+"/") {
		t.Errorf("FreshIDs did not replace the UID of a cgroup path: %s", cg)
	}
}

func TestBusyNode(t *testing.T) {
	const n = 30000
	var msgs []string
	units := map[string]int{}
	var last time.Time
	err := BusyNode{Entries: n}.Generate(func(e Entry) error {
		if e.Realtime.Before(last) {
			t.Fatalf("entry %d at %s, before the previous one at %s", len(msgs), e.Realtime, last)
		}
		last = e.Realtime
		msgs = append(msgs, e.Message())
		u := e.Fields["_SYSTEMD_UNIT"]
		units[u]++
		if (u == "kubelet.service" || u == "containerd.service") && len(e.Fields) != 21 {
			t.Fatalf("%s entry has %d fields, want 21: %v", u, len(e.Fields), e.Fields)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != n {
		t.Fatalf("%d entries, want %d", len(msgs), n)
	}
	t.Logf("entries by unit: %v; %s of simulated time", units, last.Sub(busyStart))
	if units["kubelet.service"] < n/3 || units["containerd.service"] < n/10 || n-units["kubelet.service"]-units["containerd.service"] < n/10 {
		t.Errorf("mix by unit %v: want kubelet at least a third, containerd and other units at least a tenth", units)
	}
	var again []string
	if err := (BusyNode{Entries: n}).Generate(func(e Entry) error { again = append(again, e.Message()); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(msgs, again) {
		t.Error("BusyNode is not deterministic")
	}
	// It is a journal: systemd-journal-remote takes every entry.
	dir := t.TempDir()
	if err := (BusyNode{Entries: 5000}).Write(dir); err != nil {
		t.Fatal(err)
	}
	if got := readBack(t, dir); len(got) != 5000 {
		t.Errorf("journalctl reads %d entries of 5000", len(got))
	}
}
