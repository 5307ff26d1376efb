// Package agent wires podstart's pipeline: journal entries are re-joined
// into lines, parsed into events and applied to the timeline, whose sinks
// (metrics, /pods, report) read from it. It also owns the state file.
package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/podstart/podstart/internal/cri"
	"github.com/podstart/podstart/internal/event"
	"github.com/podstart/podstart/internal/journal"
	"github.com/podstart/podstart/internal/logformat"
	"github.com/podstart/podstart/internal/metrics"
	"github.com/podstart/podstart/internal/timeline"
)

// Config is the agent's journal side.
type Config struct {
	Journal journal.Config
	// Lookback is where serve mode begins without a usable cursor (and
	// without Journal.Since).
	Lookback time.Duration
	// StateFile keeps the journal cursor across restarts; empty disables it.
	StateFile     string
	StateInterval time.Duration
	// RetryInterval is the pause before reopening a journal that failed.
	RetryInterval time.Duration
	// TickInterval is how often, while following, quiet pods are settled
	// and old ones expired.
	TickInterval time.Duration
	Logger       *slog.Logger
	// CRI, when set, also reads the container runtime through the CRI.
	CRI *cri.Config
	// CRIHealth receives the CRI source's metrics; required with CRI.
	CRIHealth *metrics.CRIHealth
	// Dedup, when set, is the timeline's Observer: with a state file, a
	// restart reads the journal again from the earliest pod in flight and
	// Dedup drops what the previous process observed already.
	Dedup *Dedup
}

// Agent reads the journal into the timeline.
type Agent struct {
	cfg    Config
	tl     *timeline.Timeline
	health *metrics.Health
	log    *slog.Logger

	joiner logformat.Joiner
	parser logformat.Parser // used by the journal's goroutine only, as joiner
	n      uint64
	// replaying: the entry being handled was handed over before (a
	// restart reads the journal again from the earliest pod in flight).
	replaying bool
	// applyMu keeps a replayed line's silence to its own observations:
	// the CRI's events and the clock's ticks wait for it.
	applyMu sync.Mutex
	entries map[string]prometheus.Counter
	lines   map[[2]string]prometheus.Counter

	cri *cri.Source

	mu        sync.Mutex
	journalUp bool
	lastErr   error
	cursor    string
	savedAt   time.Time
}

// New returns an agent that feeds tl and reports its health to h.
func New(cfg Config, tl *timeline.Timeline, h *metrics.Health) *Agent {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.RetryInterval <= 0 {
		cfg.RetryInterval = 5 * time.Second
	}
	if cfg.StateInterval <= 0 {
		cfg.StateInterval = 10 * time.Second
	}
	if cfg.TickInterval <= 0 {
		cfg.TickInterval = time.Second
	}
	a := &Agent{cfg: cfg, tl: tl, health: h, log: cfg.Logger,
		entries: map[string]prometheus.Counter{}, lines: map[[2]string]prometheus.Counter{}}
	h.SourceUp.WithLabelValues("journal").Set(0)
	if cfg.CRI != nil {
		a.cri = a.newCRI(*cfg.CRI, cfg.CRIHealth)
	}
	return a
}

// ReadOnce reads the journal from its start (or Journal.Since) to its end,
// then settles what the input allows. Errors opening the journal are
// returned as they are: report exits on them.
func (a *Agent) ReadOnce(ctx context.Context) error {
	cfg := a.cfg.Journal
	cfg.Follow = false
	r, err := journal.Open(cfg)
	if err != nil {
		return err
	}
	defer r.Close()
	a.log.Debug("reading the journal once", "files_read_directly", r.Direct)
	err = r.Run(ctx, handler{a})
	if a.cri != nil {
		// The runtime knows the exact ends of the pods it still has.
		if cerr := a.cri.ListOnce(ctx, a.applyCRI); cerr != nil {
			a.log.Warn("cannot read the container runtime; the report uses the journal only", "err", cerr)
		}
	}
	a.tl.Flush()
	return err
}

// Run follows the journal until ctx ends. A journal that cannot be opened or
// read is reported (log, /readyz, podstart_source_up) and retried.
func (a *Agent) Run(ctx context.Context) error {
	st := a.loadState()
	if a.cri != nil {
		// The CRI side runs on its own; the journal side never waits for it.
		go func() { _ = a.cri.Run(ctx, a.applyCRI) }()
	}
	ticker := time.NewTicker(a.cfg.TickInterval)
	defer ticker.Stop()
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-ticker.C:
				a.applyMu.Lock()
				a.tl.Tick(now)
				a.applyMu.Unlock()
			}
		}
	}()
	for {
		err := a.follow(ctx, &st)
		a.setUp(false, err)
		if ctx.Err() != nil {
			a.saveState(true)
			return nil
		}
		a.health.SourceErrors.WithLabelValues("journal").Inc()
		a.log.Error("journal source failed; retrying", "err", err, "retry_in", a.cfg.RetryInterval)
		select {
		case <-ctx.Done():
			a.saveState(true)
			return nil
		case <-time.After(a.cfg.RetryInterval):
		}
	}
}

func (a *Agent) follow(ctx context.Context, st *state) error {
	cfg := a.cfg.Journal
	cfg.Follow = true
	a.mu.Lock()
	cfg.Cursor = a.cursor
	a.mu.Unlock()
	if cfg.Cursor == "" {
		cfg.Cursor = st.Cursor
		if a.cfg.Dedup != nil {
			cfg.ReplayFrom = st.ReplayFrom
		}
	}
	if cfg.Since.IsZero() && a.cfg.Lookback > 0 {
		cfg.Since = time.Now().Add(-a.cfg.Lookback)
	}
	r, err := journal.Open(cfg)
	if err != nil {
		return err
	}
	defer r.Close()
	if a.cfg.Dedup != nil && st.Pods != nil {
		// Only the first open after a start replays: a reopen after an
		// error keeps the timeline it has.
		a.cfg.Dedup.load(st.Pods)
		st.ReplayFrom, st.Pods = time.Time{}, nil
	}
	if r.CursorReset {
		a.health.CursorResets.Inc()
		a.log.Warn("saved journal cursor no longer exists; reading from the lookback", "since", cfg.Since)
	}
	a.setUp(true, nil)
	a.log.Info("reading journal", "path", pathOrDefault(cfg.Path), "matches", fmt.Sprint(cfg.Matches), "resume", cfg.Cursor != "" && !r.CursorReset)
	return r.Run(ctx, handler{a})
}

func pathOrDefault(p string) string {
	if p == "" {
		return "local system journal"
	}
	return p
}

func (a *Agent) setUp(up bool, err error) {
	a.mu.Lock()
	a.journalUp, a.lastErr = up, err
	a.mu.Unlock()
	v := 0.0
	if up {
		v = 1
	}
	a.health.SourceUp.WithLabelValues("journal").Set(v)
}

// Ready returns nil when every source is being read, else what is not.
func (a *Agent) Ready() error {
	var errs []error
	a.mu.Lock()
	switch {
	case a.journalUp:
	case a.lastErr != nil:
		errs = append(errs, fmt.Errorf("journal: %w", a.lastErr))
	default:
		errs = append(errs, errors.New("journal: not open yet"))
	}
	a.mu.Unlock()
	if a.cri != nil {
		if err := a.cri.Ready(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// handler is the agent as the journal reader's Handler.
type handler struct{ a *Agent }

func (h handler) Entry(e journal.Entry) {
	a := h.a
	a.replaying = e.Replay
	if e.Replay {
		// Read and counted before: only the timeline gets it again.
		key := e.PID
		if key == "" {
			key = e.Unit
		}
		a.joiner.Add(key, e.Unit, e.Message, e.Time, a.line)
		return
	}
	if e.ClockStep != 0 {
		a.health.ClockSteps.Inc()
		a.log.Warn("the node's clock was stepped; stages that span the step are off by it", "step", e.ClockStep, "at", e.Time)
	}
	c := a.entries[e.Unit]
	if c == nil {
		c = a.health.Entries.WithLabelValues(e.Unit)
		a.entries[e.Unit] = c
	}
	c.Inc()
	if a.n++; a.n&255 == 0 {
		a.health.Lag.Set(time.Since(e.Time).Seconds())
	}
	key := e.PID
	if key == "" {
		key = e.Unit
	}
	a.joiner.Add(key, e.Unit, e.Message, e.Time, a.line)
}

func (h handler) CaughtUp() {
	h.a.joiner.Flush(h.a.line)
	h.a.health.Lag.Set(0)
}

func (h handler) Checkpoint(cursor string) {
	a := h.a
	a.mu.Lock()
	a.cursor = cursor
	a.mu.Unlock()
	a.saveState(false)
}

// line parses one complete line and applies it.
func (a *Agent) line(unit, text string, t time.Time, cont int) {
	if cont > 0 {
		a.count(unit, "continuation", cont)
	}
	if text == "" {
		return
	}
	res := a.parser.Parse(text, t)
	if !a.replaying {
		a.count(unit, res.Outcome.String(), 1)
		a.health.LastEntry.Set(float64(t.UnixMilli()) / 1000)
	}
	if res.Outcome == logformat.Recognised || (res.Outcome == logformat.Malformed && res.Event.Kind != "" && res.Event.Kind != "unrecognised") {
		// The line lies in the journal reader's buffer: what the
		// timeline keeps is copied.
		a.apply(res.Event.Clone(), a.replaying)
	}
}

// apply hands an event to the timeline; silent: the line was handed over
// before, and the observations it makes that name no pod are dropped.
func (a *Agent) apply(ev event.Event, silent bool) {
	if a.cfg.Dedup == nil {
		a.tl.Apply(ev)
		return
	}
	a.applyMu.Lock()
	defer a.applyMu.Unlock()
	if silent {
		a.cfg.Dedup.setSilent(true)
		defer a.cfg.Dedup.setSilent(false)
	}
	a.tl.Apply(ev)
}

func (a *Agent) count(unit, result string, n int) {
	k := [2]string{unit, result}
	c := a.lines[k]
	if c == nil {
		c = a.health.Lines.WithLabelValues(unit, result)
		a.lines[k] = c
	}
	c.Add(float64(n))
}
