package agent_test

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/podstart/podstart/internal/agent"
	"github.com/podstart/podstart/internal/journal"
	"github.com/podstart/podstart/internal/journaltest"
)

// TestRestartExactlyOnce stops the agent gracefully in the middle of pod
// starts, at many points of two recorded node journals, and starts a new one
// with the same state file: what the two processes counted together (a
// Prometheus sees a counter reset and adds them up) equals what one agent
// that never stopped counts, series by series, counters and histogram
// counts and sums alike.
func TestRestartExactlyOnce(t *testing.T) {
	for _, name := range []string{"realnode-basic", "clusternode-basic"} {
		t.Run(name, func(t *testing.T) {
			rec := recorded(t, name)
			// Move the recording to the last few minutes: the lookback
			// holds it, and the clock's ticks settle what it leaves open.
			d := time.Now().Add(-5 * time.Minute).Truncate(time.Second).Sub(rec[0].Realtime)
			var es []journaltest.Entry
			k, c := journaltest.Kubelet(17689), journaltest.Containerd(17640)
			for _, e := range rec {
				p := c
				if e.Fields["_SYSTEMD_UNIT"] == "kubelet.service" {
					p = k
				}
				es = append(es, p.Replay(e, d, nil))
			}
			cfg := func(dir, state string) agent.Config {
				return agent.Config{Journal: journal.Config{Path: dir}, Lookback: time.Hour, StateFile: state}
			}

			dir := t.TempDir()
			journaltest.Write(t, dir, es)
			_, last := lastCursor(t, dir)
			wholeState := t.TempDir() + "/state.json"
			whole := runAgent(t, cfg(dir, wholeState))
			want := settled(t, whole, wholeState, last)
			whole.stop(t)
			if want["podstart_stage_duration_seconds_count{stage=container_start}"] == 0 {
				t.Fatalf("the uninterrupted agent observed no container start: %v", want)
			}

			const splits = 8
			for i := 1; i <= splits; i++ {
				// Not between entries of the same receive time (the lines
				// of one multi-line value): two journal files written apart
				// order such entries arbitrarily, which a node's journald,
				// numbering entries in sequence across its files, does not.
				cut := len(es) * i / (splits + 1)
				for cut < len(es)-1 && !es[cut].Realtime.After(es[cut-1].Realtime) {
					cut++
				}
				dir := t.TempDir()
				state := t.TempDir() + "/state.json"
				journaltest.Write(t, dir, es[:cut])
				_, c1 := lastCursor(t, dir)
				a := runAgent(t, cfg(dir, state))
				got1 := settled(t, a, state, c1)
				a.stop(t)
				journaltest.Write(t, dir, es[cut:])
				_, c2 := lastCursor(t, dir)
				b := runAgent(t, cfg(dir, state))
				got2 := settled(t, b, state, c2)
				b.stop(t)
				sum := map[string]float64{}
				for _, m := range []map[string]float64{got1, got2} {
					for k, v := range m {
						sum[k] += v
					}
				}
				if diff := compare(want, sum); diff != "" {
					m := strings.TrimSpace(es[cut-1].Message())
					t.Errorf("restart after entry %d of %d (%.80s): the two processes together differ from one:\n%s", cut, len(es), m, diff)
				}
			}
		})
	}
}

// settled waits until the agent's state holds cursor and its counts no
// longer change (the ticks settled what they could), and returns them.
func settled(t *testing.T, r *running, state, cursor string) map[string]float64 {
	t.Helper()
	waitState(t, state, cursor)
	prev := additive(t, r.h.reg)
	for range 100 {
		time.Sleep(100 * time.Millisecond)
		cur := additive(t, r.h.reg)
		if compare(prev, cur) == "" {
			return cur
		}
		prev = cur
	}
	t.Fatal("the agent's counts did not settle within 10s")
	return nil
}

// additive returns every counter and every histogram's count and sum of
// podstart_*, by series: what adds up across a restart.
func additive(t *testing.T, g prometheus.Gatherer) map[string]float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), "podstart_") {
			continue
		}
		for _, m := range mf.GetMetric() {
			var ls []string
			for _, lp := range m.GetLabel() {
				ls = append(ls, lp.GetName()+"="+lp.GetValue())
			}
			sort.Strings(ls)
			key := "{" + strings.Join(ls, ",") + "}"
			switch {
			case m.GetCounter() != nil:
				out[mf.GetName()+key] = m.GetCounter().GetValue()
			case m.GetHistogram() != nil:
				out[mf.GetName()+"_count"+key] = float64(m.GetHistogram().GetSampleCount())
				out[mf.GetName()+"_sum"+key] = m.GetHistogram().GetSampleSum()
			}
		}
	}
	return out
}

func compare(want, got map[string]float64) string {
	var b strings.Builder
	keys := map[string]bool{}
	for k := range want {
		keys[k] = true
	}
	for k := range got {
		keys[k] = true
	}
	var sorted []string
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		if math.Abs(want[k]-got[k]) > 1e-6*math.Max(1, math.Abs(want[k])) {
			fmt.Fprintf(&b, "  %s: %g, want %g\n", k, got[k], want[k])
		}
	}
	return b.String()
}
