package logformat

import (
	"bufio"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/podstart/podstart/internal/event"
)

// kubeletSeeds returns real lines to start fuzzing from: every line of the
// corpus (testdata/kubelet-lines.jsonl) and every MESSAGE of the
// realnode-basic recording (testdata/realnode-journal.jsonl).
func kubeletSeeds(f *testing.F) []string {
	f.Helper()
	var out []string
	for _, file := range []struct{ path, field string }{
		{"testdata/kubelet-lines.jsonl", "line"},
		{"testdata/realnode-journal.jsonl", "msg"},
	} {
		fh, err := os.Open(file.path)
		if err != nil {
			f.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				f.Fatal(err)
			}
			if s, ok := m[file.field].(string); ok {
				out = append(out, s)
			}
		}
		fh.Close()
	}
	return out
}

func checkParse(t *testing.T, line string, res Result) {
	t.Helper()
	switch res.Outcome {
	case Recognised:
		if res.Event.Kind == "" || res.Event.Kind == event.Unrecognised {
			t.Fatalf("recognised with kind %q: %q", res.Event.Kind, line)
		}
	case Unrecognised:
		if res.Event.Kind != event.Unrecognised {
			t.Fatalf("unrecognised with kind %q: %q", res.Event.Kind, line)
		}
	case Malformed:
		if res.Event.Kind == "" {
			t.Fatalf("malformed with no kind: %q", line)
		}
	default:
		t.Fatalf("outcome %d: %q", res.Outcome, line)
	}
	if len(res.Event.Pods) == 1 {
		t.Fatalf("Pods holds one pod (it is for several): %q", line)
	}
}

// FuzzParse runs whole lines through Parse, with and without a receive
// time: it must not panic, and its outcome and kind must agree.
func FuzzParse(f *testing.F) {
	for _, s := range kubeletSeeds(f) {
		f.Add(s)
	}
	recv := time.Date(2026, 11, 29, 15, 25, 47, 360193000, time.UTC)
	f.Fuzz(func(t *testing.T, line string) {
		checkParse(t, line, Parse(line, time.Time{}))
		checkParse(t, line, Parse(line, recv))
	})
}

// FuzzKVs runs the key/value scanner: it must not panic, keys must be
// keys, and only the last value can run to the end of the line cut short.
func FuzzKVs(f *testing.F) {
	for _, s := range kubeletSeeds(f) {
		if i := strings.Index(s, `" `); i > 0 {
			f.Add(s[i+1:])
		}
		f.Add(s)
	}
	f.Add(" err=<\n\tfailed to list *v1.ConfigMap\n > logger=\"UnhandledError\"")
	f.Fuzz(func(t *testing.T, s string) {
		kvs, _ := parseKVs(s, nil)
		for i, p := range kvs {
			if p.key == "" || keyEnd(p.key) != len(p.key) {
				t.Fatalf("key %q from %q", p.key, s)
			}
			if p.cut && i != len(kvs)-1 {
				t.Fatalf("value %d of %d cut: %q", i, len(kvs), s)
			}
		}
		if s != "" {
			if _, n, _ := scanValue(s); n < 0 || n > len(s) {
				t.Fatalf("scanValue consumed %d of %d", n, len(s))
			}
		}
	})
}

// FuzzJoiner feeds journal entries (the input's lines; the first byte of
// each picks one of three processes) through a Joiner: it must not panic,
// must account for every entry exactly once (a line handed on, or a
// continuation counted), and must hand on no line past MaxLine.
func FuzzJoiner(f *testing.F) {
	seeds := kubeletSeeds(f)
	for i := 0; i+4 <= len(seeds); i += 4 {
		f.Add(strings.Join(seeds[i:i+4], "\n"))
	}
	// corpus 155–158 (tab restored) and 133–137.
	f.Add("aE1213 09:15:33.738688     685 reflector.go:205] \"Failed to watch\" err=<\na\tfailed to list *v1.ConfigMap: configmaps \"kube-proxy\" is forbidden\nbI1129 15:25:42.114739   17689 watchdog_linux.go:94] \"Systemd watchdog is not enabled\"\na\tRBAC: [clusterrole.rbac.authorization.k8s.io \"system:basic-user\" not found]\na > logger=\"UnhandledError\" reflector=\"object-\\\"kube-system\\\"/\\\"kube-proxy\\\"\" type=\"*v1.ConfigMap\"")
	f.Add("aW0409 10:34:10.833931     642 logging.go:59] [core] grpc: addrConn.createTransport failed to connect to {\na  \"Addr\": \"/var/run/containerd/containerd.sock\",\na}. Err: connection error")
	f.Fuzz(func(t *testing.T, input string) {
		var j Joiner
		emits, accounted, longest := 0, 0, 0
		emit := func(unit, line string, _ time.Time, cont int) {
			emits++
			if line != "" || cont == 0 {
				accounted++
			}
			accounted += cont
			if len(line) > MaxLine && len(line) > longest {
				t.Fatalf("line of %d bytes handed on", len(line))
			}
			if cont < 0 {
				t.Fatalf("cont %d", cont)
			}
		}
		entries := strings.Split(input, "\n")
		at := time.Unix(1795965942, 0)
		for _, e := range entries {
			key := "none"
			if e != "" {
				key = string('a' + e[0]%3)
				e = e[1:]
			}
			if len(e) > longest {
				longest = len(e)
			}
			j.Add(key, "kubelet.service", e, at, emit)
		}
		j.Flush(emit)
		if accounted != len(entries) {
			t.Fatalf("%d entries, %d accounted for in %d emits: %q", len(entries), accounted, emits, input)
		}
	})
}
