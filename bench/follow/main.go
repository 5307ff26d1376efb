// Command follow measures node-agent in follow mode against a real
// systemd-journald (a journal namespace of its own, so the machine's journal
// is left alone): its CPU and memory while journald receives a busy node's
// kubelet and containerd lines (journaltest.BusyNode: kubelet at --v=4, a
// pod start every 2.5 s) at their real pace, and while a flood of 100 pod
// starts' lines arrives at once; the cost and size of a scrape; and the
// latency from a line reaching journald to the agent counting it on
// /metrics. Needs root (journald).
//
//	follow -agent bin/node-agent [-duration 60s] [-flood-pods 100]
//	follow -agent bin/node-agent -restarts KILL|TERM [-pods 200] [-speed 10] [-state-interval 10s] [-stop-every 20s]
//
// The second form runs restart trials instead (see runRestarts).
//
// Each kubelet and containerd line is sent by a child process of its own
// (one for the kubelet's lines, one for containerd's) so that they carry
// two _PIDs, as on a node. It prints a Markdown table.
package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/podstart/podstart/internal/journaltest"
)

func main() {
	sender := flag.String("sender", "", "internal: send the length-prefixed messages on stdin to this journald socket")
	ident := flag.String("identifier", "", "internal: SYSLOG_IDENTIFIER of the sender's lines")
	agent := flag.String("agent", "", "the node-agent binary")
	duration := flag.Duration("duration", 60*time.Second, "how long to measure the steady rate")
	floodPods := flag.Int("flood-pods", 100, "pod starts in the flood")
	restarts := flag.String("restarts", "", "instead: restart trials, the agent stopped with KILL or TERM every few seconds")
	pods := flag.Int("pods", 200, "restart trials: pod starts sent")
	speed := flag.Float64("speed", 10, "restart trials: how many times faster than real the lines are sent")
	interval := flag.Duration("state-interval", 10*time.Second, "restart trials: the agent's --state.interval")
	every := flag.Duration("stop-every", 20*time.Second, "restart trials: how often the agent is stopped (±50 %)")
	flag.Parse()
	if *sender != "" {
		if err := send(*sender, *ident, os.Stdin); err != nil {
			fmt.Fprintln(os.Stderr, "follow: sender:", err)
			os.Exit(1)
		}
		return
	}
	if *agent == "" {
		fmt.Fprintln(os.Stderr, "follow: -agent is required")
		os.Exit(2)
	}
	if *restarts != "" {
		sig := map[string]syscall.Signal{"KILL": syscall.SIGKILL, "TERM": syscall.SIGTERM}[*restarts]
		if sig == 0 {
			fmt.Fprintln(os.Stderr, "follow: -restarts: KILL or TERM")
			os.Exit(2)
		}
		if err := runRestarts(*agent, *pods, *speed, sig, *interval, *every); err != nil {
			fmt.Fprintln(os.Stderr, "follow:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*agent, *duration, *floodPods); err != nil {
		fmt.Fprintln(os.Stderr, "follow:", err)
		os.Exit(1)
	}
}

// send is the child: it sends each message read from r to journald.
func send(sock, ident string, r io.Reader) error {
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		return err
	}
	br := bufio.NewReader(r)
	var n uint32
	for {
		if err := binary.Read(br, binary.LittleEndian, &n); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(br, b); err != nil {
			return err
		}
		if err := journaltest.SendNative(conn, ident, string(b)); err != nil {
			return err
		}
	}
}

type line struct {
	at    time.Duration // since the first line
	ident string
	msg   string
	gen   time.Time // when the generator had journald receive it
}

// lines returns the busy node's kubelet and containerd lines over d.
func lines(d time.Duration) ([]line, error) {
	var out []line
	var t0 time.Time
	errStop := errors.New("stop")
	err := journaltest.BusyNode{Entries: 1 << 30}.Generate(func(e journaltest.Entry) error {
		var ident string
		switch e.Fields["_SYSTEMD_UNIT"] {
		case "kubelet.service":
			ident = "kubelet"
		case "containerd.service":
			ident = "containerd"
		default:
			return nil
		}
		if t0.IsZero() {
			t0 = e.Realtime
		}
		at := e.Realtime.Sub(t0)
		if at > d {
			return errStop
		}
		out = append(out, line{at, ident, e.Message(), e.Realtime})
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return nil, err
	}
	return out, nil
}

type senders map[string]*senderProc

type senderProc struct {
	cmd *exec.Cmd
	in  *bufio.Writer
	w   io.WriteCloser
}

// startSenders starts one child process per identifier, each sending to
// journald's socket sock what it is given.
func startSenders(sock string) (senders, error) {
	s := senders{}
	for _, id := range []string{"kubelet", "containerd"} {
		cmd := exec.Command(os.Args[0], "-sender", sock, "-identifier", id)
		cmd.Stderr = os.Stderr
		w, err := cmd.StdinPipe()
		if err != nil {
			return nil, err
		}
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		s[id] = &senderProc{cmd: cmd, in: bufio.NewWriter(w), w: w}
	}
	return s, nil
}

// send sends l, its timestamps moved to now, as journald receives it now:
// a kubelet's header is never far from its receive time.
func (s senders) send(l line) error {
	p := s[l.ident]
	if !l.gen.IsZero() {
		l.msg = journaltest.ShiftMessage(l.msg, time.Since(l.gen))
	}
	if err := binary.Write(p.in, binary.LittleEndian, uint32(len(l.msg))); err != nil {
		return err
	}
	if _, err := p.in.WriteString(l.msg); err != nil {
		return err
	}
	return p.in.Flush()
}

func (s senders) close() {
	for _, p := range s {
		p.w.Close()
		_ = p.cmd.Wait()
	}
}

// proc reads the agent's CPU time and memory from /proc.
type proc struct{ pid int }

func (p proc) cpu() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command (which may hold spaces) in parentheses.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100, nil // USER_HZ is 100 on Linux
}

// mem returns VmRSS, RssAnon and RssFile in bytes.
func (p proc) mem() (rss, anon, file int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.pid))
	if err != nil {
		return 0, 0, 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = v << 10
		case "RssAnon:":
			anon = v << 10
		case "RssFile:":
			file = v << 10
		}
	}
	return rss, anon, file, nil
}

func scrape(base string) (string, time.Duration, error) {
	t := time.Now()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), time.Since(t), err
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

type phase struct {
	name           string
	lines          int
	wall, cpu      time.Duration
	rss, anon, fil int64
	heap           float64
}

func run(agentBin string, d time.Duration, floodPods int) error {
	ns, err := journaltest.RunJournald()
	if err != nil {
		return err
	}
	defer ns.Close()
	// One stream of lines, cut in three: the steady part, then the flood
	// (floodPods pod starts, 4 a BusyNode episode of 10 s), then enough
	// more pods to track 1,000 at once. Every pod is a new one.
	episodes := func(pods int) time.Duration { return time.Duration((pods+3)/4) * 10 * time.Second }
	floodAt, fillAt := d, d+episodes(floodPods)
	all, err := lines(fillAt + episodes(1000-floodPods-int(d/(10*time.Second))*4))
	if err != nil {
		return err
	}
	var steady, flood, fill []line
	for _, l := range all {
		switch {
		case l.at < floodAt:
			steady = append(steady, l)
		case l.at < fillAt:
			flood = append(flood, l)
		default:
			fill = append(fill, l)
		}
	}
	s, err := startSenders(ns.Socket())
	if err != nil {
		return err
	}
	defer s.close()
	// journald creates the files on the first entry.
	if err := s.send(line{ident: "kubelet", msg: "I0101 00:00:00.000000       1 bench.go:1] \"bench start\""}); err != nil {
		return err
	}
	time.Sleep(500 * time.Millisecond)

	cmd, base, err := startAgent(agentBin, ns.Dir, "", 10*time.Second)
	if err != nil {
		return err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	p := proc{cmd.Process.Pid}

	measure := func(name string, ls []line, paced bool) (phase, error) {
		ph := phase{name: name, lines: len(ls)}
		c0, _ := p.cpu()
		t0 := time.Now()
		for _, l := range ls {
			if paced {
				if w := l.at - time.Since(t0); w > 0 {
					time.Sleep(w)
				}
			}
			if err := s.send(l); err != nil {
				return ph, err
			}
		}
		if !paced {
			// Until the agent has read them all (a scrape every second).
			want := float64(len(ls))
			for {
				time.Sleep(time.Second)
				body, _, err := scrape(base)
				if err != nil {
					return ph, err
				}
				if series(body, "podstart_journal_entries_read_total") >= want {
					break
				}
			}
		}
		ph.wall = time.Since(t0)
		c1, _ := p.cpu()
		ph.cpu = c1 - c0
		ph.rss, ph.anon, ph.fil, _ = p.mem()
		body, _, err := scrape(base)
		if err != nil {
			return ph, err
		}
		ph.heap = series(body, "go_memstats_heap_inuse_bytes")
		return ph, nil
	}

	steadyPh, err := measure(fmt.Sprintf("steady: a busy node's lines at their pace for %s", d), steady, true)
	if err != nil {
		return err
	}
	floodPh, err := measure(fmt.Sprintf("flood: %d pod starts' lines at once", floodPods), flood, false)
	if err != nil {
		return err
	}
	fillPh, err := measure("fill: lines of more pods at once, up to 1,000 tracked", fill, false)
	if err != nil {
		return err
	}

	// Scrape cost with every family populated.
	var lat []time.Duration
	var body string
	for range 50 {
		b, l, err := scrape(base)
		if err != nil {
			return err
		}
		body, lat = b, append(lat, l)
	}
	slices.Sort(lat)
	allSeries := 0
	for _, l := range strings.Split(body, "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			allSeries++
		}
	}
	podstartSeries := 0
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, "podstart_") {
			podstartSeries++
		}
	}

	// Latency: one line at a time, then scrape until it is counted.
	var lats []time.Duration
	read := series(body, "podstart_journal_entries_read_total")
	for i := 0; i < 200; i++ {
		l := steady[i%len(steady)]
		t := time.Now()
		if err := s.send(l); err != nil {
			return err
		}
		for {
			b, _, err := scrape(base)
			if err != nil {
				return err
			}
			if v := series(b, "podstart_journal_entries_read_total"); v > read {
				read = v
				lats = append(lats, time.Since(t))
				break
			}
			if time.Since(t) > 10*time.Second {
				return fmt.Errorf("line %d was not counted within 10s", i)
			}
			time.Sleep(2 * time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond)
	}
	slices.Sort(lats)

	fmt.Printf("| phase | lines | lines/s | agent CPU | %% of one core | µs CPU per line | VmRSS | RssAnon | RssFile | Go heap in use |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, ph := range []phase{steadyPh, floodPh, fillPh} {
		fmt.Printf("| %s | %d | %.0f | %s | %.2f %% | %.1f | %.1f MiB | %.1f MiB | %.1f MiB | %.1f MiB |\n",
			ph.name, ph.lines, float64(ph.lines)/ph.wall.Seconds(), ph.cpu, 100*ph.cpu.Seconds()/ph.wall.Seconds(),
			float64(ph.cpu.Microseconds())/float64(ph.lines), mib(ph.rss), mib(ph.anon), mib(ph.fil), ph.heap/(1<<20))
	}
	fmt.Printf("\npods tracked at the end: %.0f\n", series(body, "podstart_timeline_pods"))
	fmt.Printf("\n| /metrics | value |\n|---|---|\n")
	fmt.Printf("| size | %d bytes |\n| series (all) | %d |\n| series podstart_* (samples incl. buckets) | %d |\n", len(body), allSeries, podstartSeries)
	fmt.Printf("| scrape latency p50 / p99 (50 scrapes) | %s / %s |\n", lat[len(lat)/2].Round(time.Microsecond), lat[len(lat)*99/100].Round(time.Microsecond))
	fmt.Printf("\n| journal line to counted on /metrics (%d lines) | value |\n|---|---|\n", len(lats))
	fmt.Printf("| p50 | %s |\n| p99 | %s |\n| max | %s |\n", lats[len(lats)/2].Round(time.Microsecond), lats[len(lats)*99/100].Round(time.Microsecond), lats[len(lats)-1].Round(time.Microsecond))
	return nil
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
