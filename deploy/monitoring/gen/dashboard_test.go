package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// update rewrites dashboard-configmap.yaml from dashboard.json:
//
//	go test ./deploy/monitoring/gen -run TestDashboardConfigMap -update
var update = flag.Bool("update", false, "rewrite ../dashboard-configmap.yaml from ../dashboard.json")

// dashboardHeader is the ConfigMap around dashboard.json. The Grafana
// sidecar (kube-prometheus-stack, grafana chart) loads every ConfigMap
// labelled grafana_dashboard: "1" in the namespaces it watches.
const dashboardHeader = `# Generated from dashboard.json by deploy/monitoring/gen/dashboard_test.go; DO NOT EDIT.
# Edit dashboard.json, then run: go test ./deploy/monitoring/gen -run TestDashboardConfigMap -update
# The Grafana sidecar loads ConfigMaps labelled grafana_dashboard: "1" in the
# namespaces it watches (kube-prometheus-stack: sidecar.dashboards.searchNamespace).
apiVersion: v1
kind: ConfigMap
metadata:
  name: podstart-dashboard
  namespace: podstart
  labels:
    app.kubernetes.io/name: podstart
    app.kubernetes.io/component: dashboard
    grafana_dashboard: "1"
data:
  podstart.json: |
`

// dashboardConfigMap returns the ConfigMap holding dashboard, a JSON file
// ending in exactly one newline, as a literal block scalar: YAML's clip
// chomping gives back the text with its one final newline, byte for byte.
func dashboardConfigMap(dashboard []byte) ([]byte, error) {
	text := string(dashboard)
	if !strings.HasSuffix(text, "\n") || strings.HasSuffix(text, "\n\n") || strings.ContainsAny(text, "\r\t") {
		return nil, fmt.Errorf("dashboard.json must end in exactly one newline and hold no tab or carriage return")
	}
	var b strings.Builder
	b.WriteString(dashboardHeader)
	for _, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if strings.TrimSpace(l) == "" {
			return nil, fmt.Errorf("dashboard.json has a blank line, which a block scalar would not keep")
		}
		b.WriteString("    " + l + "\n")
	}
	return []byte(b.String()), nil
}

type dashTarget struct {
	Datasource *dashDatasource `json:"datasource"`
	Expr       string          `json:"expr"`
	RefID      string          `json:"refId"`
	Exemplar   bool            `json:"exemplar"`
	Format     string          `json:"format"`
}

type dashDatasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type dashPanel struct {
	ID          int             `json:"id"`
	Type        string          `json:"type"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	Datasource  *dashDatasource `json:"datasource"`
	GridPos     *struct {
		H, W, X, Y int
	} `json:"gridPos"`
	Repeat  string       `json:"repeat"`
	Targets []dashTarget `json:"targets"`
	Panels  []dashPanel  `json:"panels"` // a collapsed row's panels
}

type dashVariable struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Query      any             `json:"query"`
	Datasource *dashDatasource `json:"datasource"`
	IncludeAll bool            `json:"includeAll"`
	Hide       int             `json:"hide"`
}

type dashboard struct {
	SchemaVersion int         `json:"schemaVersion"`
	UID           string      `json:"uid"`
	Title         string      `json:"title"`
	Panels        []dashPanel `json:"panels"`
	Templating    struct {
		List []dashVariable `json:"list"`
	} `json:"templating"`
}

const dsVar = "${datasource}"

func readDashboard(t *testing.T) ([]byte, dashboard) {
	t.Helper()
	b, err := os.ReadFile("../dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("dashboard.json: %v", err)
	}
	return b, d
}

// allPanels flattens rows: the top-level panels and those inside collapsed rows.
func allPanels(d dashboard) []dashPanel {
	var ps []dashPanel
	for _, p := range d.Panels {
		ps = append(ps, p)
		ps = append(ps, p.Panels...)
	}
	return ps
}

func TestDashboardStructure(t *testing.T) {
	_, d := readDashboard(t)
	if d.SchemaVersion != 39 {
		t.Errorf("schemaVersion %d, want 39", d.SchemaVersion)
	}
	if d.UID != "podstart" || d.Title != "podstart: pod starts on nodes" {
		t.Errorf("uid %q title %q", d.UID, d.Title)
	}

	vars := map[string]dashVariable{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v
	}
	if v := vars["datasource"]; v.Type != "datasource" || v.Query != "prometheus" {
		t.Errorf("variable datasource: %+v, want a prometheus datasource variable", v)
	}
	if v := vars["node"]; v.Type != "query" || !v.IncludeAll || v.Datasource == nil || v.Datasource.UID != dsVar ||
		!strings.Contains(fmt.Sprint(v.Query), "label_values(podstart_build_info, node)") {
		t.Errorf("variable node: %+v", v)
	}
	if v := vars["stage"]; v.Type != "custom" || v.Hide != 2 || v.Query != "volumes,sandbox,image_pull,container_create,container_start,init_containers,readiness" {
		t.Errorf("variable stage: %+v", v)
	}

	ids := map[int]string{}
	var targets, exemplars, heatmaps int
	for _, p := range allPanels(d) {
		if p.ID == 0 {
			t.Errorf("panel %q: no id", p.Title)
		} else if other, dup := ids[p.ID]; dup {
			t.Errorf("panel id %d used by %q and %q", p.ID, other, p.Title)
		}
		ids[p.ID] = p.Title
		if p.Title == "" {
			t.Errorf("panel %d: no title", p.ID)
		}
		if p.GridPos == nil || p.GridPos.W <= 0 || p.GridPos.H <= 0 || p.GridPos.X < 0 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("panel %d %q: bad or missing gridPos %+v", p.ID, p.Title, p.GridPos)
		}
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != dsVar || p.Datasource.Type != "prometheus" {
			t.Errorf("panel %d %q: datasource %+v, want the %s variable", p.ID, p.Title, p.Datasource, dsVar)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %d %q: no targets", p.ID, p.Title)
		}
		if p.Type == "heatmap" {
			heatmaps++
			if p.Repeat != "stage" {
				t.Errorf("heatmap %q: repeat %q, want stage", p.Title, p.Repeat)
			}
		}
		refs := map[string]bool{}
		for _, tg := range p.Targets {
			targets++
			if strings.TrimSpace(tg.Expr) == "" || tg.RefID == "" {
				t.Errorf("panel %d %q: target without expr or refId: %+v", p.ID, p.Title, tg)
			}
			if refs[tg.RefID] {
				t.Errorf("panel %d %q: refId %s twice", p.ID, p.Title, tg.RefID)
			}
			refs[tg.RefID] = true
			if tg.Datasource != nil && tg.Datasource.UID != dsVar {
				t.Errorf("panel %d %q: target datasource %+v", p.ID, p.Title, tg.Datasource)
			}
			if !strings.Contains(tg.Expr, `node=~"$node"`) {
				t.Errorf("panel %d %q: expr not filtered by node=~\"$node\": %s", p.ID, p.Title, tg.Expr)
			}
			if strings.Contains(tg.Expr, "datasource") {
				t.Errorf("panel %d %q: expr mentions the datasource: %s", p.ID, p.Title, tg.Expr)
			}
			if tg.Exemplar {
				exemplars++
			}
			if p.Type == "heatmap" && (tg.Format != "heatmap" || !tg.Exemplar || !strings.Contains(tg.Expr, `stage="$stage"`)) {
				t.Errorf("heatmap %q: target %+v, want format heatmap, exemplars on, stage=\"$stage\"", p.Title, tg)
			}
		}
	}
	if heatmaps != 1 {
		t.Errorf("%d heatmap panels, want the one repeated by stage", heatmaps)
	}
	if targets < 15 || exemplars < 4 {
		t.Errorf("%d targets, %d with exemplars", targets, exemplars)
	}
}

// grafanaVars are the values Grafana would put in for its variables, enough
// for promtool to parse the expressions.
var grafanaVars = strings.NewReplacer(
	"$__rate_interval", "5m",
	"$__range", "1h",
	"$__interval", "1m",
	"${node}", ".*",
	"$node", ".*",
	"${stage}", "sandbox",
	"$stage", "sandbox",
)

// TestDashboardPromQL writes every expression, variables substituted, as a
// recording rule and has promtool check the file: every one must parse.
func TestDashboardPromQL(t *testing.T) {
	_, d := readDashboard(t)
	type rule struct {
		Record string `json:"record"`
		Expr   string `json:"expr"`
	}
	var rules []rule
	leftover := regexp.MustCompile(`\$\{?\w+`)
	for _, p := range allPanels(d) {
		for _, tg := range p.Targets {
			expr := grafanaVars.Replace(tg.Expr)
			if v := leftover.FindString(expr); v != "" {
				t.Errorf("panel %q: variable %s left in %s", p.Title, v, expr)
			}
			rules = append(rules, rule{Record: fmt.Sprintf("dashboard:panel%d:%s", p.ID, strings.ToLower(tg.RefID)), Expr: expr})
		}
	}
	if len(rules) == 0 {
		t.Fatal("no expressions")
	}
	file := map[string]any{"groups": []any{map[string]any{"name": "dashboard", "rules": rules}}}
	b, err := yaml.Marshal(file)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "dashboard-rules.yaml")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	promtool(t, "check", "rules", path)
}

// TestDashboardConfigMap fails when dashboard-configmap.yaml does not hold
// dashboard.json byte for byte; -update rewrites it.
func TestDashboardConfigMap(t *testing.T) {
	dash, _ := readDashboard(t)
	want, err := dashboardConfigMap(dash)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("../dashboard-configmap.yaml", want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("../dashboard-configmap.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cm corev1.ConfigMap
	if err := yaml.UnmarshalStrict(got, &cm); err != nil {
		t.Fatalf("dashboard-configmap.yaml: %v", err)
	}
	if cm.APIVersion != "v1" || cm.Kind != "ConfigMap" || cm.Name != "podstart-dashboard" || cm.Namespace != "podstart" || cm.Labels["grafana_dashboard"] != "1" {
		t.Errorf("got %s %s %s/%s labels %v", cm.APIVersion, cm.Kind, cm.Namespace, cm.Name, cm.Labels)
	}
	if len(cm.Data) != 1 {
		t.Errorf("data keys %d, want podstart.json alone", len(cm.Data))
	}
	if cm.Data["podstart.json"] != string(dash) {
		t.Errorf("dashboard-configmap.yaml's podstart.json is not dashboard.json; run: go test ./deploy/monitoring/gen -run TestDashboardConfigMap -update")
	}
	if string(got) != string(want) {
		t.Errorf("dashboard-configmap.yaml is not what dashboardConfigMap makes of dashboard.json; run: go test ./deploy/monitoring/gen -run TestDashboardConfigMap -update")
	}
}
