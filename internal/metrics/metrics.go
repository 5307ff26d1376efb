// Package metrics exports what the timeline decides as Prometheus metrics:
// stage histograms with classic and native buckets and an exemplar naming
// the pod, failure and pull counters, and the agent's own health. Series
// never carry pod, container or image names.
package metrics

import (
	"slices"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/podstart/podstart/internal/event"
	"github.com/podstart/podstart/internal/timeline"
)

// Buckets. Every layout reaches at least 30 minutes: the kubelet's
// DefBuckets stop at 10 s, which is why a pod-start alert built on them can
// never fire.
var (
	// Stage buckets start in milliseconds: creating or starting a container
	// takes tens of them.
	stageBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600}
	// The kubelet's podStartupDurationBuckets, so dashboards compare directly.
	startupBuckets = []float64{0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700, 3600}
	// The kubelet's image pull buckets, with sub-second ones in front for
	// nearby registries and cached layers.
	pullBuckets = []float64{0.1, 0.25, 0.5, 1, 5, 10, 20, 30, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700, 3600}
	// storage_operation_duration_seconds' buckets, extended to an hour.
	mountBuckets = []float64{0.01, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 25, 50, 120, 300, 600, 1800, 3600}
)

// Options are the sink's settings.
type Options struct {
	// NamespaceLabel adds a namespace label to the stage, startup and
	// failure series: an explicit opt-in, since it multiplies series.
	NamespaceLabel bool
}

// Sink is the timeline's Observer that updates Prometheus metrics.
type Sink struct {
	opts     Options
	stage    *prometheus.HistogramVec
	startup  *prometheus.HistogramVec
	pull     *prometheus.HistogramVec
	mount    *prometheus.HistogramVec
	pulls    *prometheus.CounterVec
	failures *prometheus.CounterVec
	evicted  prometheus.Counter
	problems *prometheus.CounterVec
	starts   prometheus.Counter
	restarts *prometheus.CounterVec
	backoff  prometheus.Histogram
}

func histogram(name, help string, buckets []float64, labels []string) *prometheus.HistogramVec {
	return prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "podstart", Name: name, Help: help, Buckets: buckets,
		// Native buckets alongside the classic ones; bounded, because the
		// observations come from logs the agent does not control.
		NativeHistogramBucketFactor:     1.1,
		NativeHistogramMaxBucketNumber:  160,
		NativeHistogramMinResetDuration: time.Hour,
	}, labels)
}

// NewSink registers the pod start metrics with reg.
func NewSink(reg prometheus.Registerer, opts Options) *Sink {
	withNS := func(l ...string) []string {
		if opts.NamespaceLabel {
			return append(l, "namespace")
		}
		return l
	}
	s := &Sink{
		opts: opts,
		stage: histogram("stage_duration_seconds",
			"Duration of one stage of a pod start on this node: volumes, sandbox, image_pull, container_create, container_start (per container), init_containers, readiness.",
			stageBuckets, withNS("stage")),
		startup: histogram("pod_startup_duration_seconds",
			"Whole pod start: scope node (first sign on the node to all containers started), ready (to Ready), and the kubelet's own e2e and slo values where its startup tracker logs them.",
			startupBuckets, withNS("scope")),
		pull: histogram("image_pull_duration_seconds",
			"Duration of image pulls that fetched an image, by the kubelet's image size class.",
			pullBuckets, []string{"size"}),
		mount: histogram("volume_mount_duration_seconds",
			"Duration of volume SetUp, from MountVolume started to SetUp succeeded, by volume plugin.",
			mountBuckets, []string{"plugin"}),
		pulls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "podstart", Name: "image_pulls_total",
			Help: "Container images by how a container got them: pulled, cached (already present), failed. Counted once per container attempt.",
		}, []string{"result"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "podstart", Name: "failures_total",
			Help: "Pod start failures by stage and reason, counted once per pod, container and reason however often the kubelet retries.",
		}, withNS("stage", "reason")),
		evicted: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "podstart", Name: "timeline_evicted_pods_total",
			Help: "Pods dropped from the timeline before their TTL because the tracked-pod cap was reached.",
		}),
	}
	s.problems = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "podstart", Name: "node_problems_total",
		Help: "Kubelet log lines about the node's own health, by problem: pleg_unhealthy, runtime_down, runtime_not_ready, network_not_ready (the node goes NotReady), node_status_update_failed, lease_update_failed (the node goes Unknown), node_not_ready, image_gc_failed, image_fs_pressure, disk_pressure, memory_pressure, pid_pressure (evictions follow). Any increase: read the kubelet's journal around it (docs/troubleshooting.md).",
	}, []string{"problem"})
	s.starts = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "podstart", Name: "kubelet_starts_total",
		Help: "Kubelet starts seen in the journal (its version line, or a new kubelet PID). An increase outside maintenance is a kubelet crash or restart: check systemctl status kubelet.",
	})
	s.restarts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "podstart", Name: "container_restarts_total",
		Help: "Container restarts by how the previous attempt ended: Completed, Error, OOMKilled (raise the memory limit), ContainerCannotRun, DeadlineExceeded, Unknown (no exit seen), Other.",
	}, []string{"reason"})
	s.backoff = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: "podstart", Name: "crashloop_backoff_seconds",
		Help:    "Back-off the kubelet applies before restarting a crash-looping container, observed once per step (10s doubling to 5m); observations at 300 are containers at the longest back-off.",
		Buckets: []float64{10, 20, 40, 80, 160, 300, 600},
	})
	reg.MustRegister(s.stage, s.startup, s.pull, s.mount, s.pulls, s.failures, s.evicted, s.problems, s.starts, s.restarts, s.backoff)
	for _, p := range event.Problems {
		s.problems.WithLabelValues(p)
	}
	for _, r := range event.ExitReasons {
		s.restarts.WithLabelValues(r)
	}
	// Pre-create the bounded series so that rates start at zero and an
	// alert sees the first observation of each (rate() needs a sample
	// before it).
	for _, r := range []string{timeline.PullPulled, timeline.PullCached, timeline.PullFailed} {
		s.pulls.WithLabelValues(r)
	}
	if !opts.NamespaceLabel {
		for _, st := range timeline.Stages {
			s.stage.WithLabelValues(string(st))
		}
		for _, sc := range timeline.Scopes {
			s.startup.WithLabelValues(string(sc))
		}
	}
	return s
}

func (s *Sink) labels(first string, pod event.PodRef) []string {
	if s.opts.NamespaceLabel {
		return []string{first, pod.Namespace}
	}
	return []string{first}
}

// exemplar names the pod: namespace/name and its UID, within the 128 runes
// an exemplar's labels may take.
func exemplar(pod event.PodRef) prometheus.Labels {
	l := prometheus.Labels{}
	budget := prometheus.ExemplarMaxRunes
	if pod.UID != "" {
		l["uid"] = pod.UID
		budget -= len("uid") + utf8.RuneCountInString(pod.UID)
	}
	name := pod.Key()
	budget -= len("pod")
	if budget <= 0 {
		return l
	}
	if utf8.RuneCountInString(name) > budget {
		r := []rune(name)
		name = string(r[:budget])
	}
	if name != "" {
		l["pod"] = name
	}
	return l
}

func observe(o prometheus.Observer, d time.Duration, pod event.PodRef) {
	if eo, ok := o.(prometheus.ExemplarObserver); ok {
		eo.ObserveWithExemplar(d.Seconds(), exemplar(pod))
		return
	}
	o.Observe(d.Seconds())
}

// Stage implements timeline.Observer.
func (s *Sink) Stage(st timeline.Stage, d time.Duration, pod event.PodRef) {
	observe(s.stage.WithLabelValues(s.labels(string(st), pod)...), d, pod)
}

// Total implements timeline.Observer.
func (s *Sink) Total(sc timeline.Scope, d time.Duration, pod event.PodRef) {
	observe(s.startup.WithLabelValues(s.labels(string(sc), pod)...), d, pod)
}

// ImagePull implements timeline.Observer.
func (s *Sink) ImagePull(d time.Duration, size int64, pod event.PodRef) {
	observe(s.pull.WithLabelValues(SizeClass(size)), d, pod)
}

// VolumeMount implements timeline.Observer.
func (s *Sink) VolumeMount(plugin string, d time.Duration, pod event.PodRef) {
	if plugin == "" {
		plugin = "unknown"
	}
	observe(s.mount.WithLabelValues(plugin), d, pod)
}

// PullResult implements timeline.Observer.
func (s *Sink) PullResult(result string, _ event.PodRef) { s.pulls.WithLabelValues(result).Inc() }

// Failure implements timeline.Observer.
func (s *Sink) Failure(st timeline.Stage, reason string, pod event.PodRef) {
	lv := []string{string(st), reason}
	if s.opts.NamespaceLabel {
		lv = append(lv, pod.Namespace)
	}
	s.failures.WithLabelValues(lv...).Inc()
}

// Evicted implements timeline.Observer.
func (s *Sink) Evicted() { s.evicted.Inc() }

// NodeProblem implements timeline.Observer. A problem outside the bounded
// set is not exported.
func (s *Sink) NodeProblem(problem string) {
	if slices.Contains(event.Problems, problem) {
		s.problems.WithLabelValues(problem).Inc()
	}
}

// KubeletStart implements timeline.Observer.
func (s *Sink) KubeletStart() { s.starts.Inc() }

// ContainerRestart implements timeline.Observer.
func (s *Sink) ContainerRestart(reason string, _ event.PodRef) {
	if !slices.Contains(event.ExitReasons, reason) {
		reason = event.ExitOther
	}
	s.restarts.WithLabelValues(reason).Inc()
}

// BackOff implements timeline.Observer.
func (s *Sink) BackOff(d time.Duration, _ event.PodRef) { s.backoff.Observe(d.Seconds()) }

// SizeClass returns the kubelet's image size label (image_size_in_bytes of
// kubelet_image_pull_duration_seconds) for a size in bytes.
func SizeClass(b int64) string {
	const mb, gb = 1 << 20, 1 << 30
	switch {
	case b <= 0:
		return "N/A"
	case b > 100*gb:
		return "GT100GB"
	case b > 60*gb:
		return "60GB-100GB"
	case b > 40*gb:
		return "40GB-60GB"
	case b > 30*gb:
		return "30GB-40GB"
	case b > 20*gb:
		return "20GB-30GB"
	case b > 10*gb:
		return "10GB-20GB"
	case b > 5*gb:
		return "5GB-10GB"
	case b > 1*gb:
		return "1GB-5GB"
	case b > 500*mb:
		return "500MB-1GB"
	case b > 100*mb:
		return "100MB-500MB"
	case b > 10*mb:
		return "10MB-100MB"
	default:
		return "0-10MB"
	}
}
