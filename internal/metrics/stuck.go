package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/podstart/podstart/internal/timeline"
)

// stageReader is what the stuck-pod collector reads: the timeline's pods
// per stage as of a time. The timeline takes its own lock for it, as it
// does for /pods.
type stageReader interface {
	InStage(now time.Time) []timeline.StageLoad
}

// stuckCollector computes, at scrape time, how many pods are in each stage
// of their start and how long the oldest of them has been there.
type stuckCollector struct {
	src    stageReader
	now    func() time.Time
	pods   *prometheus.Desc
	oldest *prometheus.Desc
}

// NewStuckCollector registers podstart_pods_in_stage and
// podstart_stage_oldest_seconds with reg. now gives the time they are
// computed for: the wall clock when following a journal, the latest event's
// time when replaying one.
func NewStuckCollector(reg prometheus.Registerer, src stageReader, now func() time.Time) {
	reg.MustRegister(&stuckCollector{
		src: src, now: now,
		pods: prometheus.NewDesc("podstart_pods_in_stage",
			"Pods on this node that are in this stage of their start now and have not finished it: volumes, sandbox, image_pull, container_create, container_start (crash-looping pods too, once each), readiness (after a failed readiness probe). Removed and started pods are in none.",
			[]string{"stage"}, nil),
		oldest: prometheus.NewDesc("podstart_stage_oldest_seconds",
			"How long the oldest pod in this stage has been in it, 0 when none is: alert on it (e.g. image_pull > 600 means a pod has been pulling for 10 minutes) and find the pod in /pods or node-agent report.",
			[]string{"stage"}, nil),
	})
}

func (c *stuckCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.pods
	ch <- c.oldest
}

func (c *stuckCollector) Collect(ch chan<- prometheus.Metric) {
	now := c.now()
	for _, l := range c.src.InStage(now) {
		age := 0.0
		if l.Pods > 0 && !l.Oldest.IsZero() && now.After(l.Oldest) {
			age = now.Sub(l.Oldest).Seconds()
		}
		ch <- prometheus.MustNewConstMetric(c.pods, prometheus.GaugeValue, float64(l.Pods), string(l.Stage))
		ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, age, string(l.Stage))
	}
}
