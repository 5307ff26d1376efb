package main

import (
	"os"
	"reflect"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"sigs.k8s.io/yaml"
)

// TestPrometheusRuleUpToDate fails when the committed PrometheusRule is not
// what the generator makes of the committed rules file.
func TestPrometheusRuleUpToDate(t *testing.T) {
	rules, err := os.ReadFile("../rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want, err := Generate(rules)
	if err != nil {
		t.Fatalf("rules.yaml: %v", err)
	}
	got, err := os.ReadFile("../prometheusrule.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) == string(want) {
		return
	}
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			t.Fatalf("deploy/monitoring/prometheusrule.yaml is out of date with rules.yaml; run: go generate ./deploy/monitoring/gen\nfirst difference, line %d:\n committed: %q\n generated: %q", i+1, gl, wl)
		}
	}
}

// TestPrometheusRuleDecodes decodes the committed PrometheusRule strictly
// into the Prometheus Operator's type (an unknown or misspelt field fails)
// and checks that its spec is the rules file's groups, rule for rule.
func TestPrometheusRuleDecodes(t *testing.T) {
	b, err := os.ReadFile("../prometheusrule.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var pr monitoringv1.PrometheusRule
	if err := yaml.UnmarshalStrict(b, &pr); err != nil {
		t.Fatalf("prometheusrule.yaml: %v", err)
	}
	if pr.APIVersion != "monitoring.coreos.com/v1" || pr.Kind != "PrometheusRule" || pr.Name != "podstart" || pr.Namespace != "podstart" {
		t.Errorf("got %s %s %s/%s", pr.APIVersion, pr.Kind, pr.Namespace, pr.Name)
	}
	b, err = os.ReadFile("../rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var spec monitoringv1.PrometheusRuleSpec
	if err := yaml.UnmarshalStrict(b, &spec); err != nil {
		t.Fatalf("rules.yaml: %v", err)
	}
	if len(spec.Groups) == 0 {
		t.Fatal("rules.yaml: no groups")
	}
	if !reflect.DeepEqual(pr.Spec, spec) {
		t.Errorf("prometheusrule.yaml's spec differs from rules.yaml")
	}
	n := 0
	for _, g := range pr.Spec.Groups {
		for _, r := range g.Rules {
			n++
			if r.Alert == "" || r.Expr.String() == "" {
				t.Errorf("group %s: a rule without alert or expr", g.Name)
			}
		}
	}
	if n < 15 {
		t.Errorf("%d rules, want at least 15", n)
	}
}

func TestGenerate(t *testing.T) {
	in := "# top comment\ngroups:\n- name: g\n  rules:\n  - alert: A\n    expr: |\n      up\n\n      == 0\n    annotations:\n      d: >-\n        x\n"
	want := header + "  # top comment\n  groups:\n  - name: g\n    rules:\n    - alert: A\n      expr: |\n        up\n\n        == 0\n      annotations:\n        d: >-\n          x\n"
	got, err := Generate([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestGenerateRefuses(t *testing.T) {
	for name, in := range map[string]string{
		"empty":           "",
		"no final EOL":    "groups:\n- name: g",
		"tab":             "groups:\n-\tname: g\n",
		"CR":              "groups:\r\n- name: g\r\n",
		"second document": "groups:\n- name: g\n---\ngroups: []\n",
		"document start":  "---\ngroups:\n- name: g\n",
		"other key":       "groups:\n- name: g\nother: 1\n",
		"flow groups":     "groups: [{name: g, rules: []}]\n",
		"no groups":       "# nothing\n",
		"two groups keys": "groups:\n- name: g\ngroups:\n- name: h\n",
	} {
		if _, err := Generate([]byte(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
