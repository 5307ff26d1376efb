package integration

import (
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"
)

func cpuNow() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestCRICost measures what reading the runtime costs with 100 running
// pods: the event stream against polling every 2 s, in CRI requests per
// second and the agent's CPU, and prints the figures. It asserts the bounds
// the design promises: while nothing changes, the stream makes no requests,
// and polling makes two list calls per interval and no ContainerStatus call.
func TestCRICost(t *testing.T) {
	s := up(t, "2")
	const pods = 100
	ns := "it-cost"
	busybox := s.env["STACK_IMAGE_BUSYBOX"]
	s.crictl(t, "pull", busybox)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for i := 0; i < pods; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			name := fmt.Sprintf("p%03d", i)
			sb, pj := s.pod(t, ns, name, "uid-"+name)
			s.container(t, sb, pj, ns, name, "uid-"+name, "main", busybox, false)
		}(i)
	}
	wg.Wait()
	const window = 10 * time.Second
	for _, mode := range []struct {
		name  string
		poll  bool
		every time.Duration
	}{{"events", false, 0}, {"poll", true, 2 * time.Second}} {
		r := newAgentWith(t, s, mode.poll, mode.every)
		waitFor(t, 30*time.Second, "the agent to be ready", func() bool { return r.a.Ready() == nil })
		time.Sleep(time.Second) // let the first relist finish
		req0 := r.metric(t, "podstart_cri_requests_total", map[string]string{"code": "OK"})
		list0 := r.metric(t, "podstart_cri_requests_total", map[string]string{"method": "ListContainers"})
		st0 := r.metric(t, "podstart_cri_requests_total", map[string]string{"method": "ContainerStatus"})
		// Status, every poll interval in both modes, for
		// podstart_cri_condition.
		rs0 := r.metric(t, "podstart_cri_requests_total", map[string]string{"method": "Status"})
		cpu0, t0 := cpuNow(), time.Now()
		time.Sleep(window)
		cpu, wall := cpuNow()-cpu0, time.Since(t0)
		reqs := r.metric(t, "podstart_cri_requests_total", map[string]string{"code": "OK"}) - req0
		lists := r.metric(t, "podstart_cri_requests_total", map[string]string{"method": "ListContainers"}) - list0
		status := r.metric(t, "podstart_cri_requests_total", map[string]string{"method": "ContainerStatus"}) - st0
		rstatus := r.metric(t, "podstart_cri_requests_total", map[string]string{"method": "Status"}) - rs0
		reqs -= rstatus
		t.Logf("CRI cost, %d running pods, %s: %.2f requests/s besides Status (ListContainers %.0f, ContainerStatus %.0f in %s), Status %.0f, agent CPU %.2f ms/s",
			pods, mode.name, reqs/wall.Seconds(), lists, status, wall.Round(time.Millisecond), rstatus, float64(cpu.Microseconds())/1000/wall.Seconds())
		every := mode.every
		if every == 0 {
			every = 2 * time.Second // cri.Config's default poll interval
		}
		if max := window/every + 1; rstatus < 1 || rstatus > float64(max) {
			t.Errorf("%s: %v Status calls in %s, want one per poll interval (at most %d)", mode.name, rstatus, window, max)
		}
		fmt.Printf("CRI cost, %d running pods, %-6s %6.2f requests/s besides Status, agent CPU %6.2f ms/s\n", pods, mode.name+":", reqs/wall.Seconds(), float64(cpu.Microseconds())/1000/wall.Seconds())
		if !mode.poll && reqs != 0 {
			t.Errorf("the event stream made %v requests while nothing changed", reqs)
		}
		if mode.poll {
			if max := 2 * (window/mode.every + 1); reqs > float64(max) {
				t.Errorf("polling made %v requests in %s, more than two lists per interval (%d)", reqs, window, max)
			}
			if status != 0 {
				t.Errorf("polling called ContainerStatus %v times while no container changed", status)
			}
		}
		r.stop()
	}
}
