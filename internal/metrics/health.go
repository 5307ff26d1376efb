package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Health holds the agent's own metrics: what it read, what it made of it,
// and whether its sources are up.
type Health struct {
	Entries      *prometheus.CounterVec // by unit
	Lines        *prometheus.CounterVec // by unit and result
	Lag          prometheus.Gauge
	LastEntry    prometheus.Gauge
	CursorResets prometheus.Counter
	StateErrors  prometheus.Counter
	ClockSteps   prometheus.Counter
	SourceUp     *prometheus.GaugeVec
	SourceErrors *prometheus.CounterVec
}

// NewHealth registers the agent's health metrics with reg. tracked reports
// the number of pods in the timeline when scraped.
func NewHealth(reg prometheus.Registerer, tracked func() float64) *Health {
	h := &Health{
		Entries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "podstart", Name: "journal_entries_read_total",
			Help: "Journal entries read, by systemd unit (or syslog identifier).",
		}, []string{"unit"}),
		Lines: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "podstart", Name: "log_lines_total",
			Help: "Log lines by unit and what became of them: recognised, unrecognised (no pod-start meaning, or no known format), malformed (a known format, broken), continuation (a header-less entry joined to the line before it).",
		}, []string{"unit", "result"}),
		Lag: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "podstart", Name: "journal_lag_seconds",
			Help: "How far behind the journal's newest entry the agent is: now minus the receive time of the last entry read, while entries wait; 0 when caught up.",
		}),
		LastEntry: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "podstart", Name: "journal_last_entry_timestamp_seconds",
			Help: "Receive time of the last journal entry read, in Unix seconds.",
		}),
		CursorResets: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "podstart", Name: "journal_cursor_resets_total",
			Help: "Times the saved journal cursor was gone (vacuumed, or from another journal) and reading fell back to the lookback.",
		}),
		ClockSteps: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "podstart", Name: "clock_steps_total",
			Help: "Steps of the node's wall clock (NTP, by hand) seen in the journal: receive times that moved a second or more apart from the boot's monotonic clock. A stage that spans one is off by the step.",
		}),
		StateErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "podstart", Name: "state_write_errors_total",
			Help: "Failed writes of the state file.",
		}),
		SourceUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "podstart", Name: "source_up",
			Help: "1 when the source (journal, cri) is open and being read, 0 otherwise.",
		}, []string{"source"}),
		SourceErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "podstart", Name: "source_errors_total",
			Help: "Errors opening or reading a source; each is retried.",
		}, []string{"source"}),
	}
	reg.MustRegister(h.Entries, h.Lines, h.Lag, h.LastEntry, h.CursorResets, h.StateErrors, h.ClockSteps, h.SourceUp, h.SourceErrors,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "podstart", Name: "timeline_pods",
			Help: "Pods tracked in the timeline.",
		}, tracked))
	return h
}

// CRIHealth holds the CRI source's own metrics.
type CRIHealth struct {
	Requests   *prometheus.CounterVec // by method and gRPC code
	Reconnects prometheus.Counter
	Mode       *prometheus.GaugeVec
	// Condition is the runtime's own Status conditions (RuntimeReady,
	// NetworkReady): 1 true, 0 false.
	Condition *prometheus.GaugeVec
}

// CRIConditions are the runtime conditions exported, the two every CRI
// runtime must report.
var CRIConditions = []string{"RuntimeReady", "NetworkReady"}

// NewCRIHealth registers the CRI source's metrics with reg.
func NewCRIHealth(reg prometheus.Registerer) *CRIHealth {
	c := &CRIHealth{
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "podstart", Name: "cri_requests_total",
			Help: "CRI requests to the container runtime, by method and gRPC status code.",
		}, []string{"method", "code"}),
		Reconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "podstart", Name: "cri_reconnects_total",
			Help: "Times the CRI source reconnected (and re-listed) after the runtime was unreachable or its event stream broke.",
		}),
		Mode: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "podstart", Name: "cri_mode",
			Help: "1 for how the CRI source reads the runtime: events (GetContainerEvents stream) or poll (list calls).",
		}, []string{"mode"}),
	}
	c.Condition = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: "podstart", Name: "cri_condition",
		Help: "The container runtime's Status conditions: RuntimeReady (0: the runtime cannot run containers; check systemctl status containerd) and NetworkReady (0: no pod network, the CNI plugin is not ready; check /etc/cni/net.d). RuntimeReady is 0 too while the runtime does not answer (podstart_source_up{source=\"cri\"} 0).",
	}, []string{"condition"})
	reg.MustRegister(c.Requests, c.Reconnects, c.Mode, c.Condition)
	return c
}
