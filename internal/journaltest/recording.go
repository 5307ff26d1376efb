package journaltest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"embed"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"
)

// The real recordings, `journalctl -o json` of journals that systemd-journald
// wrote on a node (copied from shared/recordings/<name>/journal.json.gz; see
// testdata/README.md).
//
//go:embed testdata/*.json.gz
var recordings embed.FS

// Recording returns every entry of a real recorded journal with all its
// fields: "realnode-basic" (standalone kubelet v1.37.2 at --v=2 and
// containerd 2.4.2, three static pods) or "clusternode-basic" (the same in
// API mode, with etcd, kube-apiserver and kube-controller-manager). Only
// __CURSOR is dropped; the timestamps become Realtime and Monotonic.
func Recording(name string) ([]Entry, error) {
	b, err := recordings.ReadFile("testdata/" + name + ".json.gz")
	if err != nil {
		return nil, fmt.Errorf("journaltest: no recording %q: %w", name, err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	var out []Entry
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &raw); err != nil {
			return nil, fmt.Errorf("journaltest: recording %s, entry %d: %w", name, len(out)+1, err)
		}
		e := Entry{Fields: make(map[string]string, len(raw))}
		for k, v := range raw {
			s, err := jsonValue(v)
			if err != nil {
				return nil, fmt.Errorf("journaltest: recording %s, entry %d, %s: %w", name, len(out)+1, k, err)
			}
			switch k {
			case "__CURSOR":
			case "__REALTIME_TIMESTAMP":
				us, err := strconv.ParseInt(s, 10, 64)
				if err != nil {
					return nil, err
				}
				e.Realtime = time.UnixMicro(us).UTC()
			case "__MONOTONIC_TIMESTAMP":
				us, err := strconv.ParseInt(s, 10, 64)
				if err != nil {
					return nil, err
				}
				e.Monotonic = time.Duration(us) * time.Microsecond
			default:
				e.Fields[k] = s
			}
		}
		out = append(out, e)
	}
	return out, sc.Err()
}

// MustRecording is Recording for tests.
func MustRecording(t testing.TB, name string) []Entry {
	t.Helper()
	es, err := Recording(name)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// jsonValue decodes a field of journalctl's JSON: a string, or an array of
// bytes for a value that is not text.
func jsonValue(v json.RawMessage) (string, error) {
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		return s, nil
	}
	var bs []byte
	var ints []int
	if err := json.Unmarshal(v, &ints); err != nil {
		return "", err
	}
	for _, i := range ints {
		bs = append(bs, byte(i))
	}
	return string(bs), nil
}
