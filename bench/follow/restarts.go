package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/podstart/podstart/internal/journaltest"
)

// startAgent starts node-agent following dir, serving on a free port,
// with a state file when state is not empty, and waits until it answers.
func startAgent(bin, dir, state string, interval time.Duration) (*exec.Cmd, string, error) {
	addr, err := freePort()
	if err != nil {
		return nil, "", err
	}
	cmd := exec.Command(bin, "--journal.path", dir, "--journal.identifier", "kubelet", "--journal.identifier", "containerd",
		"--cri.endpoint", "none", "--state.file", state, "--state.interval", interval.String(),
		"--web.listen-address", addr, "--lookback", "1h", "--log.level", "warn")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	base := "http://" + addr
	for i := 0; ; i++ {
		if _, _, err := scrape(base); err == nil {
			return cmd, base, nil
		}
		if i == 100 {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			return nil, "", errors.New("the agent did not answer within 10s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// counted are the series compared between the agents: pod totals, stages
// and failures.
var counted = []struct{ name, series string }{
	{"pods started (node total)", `podstart_pod_startup_duration_seconds_count{scope="node"}`},
	{"pods ready (ready total)", `podstart_pod_startup_duration_seconds_count{scope="ready"}`},
	{"stage observations", `podstart_stage_duration_seconds_count`},
	{"image pulls", `podstart_image_pulls_total`},
	{"failures", `podstart_failures_total`},
}

// series sums the samples of a metric family, or of its series whose
// labels include the ones in prefix (name{label="value"}).
func series(body, prefix string) float64 {
	name, labels, _ := strings.Cut(prefix, "{")
	var sum float64
	for _, l := range strings.Split(body, "\n") {
		if !strings.HasPrefix(l, name+"{") && !strings.HasPrefix(l, name+" ") {
			continue
		}
		if labels != "" && !strings.Contains(l, strings.TrimSuffix(labels, "}")) {
			continue
		}
		var v float64
		f := strings.Fields(l)
		fmt.Sscan(f[len(f)-1], &v)
		sum += v
	}
	return sum
}

// runRestarts sends the lines of `pods` pod starts, `speed` times faster
// than real, to two journald namespaces at once. One agent follows the
// first and never stops; the other, with a state file written every
// `interval`, is stopped with sig every `every` (±50 %) and started again at once.
// Each process's counts are taken from a scrape right before its signal,
// with the lines held back for a second around it. At the end the counts of
// the restarted agent's processes, added up, are compared with the
// uninterrupted agent's.
func runRestarts(bin string, pods int, speed float64, sig syscall.Signal, interval, every time.Duration) error {
	var ns [2]*journaltest.Namespace
	var snd [2]senders
	for i := range ns {
		var err error
		if ns[i], err = journaltest.RunJournald(); err != nil {
			return err
		}
		defer ns[i].Close()
		if snd[i], err = startSenders(ns[i].Socket()); err != nil {
			return err
		}
		defer snd[i].close()
		if err := snd[i].send(line{ident: "kubelet", msg: "I0101 00:00:00.000000       1 bench.go:1] \"bench start\""}); err != nil {
			return err
		}
	}
	ls, err := lines(time.Duration((pods+3)/4) * 10 * time.Second)
	if err != nil {
		return err
	}
	time.Sleep(500 * time.Millisecond)
	state, err := os.MkdirTemp("", "podstart-restarts")
	if err != nil {
		return err
	}
	defer os.RemoveAll(state)

	ref, refBase, err := startAgent(bin, ns[0].Dir, "", interval)
	if err != nil {
		return err
	}
	defer func() { _ = ref.Process.Kill(); _ = ref.Wait() }()

	// The restarted agent, driven by its own goroutine until sending ends.
	// Sending pauses around each stop, so that the last scrape holds all
	// the stopped process counted: what is measured is the agent's own
	// loss or repeat, not the lines that arrived after a Prometheus' last
	// scrape.
	var pause sync.Mutex
	done := make(chan struct{})
	type result struct {
		totals   map[string]float64
		restarts int
		err      error
	}
	res := make(chan result, 1)
	go func() {
		r := result{totals: map[string]float64{}}
		add := func(body string) {
			for _, c := range counted {
				r.totals[c.series] += series(body, c.series)
			}
		}
		cmd, base, err := startAgent(bin, ns[1].Dir, state+"/state.json", interval)
		if err != nil {
			res <- result{err: err}
			return
		}
		var last string
		gap := func() time.Duration { return every/2 + time.Duration(rand.Int64N(int64(every))) }
		next := time.Now().Add(gap())
		for {
			select {
			case <-done:
				// Let it settle, then take its final counts.
				time.Sleep(15 * time.Second)
				if body, _, err := scrape(base); err == nil {
					last = body
				}
				add(last)
				_ = cmd.Process.Signal(syscall.SIGTERM)
				_ = cmd.Wait()
				res <- r
				return
			case <-time.After(200 * time.Millisecond):
			}
			if body, _, err := scrape(base); err == nil {
				last = body
			}
			if time.Now().Before(next) {
				continue
			}
			pause.Lock()
			time.Sleep(time.Second)
			if body, _, err := scrape(base); err == nil {
				last = body
			}
			_ = cmd.Process.Signal(sig)
			_ = cmd.Wait()
			pause.Unlock()
			add(last)
			r.restarts++
			if cmd, base, err = startAgent(bin, ns[1].Dir, state+"/state.json", interval); err != nil {
				res <- result{err: err}
				return
			}
			last = ""
			next = time.Now().Add(gap())
		}
	}()

	t0 := time.Now()
	for _, l := range ls {
		if w := time.Duration(float64(l.at)/speed) - time.Since(t0); w > 0 {
			time.Sleep(w)
		}
		pause.Lock()
		for i := range snd {
			if err := snd[i].send(l); err != nil {
				pause.Unlock()
				return err
			}
		}
		pause.Unlock()
	}
	close(done)
	r := <-res
	if r.err != nil {
		return r.err
	}
	refBody, _, err := scrape(refBase)
	if err != nil {
		return err
	}
	fmt.Printf("\n%d pod starts' lines (%d) at %g× their pace, state written every %s; the agent stopped with %s %d times (every %s ±50 %%) and started again:\n\n",
		pods, len(ls), speed, interval, sig, r.restarts, every)
	fmt.Printf("| series | agent never stopped | restarted agent, its processes added up | difference | per restart |\n|---|---|---|---|---|\n")
	for _, c := range counted {
		want, got := series(refBody, c.series), r.totals[c.series]
		fmt.Printf("| %s | %.0f | %.0f | %+.0f | %+.2f |\n", c.name, want, got, got-want, (got-want)/float64(max(r.restarts, 1)))
	}
	return nil
}
