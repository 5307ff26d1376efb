// Package web serves the agent over HTTP: /metrics, /healthz, /readyz and
// /pods. Nothing else is served.
package web

import (
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/podstart/podstart/internal/report"
	"github.com/podstart/podstart/internal/timeline"
)

// Options configure the handler.
type Options struct {
	Gatherer prometheus.Gatherer
	Timeline *timeline.Timeline
	// Ready returns nil when every source is up, else what is not.
	Ready func() error
	// DisablePods turns /pods off (it names pods, which metrics never do).
	DisablePods bool
	// MaxRequests bounds concurrent /metrics requests (0: no bound).
	MaxRequests int
	// Now is the time /pods decides which stage a pod is stuck in as of:
	// the wall clock when following the journal (nil: time.Now).
	Now func() time.Time
}

// Handler returns the agent's HTTP handler.
func Handler(o Options) http.Handler {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(o.Gatherer, promhttp.HandlerOpts{
		// OpenMetrics negotiation carries the exemplars in text form.
		EnableOpenMetrics:   true,
		MaxRequestsInFlight: o.MaxRequests,
	}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := o.Ready(); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "not ready: %v\n", err)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	if !o.DisablePods {
		mux.HandleFunc("GET /pods", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_ = report.JSON(w, o.Timeline.SnapshotAt(r.URL.Query().Get("pod"), now()))
		})
	}
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		links := `<a href="metrics">metrics</a> <a href="healthz">healthz</a> <a href="readyz">readyz</a>`
		if !o.DisablePods {
			links += ` <a href="pods">pods</a>`
		}
		fmt.Fprintf(w, "<html><head><title>podstart</title></head><body><h1>podstart</h1><p>Where the time goes when a pod starts on this node.</p><p>%s</p></body></html>\n", links)
	})
	return mux
}
