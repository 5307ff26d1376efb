package journaltest

import (
	"container/heap"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// BusyNodeVersion identifies what BusyNode generates. Change it whenever
// the output changes: it keys the cache (CachedBusyNode).
const BusyNodeVersion = 3

// BusyNode generates the journal of a busy Kubernetes worker node, for
// benchmarks. Every entry has the fields journald stores (Process.Entry).
//
// Pods start every 2.5 s, four at a time in episodes 10 s apart: each
// episode replays the four pod lifecycles of the clusternode-basic
// recording (create, pull, start, probe, fail, delete; the kubelet at
// --v=2 and containerd 2.4 at info) with fresh ids and its own namespace,
// so about 12 episodes overlap. Around them it adds what a kubelet at
// --v=4 also logs (the v=3 "Event occurred" lines for pulls and container
// starts, the v=4 "SyncPod enter/exit", "Creating/Created PodSandbox for
// pod" lines, "SyncPod" of every running pod every 10 s, and the kubelet
// server's "HTTP" lines of a Prometheus scraping it), and other units as on
// a node with the systemd cgroup driver and a bridge CNI: systemd's
// cri-containerd-*.scope lines and the mount units containerd and runc
// leave (image tmpmounts, rootfs, shm, an exec probe's runc mount every
// 5 s per container), the kernel's veth lines, cron every minute, sshd and
// logind sessions.
type BusyNode struct {
	Entries int // how many entries
}

// busyStart is the receive time of the first entry.
var busyStart = time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)

const (
	episodeEvery  = 10 * time.Second
	kubeletPID    = 1187
	containerdPID = 842
)

// episode template: the four pods of clusternode-basic, from the first
// pod's creation to after the last pod's removal.
var (
	templateOnce  sync.Once
	templateErr   error
	templateLines []Entry
)

func busyTemplate() ([]Entry, error) {
	templateOnce.Do(func() {
		es, err := Recording("clusternode-basic")
		if err != nil {
			templateErr = err
			return
		}
		from := time.Date(2026, 11, 29, 16, 30, 53, 600000000, time.UTC)
		to := time.Date(2026, 11, 29, 16, 32, 50, 0, time.UTC)
		for _, e := range es {
			switch e.Fields["_SYSTEMD_UNIT"] {
			case "kubelet.service", "containerd.service":
				if !e.Realtime.Before(from) && e.Realtime.Before(to) {
					templateLines = append(templateLines, e)
				}
			}
		}
		if len(templateLines) == 0 {
			templateErr = errors.New("journaltest: clusternode-basic has no pod lifecycle lines")
		}
	})
	return templateLines, templateErr
}

// entryQueue orders entries by receive time, then by the order they were
// made.
type queued struct {
	e   Entry
	seq int
}

type entryQueue []queued

func (q entryQueue) Len() int { return len(q) }
func (q entryQueue) Less(i, j int) bool {
	if c := q[i].e.Realtime.Compare(q[j].e.Realtime); c != 0 {
		return c < 0
	}
	return q[i].seq < q[j].seq
}
func (q entryQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *entryQueue) Push(x any)   { *q = append(*q, x.(queued)) }
func (q *entryQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

type busyGen struct {
	rnd                                          *rand.Rand
	q                                            entryQueue
	seq                                          int
	kubelet, containerd, systemd, kernel, logind *Process
	cron, sshd                                   *Process
	session                                      int
}

func (g *busyGen) push(e Entry) {
	g.seq++
	heap.Push(&g.q, queued{e, g.seq})
}

// klog returns a kubelet line logged at t (receive time 40 µs later).
func (g *busyGen) klog(t time.Time, sev byte, loc, text string) {
	g.push(g.kubelet.Entry(t.Add(40*time.Microsecond), fmt.Sprintf("%c%s %s %s] %s", sev, t.Format("0102 15:04:05.000000"), pad7(g.kubelet.PID), loc, text)))
}

func (g *busyGen) unitLog(p *Process, t time.Time, msg string, extra ...string) {
	e := p.Entry(t, msg)
	for i := 0; i+1 < len(extra); i += 2 {
		e.Fields[extra[i]] = extra[i+1]
	}
	g.push(e)
}

var (
	rePodKey   = regexp.MustCompile(`"(?:SyncLoop ADD|SyncLoop UPDATE|SyncLoop DELETE|SyncLoop \(PLEG\): event for pod|SyncLoop \(probe\))".*?pods?=\[?"([^"]+)"`)
	rePLEG     = regexp.MustCompile(`"SyncLoop \(PLEG\): event for pod" pod="([^"]+)" event=\{"ID":"([^"]+)","Type":"(\w+)"`)
	reDelete   = regexp.MustCompile(`"SyncLoop DELETE" source="api" pods=\["([^"]+)"\]`)
	reRunPod   = regexp.MustCompile(`RunPodSandbox for name:\\"([^\\]+)\\" uid:\\"([^\\]+)\\" namespace:\\"([^\\]+)\\""`)
	reSandbox  = regexp.MustCompile(`RunPodSandbox for name:\\"([^\\]+)\\" uid:\\"[^\\]+\\" namespace:\\"([^\\]+)\\" returns sandbox id \\"([0-9a-f]+)\\"`)
	rePull     = regexp.MustCompile(`msg="PullImage \\"([^\\]+)\\""`)
	rePulled   = regexp.MustCompile(`msg="Pulled image \\"([^\\]+)\\" with .* size \\"(\d+)\\" in ([0-9.a-zµ]+)"`)
	rePullFail = regexp.MustCompile(`msg="PullImage \\"([^\\]+)\\" failed"`)
	reCreate   = regexp.MustCompile(`CreateContainer within sandbox \\"([0-9a-f]+)\\" for (?:container )?name:\\"([^\\]+)\\"`)
	reCreated  = regexp.MustCompile(`CreateContainer within sandbox \\"([0-9a-f]+)\\" for name:\\"([^\\]+)\\" returns container id \\"([0-9a-f]+)\\"`)
	reStarted  = regexp.MustCompile(`StartContainer for \\"([0-9a-f]+)\\" returns successfully`)
	reExit     = regexp.MustCompile(`received (?:container|sandbox) exit event container_id:\\"([0-9a-f]+)\\"`)
)

type busyPod struct {
	key, uid    string
	sandbox     string
	running     time.Time // first ContainerStarted
	deleted     time.Time
	containerID []string
}

// episode adds episode i's entries, which begin at start.
func (g *busyGen) episode(i int, start time.Time) error {
	tmpl, err := busyTemplate()
	if err != nil {
		return err
	}
	ns := "ns-" + strconv.Itoa(i)
	rw := FreshIDs("busynode-"+strconv.Itoa(i), `"default/`, `"`+ns+`/`, `namespace:\"default\"`, `namespace:\"`+ns+`\"`, `_default(`, `_`+ns+`(`)
	d := start.Sub(tmpl[0].Realtime)
	lines := make([]Entry, len(tmpl))
	for j, e := range tmpl {
		p := g.containerd
		if e.Fields["_SYSTEMD_UNIT"] == "kubelet.service" {
			p = g.kubelet
		}
		lines[j] = p.Replay(e, d, rw)
	}
	pods := map[string]*busyPod{}
	pod := func(key string) *busyPod {
		if pods[key] == nil {
			pods[key] = &busyPod{key: key}
		}
		return pods[key]
	}
	bySandbox := map[string]*busyPod{}
	for _, e := range lines {
		msg := e.Message()
		if m := rePLEG.FindStringSubmatch(msg); m != nil {
			p := pod(m[1])
			p.uid = m[2]
			if m[3] == "ContainerStarted" && p.running.IsZero() {
				p.running = e.Realtime
			}
		}
		if m := reDelete.FindStringSubmatch(msg); m != nil && pod(m[1]).deleted.IsZero() {
			pod(m[1]).deleted = e.Realtime
		}
		if m := reSandbox.FindStringSubmatch(msg); m != nil {
			p := pod(m[2] + "/" + m[1])
			p.sandbox = m[3]
			bySandbox[m[3]] = p
		}
	}
	containers := map[string][2]string{} // container id → pod key, name
	var lastPod *busyPod
	for j, e := range lines {
		g.push(e)
		msg, t := e.Message(), e.Realtime
		if e.Fields["_SYSTEMD_UNIT"] == "kubelet.service" {
			if m := rePodKey.FindStringSubmatch(msg); m != nil && pods[m[1]] != nil && pods[m[1]].uid != "" {
				p := pods[m[1]]
				g.klog(t.Add(30*time.Microsecond), 'I', "kubelet.go:2062", fmt.Sprintf(`"SyncPod enter" pod=%q podUID=%q`, p.key, p.uid))
				g.klog(t.Add(1500*time.Microsecond), 'I', "kubelet.go:2068", fmt.Sprintf(`"SyncPod exit" pod=%q podUID=%q isTerminal=false`, p.key, p.uid))
			}
			continue
		}
		switch {
		case reSandbox.MatchString(msg):
			m := reSandbox.FindStringSubmatch(msg)
			g.klog(t.Add(150*time.Microsecond), 'I', "kuberuntime_manager.go:1755", fmt.Sprintf(`"Created PodSandbox for pod" podSandboxID=%q pod="%s/%s"`, m[3], m[2], m[1]))
			g.scopeStarted(t.Add(-2*time.Millisecond), m[3])
			lastPod = bySandbox[m[3]]
			g.vethUp(t.Add(-1*time.Millisecond), m[3])
		case reRunPod.MatchString(msg):
			m := reRunPod.FindStringSubmatch(msg)
			key := m[3] + "/" + m[1]
			g.klog(t.Add(-300*time.Microsecond), 'I', "kuberuntime_manager.go:1596", fmt.Sprintf(`"SyncPod received new pod, will create a sandbox for it" pod=%q`, key))
			g.klog(t.Add(-250*time.Microsecond), 'I', "kuberuntime_manager.go:1684", fmt.Sprintf(`"Creating PodSandbox for pod" pod=%q`, key))
		case rePullFail.MatchString(msg):
			if lastPod != nil {
				c := nextContainer(lines[j:], "main")
				g.event(t.Add(300*time.Microsecond), lastPod.key, c, "Warning", "Failed", "Error: ErrImagePull")
			}
		case rePull.MatchString(msg):
			if lastPod != nil {
				m := rePull.FindStringSubmatch(msg)
				g.event(t.Add(-200*time.Microsecond), lastPod.key, nextContainer(lines[j:], "app"), "Normal", "Pulling", fmt.Sprintf(`Pulling image \"%s\"`, m[1]))
			}
		case rePulled.MatchString(msg):
			if lastPod != nil {
				m := rePulled.FindStringSubmatch(msg)
				dur, _ := time.ParseDuration(m[3])
				r := dur.Round(time.Millisecond).String()
				g.event(t.Add(100*time.Microsecond), lastPod.key, nextContainer(lines[j:], "app"), "Normal", "Pulled",
					fmt.Sprintf(`Successfully pulled image \"%s\" in %s (%s including waiting). Image size: %s bytes.`, strings.Split(m[1], `\"`)[0], r, r, m[2]))
			}
		case reCreated.MatchString(msg):
			m := reCreated.FindStringSubmatch(msg)
			g.mountDone(t.Add(-400*time.Microsecond), `var-lib-containerd-tmpmounts-containerd\x2dmount`+strconv.Itoa(100000000+g.rnd.IntN(899999999))+".mount")
			if p := bySandbox[m[1]]; p != nil {
				containers[m[3]] = [2]string{p.key, m[2]}
				p.containerID = append(p.containerID, m[3])
				g.event(t.Add(150*time.Microsecond), p.key, m[2], "Normal", "Created", "Container created")
			}
		case reStarted.MatchString(msg):
			m := reStarted.FindStringSubmatch(msg)
			g.scopeStarted(t.Add(-5*time.Millisecond), m[1])
			if c, ok := containers[m[1]]; ok {
				g.event(t.Add(150*time.Microsecond), c[0], c[1], "Normal", "Started", "Container started")
			}
		case reExit.MatchString(msg):
			m := reExit.FindStringSubmatch(msg)
			if bySandbox[m[1]] != nil {
				g.vethDown(t.Add(-time.Millisecond), m[1])
				g.mountDone(t.Add(2*time.Millisecond), "run-containerd-io.containerd.grpc.v1.cri-sandboxes-"+m[1]+"-shm.mount")
			}
			g.mountDone(t.Add(1500*time.Microsecond), "run-containerd-io.containerd.runtime.v2.task-k8s.io-"+m[1]+"-rootfs.mount")
			scope := "cri-containerd-" + m[1] + ".scope"
			g.unitLog(g.systemd, t.Add(time.Millisecond), scope+": Deactivated successfully.", "UNIT", scope, "MESSAGE_ID", "7ad2d189f7e94e70a38c781354912448",
				"CODE_FILE", "src/core/unit.c", "CODE_LINE", "5787", "CODE_FUNC", "unit_log_success")
			g.unitLog(g.systemd, t.Add(1100*time.Microsecond), fmt.Sprintf("%s: Consumed %dms CPU time.", scope, 20+g.rnd.IntN(900)), "UNIT", scope,
				"MESSAGE_ID", "ae8f7b866b0347b9af31fe1c80b127c0", "CODE_FILE", "src/core/unit.c", "CODE_LINE", "2406", "CODE_FUNC", "unit_log_resources")
		}
	}
	// Every running pod is synced every 10 s until it is deleted, and the
	// exec probes of its containers (every 5 s) leave runc mounts behind.
	keys := make([]string, 0, len(pods))
	for k := range pods {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		p := pods[k]
		if p.running.IsZero() || p.uid == "" {
			continue
		}
		end := p.deleted
		if end.IsZero() {
			end = start.Add(2 * time.Minute)
		}
		for t := p.running.Add(10 * time.Second); t.Before(end); t = t.Add(10 * time.Second) {
			g.klog(t, 'I', "kubelet.go:2062", fmt.Sprintf(`"SyncPod enter" pod=%q podUID=%q`, p.key, p.uid))
			g.klog(t.Add(900*time.Microsecond), 'I', "kubelet.go:2068", fmt.Sprintf(`"SyncPod exit" pod=%q podUID=%q isTerminal=false`, p.key, p.uid))
			for _, id := range p.containerID {
				for _, probe := range []time.Duration{0, 5 * time.Second} {
					g.mountDone(t.Add(probe+time.Duration(3000+g.rnd.IntN(5000))*time.Microsecond), fmt.Sprintf("run-containerd-runc-k8s.io-%s-runc.%s.mount", id, randomName(g.rnd, 6)))
				}
			}
		}
	}
	return nil
}

// nextContainer returns the container name of the first CreateContainer
// line in lines, or def.
func nextContainer(lines []Entry, def string) string {
	for _, e := range lines {
		if m := reCreate.FindStringSubmatch(e.Message()); m != nil {
			return m[2]
		}
	}
	return def
}

func (g *busyGen) event(t time.Time, pod, container, typ, reason, message string) {
	field := "spec.containers{" + container + "}"
	if strings.HasPrefix(container, "init") {
		field = "spec.initContainers{" + container + "}"
	}
	g.klog(t, 'I', "event.go:395", fmt.Sprintf(`"Event occurred" object=%q fieldPath=%q kind="Pod" apiVersion="v1" type=%q reason=%q message="%s"`, pod, field, typ, reason, message))
}

func (g *busyGen) mountDone(t time.Time, unit string) {
	g.unitLog(g.systemd, t, unit+": Deactivated successfully.", "UNIT", unit,
		"MESSAGE_ID", "7ad2d189f7e94e70a38c781354912448", "CODE_FILE", "src/core/unit.c", "CODE_LINE", "5787", "CODE_FUNC", "unit_log_success")
}

// vethUp and vethDown are the kernel's lines when a pod's network
// interface joins and leaves the CNI bridge.
func (g *busyGen) vethUp(t time.Time, sandbox string) {
	veth, port := "veth"+sandbox[:8], 2+g.rnd.IntN(60)
	for i, msg := range []string{
		fmt.Sprintf("cni0: port %d(%s) entered blocking state", port, veth),
		fmt.Sprintf("cni0: port %d(%s) entered disabled state", port, veth),
		fmt.Sprintf("device %s entered promiscuous mode", veth),
		fmt.Sprintf("IPv6: ADDRCONF(NETDEV_CHANGE): %s: link becomes ready", veth),
		fmt.Sprintf("cni0: port %d(%s) entered blocking state", port, veth),
		fmt.Sprintf("cni0: port %d(%s) entered forwarding state", port, veth),
	} {
		g.unitLog(g.kernel, t.Add(time.Duration(i)*20*time.Microsecond), msg)
	}
}

func (g *busyGen) vethDown(t time.Time, sandbox string) {
	veth := "veth" + sandbox[:8]
	for i, msg := range []string{
		fmt.Sprintf("cni0: port %d(%s) entered disabled state", 2+g.rnd.IntN(60), veth),
		fmt.Sprintf("device %s left promiscuous mode", veth),
		fmt.Sprintf("cni0: port %d(%s) entered disabled state", 2+g.rnd.IntN(60), veth),
	} {
		g.unitLog(g.kernel, t.Add(time.Duration(i)*30*time.Microsecond), msg)
	}
}

func (g *busyGen) scopeStarted(t time.Time, id string) {
	scope := "cri-containerd-" + id + ".scope"
	g.unitLog(g.systemd, t, "Started "+scope+" - libcontainer container "+id+".", "UNIT", scope, "MESSAGE_ID", "39f53479d3a045ac8e11786248231fbf",
		"CODE_FILE", "src/core/job.c", "CODE_LINE", "768", "CODE_FUNC", "job_emit_done_message", "JOB_TYPE", "start", "JOB_RESULT", "done")
}

func randomName(r *rand.Rand, n int) string {
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = letters[r.IntN(len(letters))]
	}
	return string(b)
}

// background adds the node's own lines in [from, to): Prometheus scraping
// the kubelet every 15 s, cron every minute, an ssh session every 5
// minutes.
func (g *busyGen) background(from, to time.Time) {
	for t := from.Truncate(15 * time.Second); t.Before(to); t = t.Add(15 * time.Second) {
		if t.Before(from) {
			continue
		}
		for k, uri := range []string{"/metrics", "/metrics/cadvisor", "/metrics/probes", "/metrics/resource"} {
			lat := time.Duration(2000+g.rnd.IntN(90000)) * time.Microsecond
			g.klog(t.Add(time.Duration(k*37+g.rnd.IntN(20))*time.Millisecond+lat), 'I', "httplog.go:134",
				fmt.Sprintf(`"HTTP" verb="GET" URI=%q latency=%q userAgent="Prometheus/2.53.0" audit-ID="" srcIP="10.0.3.17:%d" resp=200`, uri, lat.String(), 40000+g.rnd.IntN(20000)))
		}
	}
	for t := from.Truncate(time.Minute); t.Before(to); t = t.Add(time.Minute) {
		if t.Before(from) {
			continue
		}
		pid := 100000 + g.rnd.IntN(99999)
		c := *g.cron
		c.PID = pid
		c.Facility = 10
		g.unitLog(&c, t.Add(9*time.Millisecond), "pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)")
		c.Facility = 9
		g.unitLog(&c, t.Add(11*time.Millisecond), "(root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)")
		c.Facility = 10
		g.unitLog(&c, t.Add(70*time.Millisecond), "pam_unix(cron:session): session closed for user root")
	}
	for t := from.Truncate(5 * time.Minute).Add(137 * time.Second); t.Before(to); t = t.Add(5 * time.Minute) {
		if t.Before(from) {
			continue
		}
		g.session++
		n := strconv.Itoa(g.session)
		s := *g.sshd
		s.PID = 200000 + g.rnd.IntN(99999)
		port := strconv.Itoa(40000 + g.rnd.IntN(20000))
		g.unitLog(&s, t, "Accepted publickey for root from 192.0.2.10 port "+port+" ssh2: ED25519 SHA256:3p0Cq0E2zYwQ0kQm3m3YgH0yTqEo2hM1bQzF0s8zUlc")
		s.Facility = 10
		g.unitLog(&s, t.Add(2*time.Millisecond), "pam_unix(sshd:session): session opened for user root(uid=0) by (uid=0)")
		g.unitLog(g.logind, t.Add(3*time.Millisecond), "New session "+n+" of user root.", "SESSION_ID", n, "USER_ID", "root", "MESSAGE_ID", "8d45620c1a4348dbb17410da57c60c66")
		g.unitLog(g.systemd, t.Add(4*time.Millisecond), "Started session-"+n+".scope - Session "+n+" of User root.", "UNIT", "session-"+n+".scope",
			"MESSAGE_ID", "39f53479d3a045ac8e11786248231fbf", "JOB_TYPE", "start", "JOB_RESULT", "done")
		end := t.Add(time.Duration(20+g.rnd.IntN(200)) * time.Second)
		s.Facility = 4
		g.unitLog(&s, end, "Received disconnect from 192.0.2.10 port "+port+":11: disconnected by user")
		g.unitLog(&s, end.Add(time.Millisecond), "Disconnected from user root 192.0.2.10 port "+port)
		s.Facility = 10
		g.unitLog(&s, end.Add(2*time.Millisecond), "pam_unix(sshd:session): session closed for user root")
		g.unitLog(g.logind, end.Add(3*time.Millisecond), "Session "+n+" logged out. Waiting for processes to exit.", "SESSION_ID", n)
		g.unitLog(g.systemd, end.Add(4*time.Millisecond), "session-"+n+".scope: Deactivated successfully.", "UNIT", "session-"+n+".scope",
			"MESSAGE_ID", "7ad2d189f7e94e70a38c781354912448", "CODE_FUNC", "unit_log_success")
		g.unitLog(g.logind, end.Add(5*time.Millisecond), "Removed session "+n+".", "SESSION_ID", n, "MESSAGE_ID", "3354939424b4456d9802ca8333ed424a")
	}
}

// Generate calls emit with each entry, in receive-time order.
func (b BusyNode) Generate(emit func(Entry) error) error {
	k := Kubelet(kubeletPID)
	k.Cmdline = "/usr/bin/kubelet --bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf --config=/var/lib/kubelet/config.yaml --container-runtime-endpoint=unix:///run/containerd/containerd.sock --v=4"
	k.Exe = "/usr/bin/kubelet"
	c := Containerd(containerdPID)
	c.Cmdline, c.Exe = "/usr/bin/containerd", "/usr/bin/containerd"
	logind := Service("systemd-logind.service", 611, "systemd-logind", "/usr/lib/systemd/systemd-logind", "/lib/systemd/systemd-logind")
	logind.Transport = Journal
	g := &busyGen{
		rnd:     rand.New(rand.NewPCG(1, BusyNodeVersion)),
		kubelet: k, containerd: c, systemd: Systemd(), kernel: KernelLog(), logind: logind,
		cron: Cron(0), sshd: Sshd(0),
	}
	g.systemd.Extra = nil
	n := 0
	for i := 0; n < b.Entries; i++ {
		start := busyStart.Add(time.Duration(i) * episodeEvery)
		if err := g.episode(i, start); err != nil {
			return err
		}
		g.background(start, start.Add(episodeEvery))
		// Later episodes begin at or after the next start: what comes
		// before it is final.
		next := start.Add(episodeEvery)
		for g.q.Len() > 0 && g.q[0].e.Realtime.Before(next) && n < b.Entries {
			if err := emit(heap.Pop(&g.q).(queued).e); err != nil {
				return err
			}
			n++
		}
	}
	return nil
}

// Write writes the journal to dir with one systemd-journal-remote run
// (which rotates its output file every few hundred thousand entries: read
// the directory).
func (b BusyNode) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	w, err := NewWriter(filepath.Join(dir, "busynode.journal"))
	if err != nil {
		return err
	}
	if err := b.Generate(w.Write); err != nil {
		_ = w.Close()
		return err
	}
	return w.Close()
}

// CacheDir is where generated journals are kept:
// ${XDG_CACHE_HOME:-$HOME/.cache}/podstart/bench.
func CacheDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(base, "podstart", "bench"), nil
}

// Cached returns the directory of b's journal in the cache, generating it
// first when it is not there (one directory per version and size). The
// directory appears whole or not at all.
func (b BusyNode) Cached() (string, error) {
	cache, err := CacheDir()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(cache, fmt.Sprintf("busynode-v%d-%d", BusyNodeVersion, b.Entries))
	if _, err := os.Stat(filepath.Join(dir, "busynode.journal")); err == nil {
		return dir, nil
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(cache, ".busynode-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	if err := b.Write(tmp); err != nil {
		return "", err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(filepath.Join(dir, "busynode.journal")); serr == nil {
			return dir, nil // made meanwhile by another process
		}
		return "", err
	}
	return dir, nil
}
