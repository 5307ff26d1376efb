//go:build e2e

package e2e

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkDashboard runs every query of the shipped Grafana dashboard against
// the real Prometheus that scraped the agent during the run: each must
// return data, but the stuck-pod panels, whose gauges come with a later
// issue.
func checkDashboard(t *testing.T, n *node) {
	b, err := os.ReadFile(filepath.Join("..", "..", "deploy", "monitoring", "dashboard.json"))
	if err != nil {
		t.Fatalf("the dashboard: %v", err)
	}
	var dash any
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatal(err)
	}
	var exprs []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if e, ok := x["expr"].(string); ok && e != "" {
				exprs = append(exprs, e)
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(dash)
	if len(exprs) < 8 {
		t.Fatalf("only %d queries in the dashboard", len(exprs))
	}
	subst := strings.NewReplacer("$__rate_interval", "1m", "$__range", "5m", "$__interval", "15s", "${node}", ".*", "$node", ".*", "${stage}", "container_start", "$stage", "container_start")
	for _, e := range exprs {
		if strings.Contains(e, "podstart_pods_in_stage") || strings.Contains(e, "podstart_stage_oldest_seconds") {
			continue
		}
		q := subst.Replace(e)
		var res struct {
			Status string
			Data   struct{ Result []json.RawMessage }
		}
		b, code := get(n.prom + "/api/v1/query?query=" + url.QueryEscape(q))
		if code != 200 || json.Unmarshal(b, &res) != nil || res.Status != "success" {
			t.Errorf("v=%d: dashboard query %q: %d %s", n.v, q, code, b)
			continue
		}
		if len(res.Data.Result) == 0 {
			t.Errorf("v=%d: dashboard query returned no data: %s", n.v, q)
		}
	}
}
