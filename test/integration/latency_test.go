package integration

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// TestCRILatency measures how long after a container really started (the
// CRI's own StartedAt, in ns) its container_start observation is made,
// with the event stream: one container at a time, 40 of them, the agent's
// observations polled every millisecond. The stage's start is the runtime's
// StartContainer line in the journal, so the journal's latency is in it. It prints p50 and p99 (bench/run
// puts them in docs/performance.md) and asserts only that every start was
// observed, once.
func TestCRILatency(t *testing.T) {
	s := up(t, "2")
	r := startAgent(t, s, false)
	busybox := s.env["STACK_IMAGE_BUSYBOX"]
	s.crictl(t, "pull", busybox)
	ns := "it-latency"
	const n = 40
	var lat []time.Duration
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("l%02d", i)
		sb, pj := s.pod(t, ns, name, "uid-"+name)
		// Watch from before the start: the observation may come before
		// crictl returns.
		key := "container_start " + ns + "/" + name
		seen := make(chan time.Time, 1)
		go func() {
			deadline := time.Now().Add(30 * time.Second)
			for r.obs.get(key) == 0 && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			seen <- time.Now()
		}()
		id := s.container(t, sb, pj, ns, name, "uid-"+name, "main", busybox, false)
		at := <-seen
		if r.obs.get(key) == 0 {
			t.Fatalf("%s: no container_start observation within 30s", name)
		}
		_, started := s.inspect(t, id)
		lat = append(lat, at.Sub(started))
	}
	time.Sleep(2 * time.Second)
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("l%02d", i)
		if got := r.obs.get("container_start " + ns + "/" + name); got != 1 {
			t.Errorf("%s: container_start observed %d times, want 1", name, got)
		}
	}
	slices.Sort(lat)
	p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
	t.Logf("CRI latency, container started to observed, %d containers: p50 %s, p99 %s, max %s", n, p50, p99, lat[len(lat)-1])
	fmt.Printf("CRI latency, container started to container_start observed (events, %d containers): p50 %s, p99 %s, max %s\n",
		n, p50.Round(time.Microsecond), p99.Round(time.Microsecond), lat[len(lat)-1].Round(time.Microsecond))
}
