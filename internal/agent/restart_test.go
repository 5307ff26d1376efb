package agent_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/podstart/podstart/internal/agent"
	"github.com/podstart/podstart/internal/journal"
	"github.com/podstart/podstart/internal/journaltest"
	"github.com/podstart/podstart/internal/timeline"
)

// window returns the entries received in [from, to).
func window(es []journaltest.Entry, from, to time.Time) []journaltest.Entry {
	var out []journaltest.Entry
	for _, e := range es {
		if !e.Realtime.Before(from) && e.Realtime.Before(to) {
			out = append(out, e)
		}
	}
	return out
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, "2026-11-29T"+s+"Z")
	if err != nil {
		panic(err)
	}
	return t
}

// replay moves es by d; kubelet lines become process k's, containerd lines
// stay containerd's; rewrite (if set) renames the pod.
func replay(es []journaltest.Entry, d time.Duration, k *journaltest.Process, rewrite func(string) string) []journaltest.Entry {
	c := journaltest.Containerd(17640)
	var out []journaltest.Entry
	for _, e := range es {
		p := c
		if e.Fields["_SYSTEMD_UNIT"] == "kubelet.service" {
			p = k
		}
		out = append(out, p.Replay(e, d, rewrite))
	}
	return out
}

var plegData = regexp.MustCompile(`"Type":"(ContainerStarted|ContainerDied)","Data":"([0-9a-f]{64})"`)

// resync returns what a restarted kubelet logs about a pod that is already
// running: its volumes verified and mounted again, and the first PLEG
// relist's events (ContainerStarted for the sandbox and each running
// container, ContainerDied for an exited one), from the pod's own recorded
// lines es.
func resync(es []journaltest.Entry, pod string) []journaltest.Entry {
	var vols, pleg []journaltest.Entry
	died := map[string]bool{}
	for _, e := range es {
		msg := e.Message()
		if e.Fields["_SYSTEMD_UNIT"] != "kubelet.service" {
			continue
		}
		switch {
		case strings.Contains(msg, "VerifyControllerAttachedVolume started") || strings.Contains(msg, "operationExecutor.MountVolume started") ||
			strings.Contains(msg, "MountVolume.SetUp succeeded"):
			if strings.Contains(msg, `pod="`+pod+`"`) {
				vols = append(vols, e)
			}
		case strings.Contains(msg, `"SyncLoop (PLEG): event for pod" pod="`+pod+`"`):
			if m := plegData.FindStringSubmatch(msg); m != nil && m[1] == "ContainerDied" {
				died[m[2]] = true
			}
			pleg = append(pleg, e)
		}
	}
	out := vols
	for _, e := range pleg {
		m := plegData.FindStringSubmatch(e.Message())
		if m != nil && m[1] == "ContainerStarted" && died[m[2]] {
			continue // exited before the restart: the relist sees it dead
		}
		out = append(out, e)
	}
	return out
}

// restart returns a kubelet restart at t as process k: the recorded
// kubelet's startup lines (flags, "Kubelet version", "Started kubelet", ...),
// the file source's SyncLoop ADD of every pod already on the node, and
// each running pod's resync lines.
func restart(rec []journaltest.Entry, k *journaltest.Process, t time.Time, pods []string, running [][]journaltest.Entry) []journaltest.Entry {
	startup := window(rec, at("15:25:42.106"), at("15:25:42.249")) // up to the first, empty SyncLoop ADD
	var kubelet []journaltest.Entry
	for _, e := range startup {
		if e.Fields["_SYSTEMD_UNIT"] == "kubelet.service" {
			kubelet = append(kubelet, e)
		}
	}
	d := t.Sub(kubelet[0].Realtime)
	out := replay(kubelet, d, k, nil)
	next := out[len(out)-1].Realtime
	step := func() time.Time { next = next.Add(time.Millisecond); return next }
	quoted := make([]string, len(pods))
	for i, p := range pods {
		quoted[i] = `"` + p + `"`
	}
	add := step()
	out = append(out, k.Entry(add, fmt.Sprintf(`I%s   %d kubelet.go:2760] "SyncLoop ADD" source="file" pods=[%s]`,
		add.Format("0102 15:04:05.000000"), k.PID, strings.Join(quoted, ","))))
	for i, es := range running {
		for _, e := range resync(es, pods[i]) {
			ts := step()
			out = append(out, k.Replay(e, ts.Sub(e.Realtime), nil))
		}
	}
	return out
}

// TestKubeletRestarts: two kubelet restarts in one journal (three kubelet
// PIDs), each replaying the pods already running (SyncLoop ADD, volume
// mounts, PLEG relist), with pod starts before, between and across them:
// each pod start is observed once.
func TestKubeletRestarts(t *testing.T) {
	rec := recorded(t, "realnode-basic")
	k2, k3 := journaltest.Kubelet(18001), journaltest.Kubelet(18002) // the first is the recording's, 17689
	webStart := window(rec, at("15:25:47.36"), at("15:25:53.3"))
	pairStart := window(rec, at("15:25:56.55"), at("15:25:58.2"))

	// The first kubelet starts web-vm and pair-vm (the recording, up to the
	// missing-image pod).
	entries := window(rec, rec[0].Realtime, at("15:26:00"))

	// Restart 1 at 15:26:10.
	entries = append(entries, restart(rec, k2, at("15:26:10"), []string{"default/web-vm", "default/pair-vm"}, [][]journaltest.Entry{webStart, pairStart})...)

	// A new pod, late-vm (web-vm's start, other ids), at 15:26:20.
	late := replay(webStart, at("15:26:20").Sub(webStart[0].Realtime), k2, journaltest.FreshIDs("late", "web-vm", "late-vm"))

	// span-vm (pair-vm's start, other ids) begins at 15:26:40; the
	// kubelet restarts right after its sandbox is ready and the new
	// kubelet finishes the start.
	span := replay(pairStart, at("15:26:40").Sub(pairStart[0].Realtime), k2, journaltest.FreshIDs("span", "pair-vm", "span-vm"))
	split := slices.IndexFunc(span, func(e journaltest.Entry) bool { return strings.Contains(e.Message(), "returns sandbox id") })
	if split < 0 {
		t.Fatal("no sandbox line in pair-vm's start")
	}
	split++
	restart2 := span[split-1].Realtime.Add(time.Millisecond)
	r2 := restart(rec, k3, restart2, []string{"default/web-vm", "default/pair-vm", "default/late-vm", "default/span-vm"},
		[][]journaltest.Entry{webStart, pairStart, late, span[:split]})
	gap := r2[len(r2)-1].Realtime.Sub(restart2) + time.Millisecond
	entries = append(entries, late...)
	entries = append(entries, span[:split]...)
	entries = append(entries, r2...)
	entries = append(entries, replay(span[split:], gap, k3, nil)...)
	slices.SortStableFunc(entries, func(a, b journaltest.Entry) int { return a.Realtime.Compare(b.Realtime) })

	pids := map[string]bool{}
	versions := 0
	for _, e := range entries {
		if e.Fields["_SYSTEMD_UNIT"] == "kubelet.service" {
			pids[e.Fields["_PID"]] = true
			if strings.Contains(e.Message(), `"Kubelet version"`) {
				versions++
			}
		}
	}
	if len(pids) != 3 || versions != 3 {
		t.Fatalf("journal has %d kubelet PIDs and %d \"Kubelet version\" lines, want 3 and 3", len(pids), versions)
	}

	dir := t.TempDir()
	journaltest.Write(t, dir, entries)
	h := newHarness(t, agent.Config{Journal: journal.Config{Path: dir}})
	h.readOnce(t)

	for _, p := range []string{"default/web-vm", "default/pair-vm", "default/late-vm", "default/span-vm"} {
		view := h.pod(t, p) // exactly one in the timeline
		if n := h.obs.count(timeline.ScopeNode, p); n != 1 {
			t.Errorf("%s: node total observed %d times, want 1", p, n)
		}
		if n := h.obs.count(timeline.ScopeReady, p); n > 1 {
			t.Errorf("%s: ready total observed %d times", p, n)
		}
		t.Logf("%s: state %s, stages %v, failures %v", p, view.State, view.Stages, failures(view))
	}
	for _, p := range []string{"default/web-vm", "default/late-vm"} {
		if n := h.obs.count(timeline.ScopeReady, p); n != 1 {
			t.Errorf("%s: ready total observed %d times, want 1", p, n)
		}
	}
	if late := h.pod(t, "default/late-vm"); late.UID == "37ce7e5d26922d1f0d4b9c2642f91cc9" || len(late.Containers) != 2 {
		t.Errorf("late-vm: uid %s, %d containers", late.UID, len(late.Containers))
	}
	if span := h.pod(t, "default/span-vm"); len(span.Containers) != 2 {
		t.Errorf("span-vm: %d containers, want 2", len(span.Containers))
	}
	h.checkAccounted(t, "kubelet.service", 0)

	// The restarts change nothing in what was measured: web-vm and pair-vm
	// have the stages of the same journal without restarts, and late-vm,
	// web-vm's start replayed, has web-vm's.
	plainDir := t.TempDir()
	journaltest.Write(t, plainDir, window(rec, rec[0].Realtime, at("15:26:00")))
	plain := newHarness(t, agent.Config{Journal: journal.Config{Path: plainDir}})
	plain.readOnce(t)
	for _, c := range [][2]string{{"default/web-vm", "default/web-vm"}, {"default/pair-vm", "default/pair-vm"}, {"default/late-vm", "default/web-vm"}} {
		got, want := h.pod(t, c[0]).Stages, plain.pod(t, c[1]).Stages
		if len(got) != len(want) {
			t.Errorf("%s: stages %v, want %v", c[0], got, want)
			continue
		}
		for k, v := range want {
			if d := got[k] - v; d > 1e-6 || d < -1e-6 {
				t.Errorf("%s: stage %s %v, want %v", c[0], k, got[k], v)
			}
		}
	}
}
