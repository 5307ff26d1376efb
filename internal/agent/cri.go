package agent

import (
	"context"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/status"

	"github.com/podstart/podstart/internal/cri"
	"github.com/podstart/podstart/internal/event"
	"github.com/podstart/podstart/internal/metrics"
)

// newCRI builds the CRI source with the agent's health hooks: requests
// counted by method and code, reconnects, and source_up{source="cri"}.
func (a *Agent) newCRI(cfg cri.Config, h *metrics.CRIHealth) *cri.Source {
	cfg.Logger = a.log
	count := func(method string, err error) {
		if i := strings.LastIndexByte(method, '/'); i >= 0 {
			method = method[i+1:]
		}
		h.Requests.WithLabelValues(method, status.Code(err).String()).Inc()
	}
	cfg.DialOptions = append(cfg.DialOptions,
		grpc.WithChainUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
			err := invoker(ctx, method, req, reply, cc, opts...)
			count(method, err)
			return err
		}),
		grpc.WithChainStreamInterceptor(func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
			s, err := streamer(ctx, desc, cc, method, opts...)
			count(method, err)
			return s, err
		}),
	)
	var src *cri.Source
	cfg.OnState = func(up bool, err error) {
		v := 0.0
		if up {
			v = 1
			h.Mode.Reset()
			h.Mode.WithLabelValues(src.Mode()).Set(1)
		}
		a.health.SourceUp.WithLabelValues("cri").Set(v)
		if err != nil {
			a.health.SourceErrors.WithLabelValues("cri").Inc()
			// A runtime that does not answer cannot run containers.
			h.Condition.WithLabelValues("RuntimeReady").Set(0)
		}
	}
	cfg.OnStatus = func(conds map[string]bool) {
		for _, name := range metrics.CRIConditions {
			ok, known := conds[name]
			if !known {
				continue
			}
			v := 0.0
			if ok {
				v = 1
			}
			h.Condition.WithLabelValues(name).Set(v)
		}
	}
	cfg.OnReconnect = h.Reconnects.Inc
	src = cri.New(cfg)
	a.health.SourceUp.WithLabelValues("cri").Set(0)
	return src
}

// applyCRI hands a CRI event to the timeline.
func (a *Agent) applyCRI(ev event.Event) { a.apply(ev, false) }
