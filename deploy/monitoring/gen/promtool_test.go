package main

import (
	"os/exec"
	"testing"
)

// promtool runs Prometheus's promtool in deploy/monitoring. A missing promtool
// fails the test, never skips it: the rules would go unchecked. `make test`
// installs it (scripts/deps.sh test: Debian's prometheus package).
func promtool(t *testing.T, args ...string) {
	t.Helper()
	bin, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatalf("promtool not found in PATH (%v): the alert rules cannot be checked; install Prometheus's promtool (Debian: apt-get install prometheus, or run scripts/deps.sh test)", err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = ".."
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool %v in deploy/monitoring: %v\n%s", args, err, out)
	}
	t.Logf("promtool %v:\n%s", args, out)
}

func TestPromtoolCheckRules(t *testing.T) {
	promtool(t, "check", "rules", "rules.yaml")
}

func TestPromtoolTestRules(t *testing.T) {
	promtool(t, "test", "rules", "rules_test.yaml")
}
