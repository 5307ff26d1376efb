//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"sigs.k8s.io/yaml"
)

// alertsV is the one kubelet verbosity whose run also sends the shipped
// alerts through a real Alertmanager (once is enough: the rules read the
// agent's metrics, which are the same at every verbosity, and it keeps the
// CI time down).
const alertsV = 2

// forScale shortens every `for:` of the shipped rules for the e2e run: a
// minute there is a second here (5m becomes 5s). The expressions, labels,
// annotations and everything else stay as deploy/monitoring/rules.yaml has
// them; a run cannot wait five minutes for each alert at every step.
const forScale = 60

var rulesPath = filepath.Join("..", "..", "deploy", "monitoring", "rules.yaml")

// The expected alerts, by alert name and the label that tells one of its
// alerts from another (reason, condition, problem or source). s4's missing
// image gives ImageNotFound (and, once the kubelet backs off,
// ImagePullBackOff), s5's crash loop and s9's OOM-killed container
// CrashLoopBackOff (two containers), s9 OOMKilled, s6's missing hostPath
// file FailedMount. The count-based ones state their value first in the
// description: a false failure of the same reason on a healthy pod would
// show there. s12's 30 seconds without containerd make the CRI source
// down (5s here), RuntimeReady 0 (1s here) and the kubelet's
// runtime-down lines (2s here) fire, and resolve once it is back: they may
// arrive resolved. The kubelet's one restart (s11) is below
// PodstartKubeletRestarting's threshold, the readiness pod (s10) below
// PodstartPodStuckInStage's 10 minutes (not scaled: an expression's
// value). PodstartRuntimeNotReady{NetworkReady} fires throughout: see
// nodeAlerts. Every other alert must stay silent.
var (
	requiredAlerts = map[alertKey]alertWant{
		{"PodstartImagePullFailures", "ImageNotFound"}:        {label: "reason", value: "1"},
		{"PodstartContainerCrashLooping", "CrashLoopBackOff"}: {label: "reason", value: "2"},
		{"PodstartVolumeMountFailures", "FailedMount"}:        {label: "reason", value: "1"},
		{"PodstartContainerOOMKilled", "OOMKilled"}:           {label: "reason", value: "1"},
		{"PodstartSourceDown", "cri"}:                         {label: "source", resolves: true},
		{"PodstartRuntimeNotReady", "RuntimeReady"}:           {label: "condition", resolves: true},
		{"PodstartKubeletRuntimeNotReady", "runtime_down"}:    {label: "problem", resolves: true},
		{"PodstartRuntimeNotReady", "NetworkReady"}:           {label: "condition"},
	}
	// The stack's node has no pod network (host-network pods only):
	// containerd reports NetworkReady false from the start, and the alert
	// says so, healthy pods or not. The one alert the quiet check allows.
	nodeAlerts     = map[alertKey]bool{{"PodstartRuntimeNotReady", "NetworkReady"}: true}
	optionalAlerts = map[alertKey]alertWant{
		{"PodstartImagePullFailures", "ImagePullBackOff"}: {label: "reason", value: "1"},
	}
)

type alertKey struct{ name, reason string }

func (k alertKey) String() string { return k.name + "{" + k.reason + "}" }

// alertWant: the label that carries the key's second part, the count the
// description must begin with ("" for alerts that state none), and
// whether the alert resolves within the run.
type alertWant struct {
	label, value string
	resolves     bool
}

func keyOf(labels map[string]string) alertKey {
	for _, l := range []string{"reason", "condition", "problem", "source", "stage"} {
		if v := labels[l]; v != "" {
			return alertKey{labels["alertname"], v}
		}
	}
	return alertKey{labels["alertname"], ""}
}

// ruleFile is a Prometheus rules file, decoded strictly: a field this type
// lacks is an error, so the comparison of the derived rules with the
// source's covers every field.
type ruleFile struct {
	Groups []struct {
		Name     string `json:"name"`
		Interval string `json:"interval,omitempty"`
		Limit    int    `json:"limit,omitempty"`
		Rules    []rule `json:"rules"`
	} `json:"groups"`
}

type rule struct {
	Alert         string            `json:"alert,omitempty"`
	Record        string            `json:"record,omitempty"`
	Expr          string            `json:"expr"`
	For           string            `json:"for,omitempty"`
	KeepFiringFor string            `json:"keep_firing_for,omitempty"`
	Labels        map[string]string `json:"labels,omitempty"`
	Annotations   map[string]string `json:"annotations,omitempty"`
}

func decodeRules(b []byte) (ruleFile, error) {
	var f ruleFile
	err := yaml.UnmarshalStrict(b, &f)
	return f, err
}

func (f ruleFile) alerts() map[string]rule {
	out := map[string]rule{}
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Alert != "" {
				out[r.Alert] = r
			}
		}
	}
	return out
}

var forLine = regexp.MustCompile(`(?m)^([ \t]+for:[ \t]+)(\S+)[ \t]*$`)

// shortenFor derives the e2e copy of the rules from the shipped file: each
// `for:` line's duration divided by forScale, every other byte as it is.
// It then checks, on the decoded files, that the `for` fields are the only
// difference.
func shortenFor(src []byte) ([]byte, error) {
	var err error
	n := 0
	out := forLine.ReplaceAllFunc(src, func(line []byte) []byte {
		m := forLine.FindSubmatch(line)
		d, perr := model.ParseDuration(string(m[2]))
		if perr != nil {
			err = fmt.Errorf("for: %s: %w", m[2], perr)
			return line
		}
		n++
		return append(append([]byte{}, m[1]...), model.Duration(time.Duration(d)/forScale).String()...)
	})
	if err != nil {
		return nil, err
	}
	a, err := decodeRules(src)
	if err != nil {
		return nil, fmt.Errorf("the shipped rules: %w", err)
	}
	b, err := decodeRules(out)
	if err != nil {
		return nil, fmt.Errorf("the derived rules: %w", err)
	}
	withFor := 0
	for i, g := range a.Groups {
		for j, r := range g.Rules {
			d := b.Groups[i].Rules[j]
			if r.For != "" {
				withFor++
				want, _ := model.ParseDuration(r.For)
				got, _ := model.ParseDuration(d.For)
				if time.Duration(got) != time.Duration(want)/forScale {
					return nil, fmt.Errorf("%s: for %s became %s", r.Alert, r.For, d.For)
				}
			}
			d.For = r.For
			b.Groups[i].Rules[j] = d
		}
	}
	if withFor != n {
		return nil, fmt.Errorf("%d rules have a for, %d for: lines were shortened", withFor, n)
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if !bytes.Equal(ja, jb) {
		return nil, fmt.Errorf("the derived rules differ from the shipped ones in more than for:\n%s\n%s", ja, jb)
	}
	return out, nil
}

// alerting is a real Alertmanager (Debian's prometheus-alertmanager) that
// the run's Prometheus sends the alerts of the shipped rules to, and the
// webhook receiver it delivers them to, served by the test on 127.0.0.1.
type alerting struct {
	rulesFile string   // the derived rules that Prometheus loads
	source    ruleFile // deploy/monitoring/rules.yaml
	amAddr    string

	mu       sync.Mutex
	received []webhookAlert
	bad      []string // webhook requests that did not decode
}

// webhookAlert is one alert of Alertmanager's webhook payload (version 4).
type webhookAlert struct {
	Status      string            `json:"status"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	received    time.Time         // when the webhook got it
}

func (a webhookAlert) key() alertKey { return keyOf(a.Labels) }

// startAlerting writes the derived rules into dir, starts the webhook
// receiver and Alertmanager (on a free loopback port, its storage in dir,
// clustering off), and stops both when the test ends, failed or not.
func startAlerting(t *testing.T, dir string) *alerting {
	t.Helper()
	src, err := os.ReadFile(rulesPath)
	if err != nil {
		t.Fatal(err)
	}
	derived, err := shortenFor(src)
	if err != nil {
		t.Fatal(err)
	}
	a := &alerting{rulesFile: filepath.Join(dir, "rules.yaml")}
	if a.source, err = decodeRules(src); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(a.rulesFile, derived, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("alert rules: %s with every for: divided by %d (5m -> 5s); expressions untouched", rulesPath, forScale)

	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var msg struct {
			Version string         `json:"version"`
			Alerts  []webhookAlert `json:"alerts"`
		}
		err := json.NewDecoder(r.Body).Decode(&msg)
		a.mu.Lock()
		defer a.mu.Unlock()
		if err != nil || msg.Version != "4" {
			a.bad = append(a.bad, fmt.Sprintf("version %q: %v", msg.Version, err))
		}
		now := time.Now()
		for _, w := range msg.Alerts {
			w.received = now
			a.received = append(a.received, w)
		}
	}))
	t.Cleanup(hook.Close)

	amBin, err := exec.LookPath("prometheus-alertmanager")
	if err != nil {
		t.Fatalf("Debian's prometheus-alertmanager is needed (scripts/deps.sh test installs it): %v", err)
	}
	// Every alert group notifies at once and again on every change: the
	// defaults (30s, 5m) would only slow the run.
	cfg := fmt.Sprintf(`route:
  receiver: test
  group_by: [alertname, reason]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
- name: test
  webhook_configs:
  - url: %q
    send_resolved: true
`, hook.URL+"/alerts")
	if err := os.WriteFile(filepath.Join(dir, "alertmanager.yml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	a.amAddr = freePort(t)
	am := exec.Command(amBin, "--config.file", filepath.Join(dir, "alertmanager.yml"),
		"--storage.path", filepath.Join(dir, "alertmanager"), "--web.listen-address", a.amAddr,
		// No cluster: it would listen on 0.0.0.0:9094 and gossip.
		"--cluster.listen-address=")
	// Also gone if the test binary dies without running its cleanups (a
	// -timeout panic).
	am.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	var amLogs bytes.Buffer
	am.Stdout, am.Stderr = &amLogs, &amLogs
	if err := am.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop(am)
		if t.Failed() {
			t.Logf("alertmanager log tail:\n%s", tail(amLogs.String(), 2000))
		}
	})
	waitFor(t, 30*time.Second, "Alertmanager", func() bool {
		_, code := get("http://" + a.amAddr + "/-/ready")
		return code == 200
	})
	return a
}

// promConfig is the part of prometheus.yml that loads the rules and sends
// their alerts to the Alertmanager.
func (a *alerting) promConfig() string {
	return fmt.Sprintf("rule_files: [%q]\nalerting:\n  alertmanagers:\n  - static_configs: [{targets: [%q]}]\n", a.rulesFile, a.amAddr)
}

func (a *alerting) snapshot() []webhookAlert {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.received)
}

// promAlert is an alert in Prometheus's /api/v1/alerts.
type promAlert struct {
	Labels      map[string]string
	Annotations map[string]string
	State       string
}

func (n *node) promAlerts(t *testing.T) []promAlert {
	t.Helper()
	var res struct {
		Status string
		Data   struct{ Alerts []promAlert }
	}
	b, code := get(n.prom + "/api/v1/alerts")
	if code != 200 || json.Unmarshal(b, &res) != nil || res.Status != "success" {
		t.Fatalf("prometheus /api/v1/alerts: %d %s", code, b)
	}
	return res.Data.Alerts
}

// checkQuiet runs after the healthy scenarios: no alert is pending or
// firing in Prometheus, and none reached the webhook. Pending needs only
// one evaluation of a true expression, so this needs no wait for `for`.
func checkQuiet(t *testing.T, n *node) {
	t.Helper()
	// Two scrapes and an evaluation after the last observation.
	time.Sleep(3 * time.Second)
	for _, a := range n.promAlerts(t) {
		if !nodeAlerts[keyOf(a.Labels)] {
			t.Errorf("v=%d: alert %s %s with only healthy pods started: %v", n.v, a.Labels["alertname"], a.State, a.Labels)
		}
	}
	for _, a := range n.alerts.snapshot() {
		if !nodeAlerts[a.key()] {
			t.Errorf("v=%d: the webhook received %s with only healthy pods started: %v", n.v, a.Labels["alertname"], a.Labels)
		}
	}
}

// checkAlerts checks that Prometheus loaded every shipped rule, and that the
// failing scenarios' alerts, and only those, arrived at the webhook through
// Alertmanager, with the labels and annotations of their rules.
func checkAlerts(t *testing.T, n *node) {
	a := n.alerts
	rules := a.source.alerts()

	// Prometheus evaluates every alerting rule of the file, with the
	// shortened for.
	var loaded struct {
		Data struct {
			Groups []struct {
				Name  string
				Rules []struct {
					Name, Type, Health string
					Duration           float64
				}
			}
		}
	}
	b, code := get(n.prom + "/api/v1/rules?type=alert")
	if code != 200 || json.Unmarshal(b, &loaded) != nil {
		t.Fatalf("prometheus /api/v1/rules: %d %s", code, b)
	}
	seen := map[string]bool{}
	for _, g := range loaded.Data.Groups {
		for _, r := range g.Rules {
			seen[r.Name] = true
			src, ok := rules[r.Name]
			if !ok {
				t.Errorf("prometheus has alert %s, which rules.yaml does not", r.Name)
				continue
			}
			var want time.Duration
			if src.For != "" {
				d, _ := model.ParseDuration(src.For)
				want = time.Duration(d) / forScale
			}
			if got := time.Duration(r.Duration * float64(time.Second)); got != want || r.Health == "err" {
				t.Errorf("prometheus: %s for %s (want %s), health %q", r.Name, got, want, r.Health)
			}
		}
	}
	for name := range rules {
		if !seen[name] {
			t.Errorf("prometheus did not load alert %s", name)
		}
	}

	allowed := maps.Clone(requiredAlerts)
	maps.Copy(allowed, optionalAlerts)
	waitFor(t, 90*time.Second, fmt.Sprintf("alerts %v at the webhook", slices.Collect(maps.Keys(requiredAlerts))), func() bool {
		got := map[alertKey]bool{}
		for _, w := range a.snapshot() {
			if w.Status == "firing" {
				got[w.key()] = true
			}
		}
		for k := range requiredAlerts {
			if !got[k] {
				return false
			}
		}
		return true
	})
	// What Prometheus says of the same alerts, to compare the annotations
	// that reached the webhook with those it rendered.
	prom := map[alertKey]promAlert{}
	for _, p := range n.promAlerts(t) {
		k := keyOf(p.Labels)
		prom[k] = p
		if _, ok := allowed[k]; !ok {
			t.Errorf("v=%d: unexpected alert %s (%s) in Prometheus: %v %v", n.v, k, p.State, p.Labels, p.Annotations)
		}
	}
	runbooks, err := os.ReadFile(filepath.Join("..", "..", "docs", "runbooks.md"))
	if err != nil {
		t.Fatal(err)
	}
	a.mu.Lock()
	bad := slices.Clone(a.bad)
	a.mu.Unlock()
	for _, s := range bad {
		t.Errorf("a webhook request that is not Alertmanager's version 4 payload: %s", s)
	}
	got := map[alertKey]webhookAlert{}
	for _, w := range a.snapshot() {
		k := w.key()
		want, ok := allowed[k]
		if !ok {
			t.Errorf("v=%d: unexpected alert %s at the webhook: %v %v", n.v, k, w.Labels, w.Annotations)
			continue
		}
		if w.Status != "firing" && !want.resolves {
			t.Errorf("v=%d: %s %s: it cannot resolve within the run (its window is 15m)", n.v, k, w.Status)
		}
		// The latest delivery: a count that grows (s9's crash loop joins
		// s5's) is notified again.
		got[k] = w
	}
	keys := make([]alertKey, 0, len(got))
	for k := range got {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	for _, k := range keys {
		w := got[k]
		r := rules[k.name]
		t.Logf("v=%d: webhook: %s, delivered %.1fs after it fired (latest); labels %v\n  summary: %s\n  description: %s\n  runbook_url: %s",
			n.v, k, w.received.Sub(w.StartsAt).Seconds(), w.Labels, w.Annotations["summary"], w.Annotations["description"], w.Annotations["runbook_url"])
		// Labels: the rule's, and those of the agent's series (the scrape
		// job adds node, as the PodMonitor of deploy/ does).
		want := allowed[k]
		wantLabels := map[string]string{"alertname": k.name, want.label: k.reason, "node": n.hostname, "instance": strings.TrimPrefix(n.agent, "http://")}
		for l, v := range r.Labels {
			wantLabels[l] = v
		}
		for l, v := range wantLabels {
			if w.Labels[l] != v {
				t.Errorf("v=%d: %s: label %s=%q, want %q", n.v, k, l, w.Labels[l], v)
			}
		}
		for _, ann := range []string{"summary", "description", "runbook_url"} {
			v := w.Annotations[ann]
			if v == "" || strings.Contains(v, "{{") || strings.Contains(v, "<no value>") {
				t.Errorf("v=%d: %s: annotation %s %q", n.v, k, ann, v)
			}
			// Alertmanager notifies again when an alert starts or
			// resolves, not when only an annotation changes: a count that
			// grew after the first notification (s9's crash loop joining
			// s5's) is in Prometheus's description, not the webhook's.
			if p, ok := prom[k]; ok && p.Annotations[ann] != v && !want.resolves && ann != "description" {
				t.Errorf("v=%d: %s: %s at the webhook %q, Prometheus says %q", n.v, k, ann, v, p.Annotations[ann])
			}
		}
		if !strings.Contains(w.Annotations["summary"], n.hostname) {
			t.Errorf("v=%d: %s: the summary does not name the node %s: %q", n.v, k, n.hostname, w.Annotations["summary"])
		}
		// The count, first in the description, is now (Prometheus) that
		// of the pods or containers the scenarios made fail that way, and
		// at the webhook at most that.
		if d := w.Annotations["description"]; !strings.Contains(d, k.reason) || !strings.Contains(d, n.hostname) {
			t.Errorf("v=%d: %s: description %q (want the %s and the node)", n.v, k, d, want.label)
		}
		if want.value != "" {
			first, _, _ := strings.Cut(w.Annotations["description"], " ")
			count, err := strconv.Atoi(first)
			most, _ := strconv.Atoi(want.value)
			if err != nil || count < 1 || count > most {
				t.Errorf("v=%d: %s: the webhook's description %q, want a count from 1 to %s", n.v, k, w.Annotations["description"], want.value)
			}
			if p, ok := prom[k]; !ok || !strings.HasPrefix(p.Annotations["description"], want.value+" ") {
				t.Errorf("v=%d: %s: Prometheus's description %q (found %v), want the count %s", n.v, k, p.Annotations["description"], ok, want.value)
			}
		}
		if u := w.Annotations["runbook_url"]; u != r.Annotations["runbook_url"] {
			t.Errorf("v=%d: %s: runbook_url %q, the rule has %q", n.v, k, u, r.Annotations["runbook_url"])
		} else if _, anchor, _ := strings.Cut(u, "#"); anchor != strings.ToLower(k.name) || !bytes.Contains(runbooks, []byte("\n## "+k.name+"\n")) {
			t.Errorf("v=%d: %s: runbook_url %q has no section in docs/runbooks.md", n.v, k, u)
		}
	}
}

// TestAlertRulesForShortened: the copy of the rules the e2e run loads
// differs from deploy/monitoring/rules.yaml only in the for: lines, each
// divided by forScale (shortenFor checks the rest on the decoded files).
func TestAlertRulesForShortened(t *testing.T) {
	src, err := os.ReadFile(rulesPath)
	if err != nil {
		t.Fatal(err)
	}
	out, err := shortenFor(src)
	if err != nil {
		t.Fatal(err)
	}
	srcLines, outLines := strings.Split(string(src), "\n"), strings.Split(string(out), "\n")
	if len(srcLines) != len(outLines) {
		t.Fatalf("%d lines became %d", len(srcLines), len(outLines))
	}
	changed := 0
	for i := range srcLines {
		if srcLines[i] == outLines[i] {
			continue
		}
		changed++
		if !forLine.MatchString(srcLines[i]) {
			t.Errorf("line %d changed but is no for: line: %q -> %q", i+1, srcLines[i], outLines[i])
		}
	}
	if changed == 0 {
		t.Error("no for: line was shortened")
	}
	t.Logf("%d for: lines shortened, e.g. %q", changed, strings.TrimSpace(forLine.FindString(string(out))))
}
