package web

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/podstart/podstart/internal/timeline"
)

type nopObserver struct{ timeline.Observer }

func TestEndpoints(t *testing.T) {
	tl := timeline.New(timeline.Config{}, nopObserver{})
	ready := errors.New("journal: cannot open /var/log/journal: permission denied")
	for _, c := range []struct {
		disablePods bool
		path        string
		code        int
		body        string
	}{
		{false, "/healthz", 200, "ok"},
		{false, "/readyz", 503, "permission denied"},
		{false, "/pods", 200, `{"pods":[]}`},
		{true, "/pods", 404, ""},
		{false, "/metrics", 200, ""},
		{false, "/debug/pprof/", 404, ""},
		{false, "/<script>", 404, ""},
	} {
		srv := httptest.NewServer(Handler(Options{Gatherer: prometheus.NewRegistry(), Timeline: tl, Ready: func() error { return ready }, DisablePods: c.disablePods}))
		resp, err := http.Get(srv.URL + c.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		srv.Close()
		if resp.StatusCode != c.code || !strings.Contains(string(b), c.body) {
			t.Errorf("GET %s (pods disabled %v): %d %q", c.path, c.disablePods, resp.StatusCode, b)
		}
		if strings.Contains(string(b), "<script>") {
			t.Errorf("GET %s echoes the request path", c.path)
		}
	}
}
