// Command node-agent measures where the time goes when pods start on a
// Kubernetes node, from the kubelet's and the container runtime's journal.
//
//	node-agent [serve]  follow the journal, serve /metrics, /healthz, /readyz, /pods
//	node-agent report   read the journal once and print the per-pod breakdown
//	node-agent parse    show what the agent makes of log lines on stdin
//
// This file only wires flags to the internal packages.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/common/promslog"
	promslogflag "github.com/prometheus/common/promslog/flag"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/podstart/podstart/internal/agent"
	"github.com/podstart/podstart/internal/cri"
	"github.com/podstart/podstart/internal/journal"
	"github.com/podstart/podstart/internal/logformat"
	"github.com/podstart/podstart/internal/metrics"
	"github.com/podstart/podstart/internal/report"
	"github.com/podstart/podstart/internal/timeline"
	podweb "github.com/podstart/podstart/internal/web"
)

// defaultPort is podstart's default listen port.
const defaultPort = ":9857"

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

type options struct {
	journalPath string
	preset      string
	units       []string
	identifiers []string
	criEndpoint string
	criPoll     time.Duration
	criTimeout  time.Duration
	criNoEvents bool
	criExplicit bool
	since       string
	settle      time.Duration
	ttl         time.Duration
	maxPods     int
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	app := kingpin.New("node-agent", "podstart: where the time goes when a pod starts on this node, and why a start failed. Reads the kubelet's and the container runtime's systemd journal.")
	app.Version(version.Print("node-agent"))
	app.HelpFlag.Short('h')
	app.UsageWriter(stdout)
	app.ErrorWriter(stderr)
	var o options
	app.Flag("journal.path", "A journal directory or one journal file. Default: the local system journal (/var/log/journal and /run/log/journal).").StringVar(&o.journalPath)
	app.Flag("journal.preset", "Where the distribution puts the kubelet and runtime: auto (every known unit), kubeadm, kind, eks, gke, aks, k3s, microk8s, openshift.").Default("auto").EnumVar(&o.preset, presetNames()...)
	app.Flag("journal.unit", "A systemd unit to read (repeatable); replaces the preset's units.").StringsVar(&o.units)
	app.Flag("journal.identifier", "A SYSLOG_IDENTIFIER to read (repeatable); replaces the preset's identifiers.").StringsVar(&o.identifiers)
	app.Flag("cri.endpoint", "The container runtime's CRI socket (unix:///…), auto (containerd, CRI-O, cri-dockerd's default sockets, as crictl tries them), or none. report uses it only for the local journal unless it is given.").Default("auto").StringVar(&o.criEndpoint)
	app.Flag("cri.poll-interval", "How often to list sandboxes and containers when the runtime's event stream is not used.").Default("2s").DurationVar(&o.criPoll)
	app.Flag("cri.timeout", "Timeout of every CRI call.").Default("5s").DurationVar(&o.criTimeout)
	app.Flag("cri.no-events", "Never subscribe to the runtime's container event stream; always poll.").BoolVar(&o.criNoEvents)
	app.Flag("timeline.settle", "Quiet time after a pod's last container start before all its containers count as started.").Default("5s").DurationVar(&o.settle)
	app.Flag("timeline.ttl", "How long a pod stays in the timeline after its last event.").Default("1h").DurationVar(&o.ttl)
	app.Flag("timeline.max-pods", "Cap on tracked pods; past it the least recently seen is evicted and counted.").Default("5000").IntVar(&o.maxPods)
	logCfg := &promslog.Config{}
	promslogflag.AddFlags(app, logCfg)

	serve := app.Command("serve", "Follow the journal and serve metrics (the default).").Default()
	webCfg := kingpinflag.AddFlags(serve, defaultPort)
	lookback := serve.Flag("lookback", "Without a saved cursor (or --since), begin this far back.").Default("10m").Duration()
	serve.Flag("since", "Begin here instead of the lookback: a duration back from now (1h) or a timestamp (RFC 3339).").StringVar(&o.since)
	stateFile := serve.Flag("state.file", "File that keeps the journal cursor, where the earliest pod in flight began and what was observed, so that a restart counts every pod once; empty disables it.").Default("/var/lib/podstart/state.json").String()
	stateInterval := serve.Flag("state.interval", "How often the state file is written (and on shutdown).").Default("10s").Duration()
	disablePods := serve.Flag("web.disable-pods", "Do not serve /pods (pod names and timelines).").Bool()
	nsLabel := serve.Flag("metrics.namespace-label", "Add a namespace label to stage, startup and failure metrics (multiplies series).").Bool()
	retry := serve.Flag("journal.retry-interval", "Pause before reopening a journal that could not be opened or read.").Default("5s").Duration()
	maxRequests := serve.Flag("web.max-requests", "Maximum concurrent /metrics requests; 0 means no limit.").Default("40").Int()

	rep := app.Command("report", "Read the journal once and print the per-pod startup breakdown, slowest first.")
	rep.Flag("since", "Only entries after this: a duration back from now (1h) or a timestamp (RFC 3339). Default: all the journal holds.").StringVar(&o.since)
	podFilter := rep.Flag("pod", "Only this pod (namespace/name).").String()
	format := rep.Flag("format", "Output format: table or json.").Default("table").Enum("table", "json")
	viaLibsystemd := rep.Flag("journal.libsystemd", "Read the journal through libsystemd, as serve does, rather than reading its files directly (slower; files of a kind podstart does not read itself go through libsystemd anyway).").Bool()

	app.Command("parse", "Read log lines on stdin (journal MESSAGEs or journalctl lines) and print what each means, one JSON object per line.")

	cmd, err := app.Parse(args)
	if err != nil {
		fmt.Fprintf(stderr, "node-agent: %v (try --help)\n", err)
		return 2
	}
	logCfg.Writer = stderr
	logger := promslog.New(logCfg)
	if o.criEndpoint != "none" && o.criEndpoint != "auto" && !strings.HasPrefix(o.criEndpoint, "unix://") {
		fmt.Fprintf(stderr, "node-agent: --cri.endpoint %q: want unix:///path/to.sock, auto or none\n", o.criEndpoint)
		return 2
	}
	o.criExplicit = slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--cri.endpoint") })
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	switch cmd {
	case "parse":
		return runParse(stdin, stdout, stderr)
	case "report":
		jc, err := journalConfig(o)
		if err != nil {
			fmt.Fprintf(stderr, "node-agent: %v\n", err)
			return 2
		}
		jc.Libsystemd = *viaLibsystemd
		return runReport(ctx, o, jc, *podFilter, *format, logger, stdout, stderr)
	default:
		jc, err := journalConfig(o)
		if err != nil {
			fmt.Fprintf(stderr, "node-agent: %v\n", err)
			return 2
		}
		return runServe(ctx, o, serveOptions{
			journal: jc, web: webCfg, lookback: *lookback, stateFile: *stateFile, stateInterval: *stateInterval,
			disablePods: *disablePods, nsLabel: *nsLabel, maxRequests: *maxRequests, retry: *retry,
		}, logger)
	}
}

// presets: where distributions put the kubelet and the runtime.
var presets = map[string]struct{ units, identifiers []string }{
	"kubeadm":   {units: []string{"kubelet.service", "containerd.service", "crio.service"}},
	"kind":      {units: []string{"kubelet.service", "containerd.service"}},
	"eks":       {units: []string{"kubelet.service", "containerd.service"}},
	"gke":       {units: []string{"kubelet.service", "containerd.service"}},
	"aks":       {units: []string{"kubelet.service", "containerd.service"}},
	"k3s":       {units: []string{"k3s.service", "k3s-agent.service"}},
	"microk8s":  {units: []string{"snap.microk8s.daemon-kubelite.service", "snap.microk8s.daemon-containerd.service"}},
	"openshift": {units: []string{"crio.service"}, identifiers: []string{"kubenswrapper"}},
}

func presetNames() []string {
	return []string{"auto", "kubeadm", "kind", "eks", "gke", "aks", "k3s", "microk8s", "openshift"}
}

// journalConfig turns the flags into the journal's matches and start.
func journalConfig(o options) (journal.Config, error) {
	units, ids := o.units, o.identifiers
	if len(units) == 0 && len(ids) == 0 {
		if p, ok := presets[o.preset]; ok {
			units, ids = p.units, p.identifiers
		} else {
			// auto: every known place at once; the journal's matches cost
			// nothing for units it does not hold.
			seen := map[string]bool{}
			for _, name := range presetNames()[1:] {
				for _, u := range presets[name].units {
					if !seen[u] {
						seen[u] = true
						units = append(units, u)
					}
				}
				for _, i := range presets[name].identifiers {
					if !seen[i] {
						seen[i] = true
						ids = append(ids, i)
					}
				}
			}
		}
	}
	cfg := journal.Config{Path: o.journalPath}
	for _, u := range units {
		cfg.Matches = append(cfg.Matches, journal.Match{Field: "_SYSTEMD_UNIT", Value: u})
	}
	for _, i := range ids {
		cfg.Matches = append(cfg.Matches, journal.Match{Field: "SYSLOG_IDENTIFIER", Value: i})
	}
	if o.since != "" {
		t, err := parseSince(o.since, time.Now())
		if err != nil {
			return cfg, err
		}
		cfg.Since = t
	}
	return cfg, nil
}

// parseSince reads --since: a duration back from now, or a timestamp.
func parseSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("--since %q is neither a duration (1h30m) nor a timestamp (2026-11-29T15:04:05Z)", s)
}

func newTimeline(o options, obs timeline.Observer, withCRI bool) *timeline.Timeline {
	cfg := timeline.Config{TTL: o.ttl, MaxPods: o.maxPods, Settle: o.settle}
	if withCRI {
		// Hold log-derived ends for the CRI's: a poll, and a margin.
		cfg.AwaitCRI = o.criPoll + time.Second
	}
	return timeline.New(cfg, obs)
}

// criConfig returns the CRI source's configuration, or nil when it is off.
func criConfig(o options, since time.Time) *cri.Config {
	if o.criEndpoint == "none" {
		return nil
	}
	return &cri.Config{Endpoint: o.criEndpoint, CallTimeout: o.criTimeout, PollInterval: o.criPoll, ForcePoll: o.criNoEvents, Since: since}
}

func runReport(ctx context.Context, o options, jc journal.Config, pod, format string, logger *slog.Logger, stdout, stderr io.Writer) int {
	// The report serves no metrics: its timeline feeds no histograms (the
	// registry only gives the agent's health counters a home).
	reg := prometheus.NewRegistry()
	// A copied journal holds all its history: nothing expires while reading.
	o.ttl = 100 * 365 * 24 * time.Hour
	// A journal from elsewhere (--journal.path) is not this runtime's
	// history: the CRI is used with it only when asked for.
	var cc *cri.Config
	if jc.Path == "" || o.criExplicit {
		cc = criConfig(o, time.Time{})
	}
	tl := newTimeline(o, timeline.Discard{}, false)
	h := metrics.NewHealth(reg, func() float64 { return float64(tl.Len()) })
	acfg := agent.Config{Journal: jc, Logger: logger, CRI: cc}
	if cc != nil {
		acfg.CRIHealth = metrics.NewCRIHealth(reg)
	}
	a := agent.New(acfg, tl, h)
	if err := a.ReadOnce(ctx); err != nil {
		fmt.Fprintf(stderr, "node-agent: %v\n", err)
		return 1
	}
	pods := tl.Snapshot(pod)
	var err error
	if format == "json" {
		err = report.JSON(stdout, pods)
	} else {
		err = report.Table(stdout, pods)
	}
	if err != nil {
		fmt.Fprintf(stderr, "node-agent: %v\n", err)
		return 1
	}
	return 0
}

type serveOptions struct {
	journal       journal.Config
	web           *web.FlagConfig
	lookback      time.Duration
	stateFile     string
	stateInterval time.Duration
	disablePods   bool
	nsLabel       bool
	maxRequests   int
	retry         time.Duration
}

func runServe(ctx context.Context, o options, so serveOptions, logger *slog.Logger) int {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		versioncollector.NewCollector("podstart"),
	)
	sink := metrics.NewSink(reg, metrics.Options{NamespaceLabel: so.nsLabel})
	since := so.journal.Since
	if since.IsZero() {
		since = time.Now().Add(-so.lookback)
	}
	cc := criConfig(o, since)
	// With a state file, a restart reads the journal again from the
	// earliest pod in flight; Dedup drops what was observed before.
	var obs timeline.Observer = sink
	var dedup *agent.Dedup
	if so.stateFile != "" {
		dedup = agent.NewDedup(sink)
		obs = dedup
	}
	tl := newTimeline(o, obs, cc != nil)
	h := metrics.NewHealth(reg, func() float64 { return float64(tl.Len()) })
	metrics.NewStuckCollector(reg, tl, time.Now)
	acfg := agent.Config{
		Journal: so.journal, Lookback: so.lookback, StateFile: so.stateFile, StateInterval: so.stateInterval,
		RetryInterval: so.retry, Logger: logger, CRI: cc, Dedup: dedup,
	}
	if cc != nil {
		acfg.CRIHealth = metrics.NewCRIHealth(reg)
	}
	a := agent.New(acfg, tl, h)

	srv := &http.Server{
		Handler: podweb.Handler(podweb.Options{
			Gatherer: reg, Timeline: tl, Ready: a.Ready, DisablePods: so.disablePods, MaxRequests: so.maxRequests,
		}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	logger.Info("starting podstart", "version", version.Info(), "build", version.BuildContext())
	errc := make(chan error, 2)
	go func() { errc <- a.Run(ctx) }()
	go func() {
		if err := web.ListenAndServe(srv, so.web, logger); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("web server: %w", err)
		}
	}()
	select {
	case <-ctx.Done():
	case err := <-errc:
		if err != nil {
			logger.Error("stopping", "err", err)
			return 1
		}
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdown)
	// Run saves the state file when ctx ends; wait for it.
	select {
	case <-errc:
	case <-shutdown.Done():
	}
	return 0
}

// parsed is one line of `node-agent parse` output.
type parsed struct {
	Kind            string   `json:"kind"`
	Format          string   `json:"format,omitempty"`
	Outcome         string   `json:"outcome"`
	Time            string   `json:"time,omitempty"`
	Source          string   `json:"source,omitempty"`
	Pod             string   `json:"pod,omitempty"`
	UID             string   `json:"uid,omitempty"`
	Container       string   `json:"container,omitempty"`
	ContainerID     string   `json:"container_id,omitempty"`
	SandboxID       string   `json:"sandbox_id,omitempty"`
	Image           string   `json:"image,omitempty"`
	ImageSize       int64    `json:"image_size_bytes,omitempty"`
	Volume          string   `json:"volume,omitempty"`
	Plugin          string   `json:"plugin,omitempty"`
	DurationSeconds *float64 `json:"duration_seconds,omitempty"`
	Reason          string   `json:"reason,omitempty"`
	Message         string   `json:"message,omitempty"`
	ExitCode        *int     `json:"exit_code,omitempty"`
	Pods            []string `json:"pods,omitempty"`
}

func runParse(stdin io.Reader, stdout, stderr io.Writer) int {
	br := bufio.NewReaderSize(stdin, 64*1024)
	enc := json.NewEncoder(stdout)
	var parser logformat.Parser
	emit := func(line string) {
		res := parser.Parse(line, time.Time{})
		ev := res.Event
		out := parsed{Kind: string(ev.Kind), Format: res.Format, Outcome: res.Outcome.String(), Source: string(ev.Source),
			Pod: ev.Pod.Key(), UID: ev.Pod.UID, Container: ev.Container, ContainerID: ev.ContainerID, SandboxID: ev.SandboxID,
			Image: ev.Image, ImageSize: ev.ImageSize, Volume: ev.Volume, Plugin: ev.Plugin, Reason: ev.Reason, Message: ev.Message}
		if !ev.Time.IsZero() {
			out.Time = ev.Time.UTC().Format(time.RFC3339Nano)
		}
		if ev.HasDuration {
			s := ev.Duration.Seconds()
			out.DurationSeconds = &s
		}
		if ev.HasExit {
			c := ev.ExitCode
			out.ExitCode = &c
		}
		for _, p := range ev.Pods {
			out.Pods = append(out.Pods, p.Key())
		}
		_ = enc.Encode(out)
	}
	// One input line is one output line: multi-line values are not joined
	// here, so that output and input stay aligned. Lines longer than
	// logformat.MaxLine are cut, never fatal.
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(line) < logformat.MaxLine {
			line = append(line, chunk...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if len(line) > 0 {
			emit(strings.TrimRight(string(line), "\r\n"))
		}
		line = line[:0]
		if err == io.EOF {
			return 0
		}
		if err != nil {
			fmt.Fprintf(stderr, "node-agent: reading stdin: %v\n", err)
			return 1
		}
	}
}
