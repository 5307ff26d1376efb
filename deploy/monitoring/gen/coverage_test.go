package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// alertBlocks splits rules.yaml into its alerting rules: name → the rule's
// lines. The rules file is block YAML written by hand; a line scan is enough
// for what these tests look at (promtool checks the rest).
func alertBlocks(t *testing.T) (names []string, blocks map[string]string) {
	t.Helper()
	b, err := os.ReadFile("../rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	blocks = map[string]string{}
	var cur string
	for _, l := range strings.Split(string(b), "\n") {
		if name, ok := strings.CutPrefix(strings.TrimSpace(l), "- alert: "); ok {
			cur = name
			names = append(names, name)
			continue
		}
		if strings.HasPrefix(strings.TrimSpace(l), "- ") && !strings.HasPrefix(l, "      ") {
			cur = "" // the next group or rule
		}
		if cur != "" {
			blocks[cur] += l + "\n"
		}
	}
	if len(names) == 0 {
		t.Fatal("no alerts in rules.yaml")
	}
	return names, blocks
}

// Every alert has a severity, a summary, a description and a runbook_url
// whose anchor is a section of docs/runbooks.md.
func TestAlertsHaveRunbooks(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/runbooks.md")
	if err != nil {
		t.Fatal(err)
	}
	headings := map[string]bool{}
	for _, l := range strings.Split(string(doc), "\n") {
		if h, ok := strings.CutPrefix(l, "## "); ok {
			headings[strings.ToLower(h)] = true
		}
	}
	names, blocks := alertBlocks(t)
	seen := map[string]bool{}
	for _, name := range names {
		if seen[name] {
			t.Errorf("%s: defined twice", name)
		}
		seen[name] = true
		b := blocks[name]
		for _, re := range []string{`\n      severity: (critical|warning|info)\n`, `\n      summary: `, `\n      description: `} {
			if !regexp.MustCompile(re).MatchString(b) {
				t.Errorf("%s: no match for %q", name, re)
			}
		}
		anchor := strings.ToLower(name)
		want := "runbook_url: https://github.com/podstart/podstart/blob/main/docs/runbooks.md#" + anchor + "\n"
		if !strings.Contains(b, want) {
			t.Errorf("%s: want %q", name, strings.TrimSpace(want))
		}
		if !headings[anchor] {
			t.Errorf("%s: docs/runbooks.md has no section \"## %s\"", name, name)
		}
	}
}

// Every alert has a unit test in which it fires and one in which it does not.
func TestAlertsHaveUnitTests(t *testing.T) {
	b, err := os.ReadFile("../rules_test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fires, quiet := map[string]bool{}, map[string]bool{}
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		name, ok := strings.CutPrefix(strings.TrimSpace(l), "alertname: ")
		if !ok || i+1 >= len(lines) {
			continue
		}
		switch strings.TrimSpace(lines[i+1]) {
		case "exp_alerts: []":
			quiet[name] = true
		case "exp_alerts:":
			fires[name] = true
		}
	}
	names, _ := alertBlocks(t)
	known := map[string]bool{}
	for _, name := range names {
		known[name] = true
		if !fires[name] {
			t.Errorf("%s: no test in which it fires", name)
		}
		if !quiet[name] {
			t.Errorf("%s: no test in which it does not fire", name)
		}
	}
	for name := range fires {
		if !known[name] {
			t.Errorf("rules_test.yaml tests %s, which rules.yaml does not define", name)
		}
	}
}
