//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podstart/podstart/internal/report"
	"github.com/podstart/podstart/internal/timeline"
)

// TestNodeV0, V2, V3: the eight scenarios at one kubelet verbosity each;
// at nodeV (2) also the four of issue6_test.go.
func TestNodeV0(t *testing.T) { scenarios(t, 0) }
func TestNodeV2(t *testing.T) { scenarios(t, 2) }
func TestNodeV3(t *testing.T) { scenarios(t, 3) }

func manifest(name, body string) string {
	return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name + "\n  namespace: default\nspec:\n  hostNetwork: true\n  dnsPolicy: Default\n  terminationGracePeriodSeconds: 1\n" + body
}

// slowRegistry is a proxy in front of the stack's registry that holds every
// blob for a while, so that a pull is still running when the test acts.
func slowRegistry(t *testing.T, n *node, hold time.Duration) string {
	t.Helper()
	target, _ := url.Parse("http://" + n.env["STACK_REGISTRY"])
	proxy := httputil.NewSingleHostReverseProxy(target)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Manifests and blobs both: the layers may already be in the
		// content store (same digests as the registry's own bigdata:1).
		if strings.Contains(r.URL.Path, "/blobs/") || strings.Contains(r.URL.Path, "/manifests/") {
			select {
			case <-time.After(hold):
			case <-r.Context().Done():
				return
			}
		}
		proxy.ServeHTTP(w, r)
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	host := l.Addr().String()
	// containerd reads certs.d for every pull: a plain-HTTP host for it.
	dir := filepath.Join(n.env["STACK_CONF"], "certs.d", host)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	toml := fmt.Sprintf("server = \"http://%s\"\n[host.\"http://%s\"]\n  capabilities = [\"pull\", \"resolve\"]\n", host, host)
	if err := os.WriteFile(filepath.Join(dir, "hosts.toml"), []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return host
}

func scenarios(t *testing.T, v int) {
	n := startNode(t, v, v == alertsV)
	busybox, bigdata := n.env["STACK_IMAGE_BUSYBOX"], n.env["STACK_IMAGE_BIGDATA"]
	hostdir := t.TempDir()
	pod := func(name string) string { return name + "-" + n.hostname }
	kpods := func() map[string]kubeletPod { return n.kubeletPods(t) }

	// 1. An init container, emptyDir and hostPath volumes, a readiness
	// probe; the image pulled cold.
	t.Run("1-init-volumes-probe-cold-pull", func(t *testing.T) {
		n.drop(t, "s1-web", manifest("s1-web", `  initContainers:
  - name: init-data
    image: `+busybox+`
    imagePullPolicy: Always
    command: ["/bin/sh", "-c", "echo ready > /data/index.html; sleep 1"]
    volumeMounts: [{name: data, mountPath: /data}]
  containers:
  - name: web
    image: `+busybox+`
    imagePullPolicy: Always
    command: ["/bin/sh", "-c", "sleep 2; exec httpd -f -p 127.0.0.1:18081 -h /data"]
    volumeMounts: [{name: data, mountPath: /data}, {name: hostdir, mountPath: /host, readOnly: true}]
    readinessProbe: {httpGet: {host: 127.0.0.1, port: 18081, path: /index.html}, initialDelaySeconds: 1, periodSeconds: 1}
  volumes:
  - {name: data, emptyDir: {}}
  - {name: hostdir, hostPath: {path: `+hostdir+`, type: DirectoryOrCreate}}
`))
		waitFor(t, 60*time.Second, "s1 Ready", func() bool { return kpods()[pod("s1-web")].ready() })
	})
	// 2. The same image again: cached.
	t.Run("2-cached", func(t *testing.T) {
		n.drop(t, "s2-cached", manifest("s2-cached", `  containers:
  - name: app
    image: `+busybox+`
    imagePullPolicy: IfNotPresent
    command: ["/bin/sh", "-c", "sleep 3600"]
`))
		waitFor(t, 60*time.Second, "s2 Ready", func() bool { return kpods()[pod("s2-cached")].ready() })
	})
	// 3. Two containers of different images, one tens of MB.
	t.Run("3-two-images", func(t *testing.T) {
		n.drop(t, "s3-pair", manifest("s3-pair", `  containers:
  - name: app
    image: `+busybox+`
    imagePullPolicy: IfNotPresent
    command: ["/bin/sh", "-c", "sleep 3600"]
  - name: data
    image: `+bigdata+`
    imagePullPolicy: IfNotPresent
    command: ["/bin/sh", "-c", "sleep 3600"]
`))
		waitFor(t, 60*time.Second, "s3 Ready", func() bool { return kpods()[pod("s3-pair")].ready() })
	})
	if n.alerts != nil {
		t.Run("no-alerts-for-healthy-pods", func(t *testing.T) { checkQuiet(t, n) })
	}
	// 4. An image that does not exist.
	t.Run("4-missing-image", func(t *testing.T) {
		n.drop(t, "s4-missing", manifest("s4-missing", `  containers:
  - name: main
    image: `+n.env["STACK_REGISTRY"]+`/nope:1
    command: ["/bin/sh", "-c", "sleep 3600"]
`))
		waitFor(t, 60*time.Second, "s4 ImagePullBackOff", func() bool { return kpods()[pod("s4-missing")].waitingReason() == "ImagePullBackOff" })
		wantStuck(t, n, pod("s4-missing"), "image_pull", "ImageNotFound", "ImagePullBackOff")
	})
	// 5. A container that exits 1 over and over.
	t.Run("5-crashloop", func(t *testing.T) {
		n.drop(t, "s5-crash", manifest("s5-crash", `  containers:
  - name: crash
    image: `+busybox+`
    imagePullPolicy: IfNotPresent
    command: ["/bin/sh", "-c", "exit 1"]
`))
		waitFor(t, 60*time.Second, "s5 CrashLoopBackOff", func() bool { return kpods()[pod("s5-crash")].waitingReason() == "CrashLoopBackOff" })
		wantStuck(t, n, pod("s5-crash"), "container_start", "CrashLoopBackOff")
	})
	// 6. A hostPath volume of type File whose path is missing.
	t.Run("6-missing-hostpath-file", func(t *testing.T) {
		n.drop(t, "s6-nofile", manifest("s6-nofile", `  containers:
  - name: main
    image: `+busybox+`
    imagePullPolicy: IfNotPresent
    command: ["/bin/sh", "-c", "sleep 3600"]
    volumeMounts: [{name: cfg, mountPath: /cfg}]
  volumes:
  - {name: cfg, hostPath: {path: `+filepath.Join(hostdir, "missing.conf")+`, type: File}}
`))
		waitFor(t, 60*time.Second, "s6's mount failure in the agent", func() bool {
			p, ok := n.agentPod(t, pod("s6-nofile"))
			return ok && hasFailure(p, "volumes", "FailedMount")
		})
		wantStuck(t, n, pod("s6-nofile"), "volumes", "FailedMount")
	})
	// 7. A burst of 20 pods at the same moment.
	t.Run("7-burst", func(t *testing.T) {
		// Written as dot-files (which the kubelet ignores), then renamed
		// one after the other: twenty pods within a millisecond or two.
		dir := n.env["STACK_MANIFESTS"]
		for i := 0; i < 20; i++ {
			name := fmt.Sprintf("s7-burst-%02d", i)
			if err := os.WriteFile(filepath.Join(dir, "."+name+".yaml"), []byte(manifest(name, `  containers:
  - name: app
    image: `+busybox+`
    imagePullPolicy: IfNotPresent
    command: ["/bin/sh", "-c", "sleep 3600"]
`)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		for i := 0; i < 20; i++ {
			name := fmt.Sprintf("s7-burst-%02d", i)
			if err := os.Rename(filepath.Join(dir, "."+name+".yaml"), filepath.Join(dir, name+".yaml")); err != nil {
				t.Fatal(err)
			}
		}
		waitFor(t, 120*time.Second, "the 20 burst pods Ready", func() bool {
			ps := kpods()
			for i := 0; i < 20; i++ {
				if !ps[pod(fmt.Sprintf("s7-burst-%02d", i))].ready() {
					return false
				}
			}
			return true
		})
	})
	// 8. A pod removed while its image is still being pulled.
	// The slow registry outlives the subtest: the kubelet does not cancel
	// a pull when its pod goes, and a registry vanishing under the pull
	// would turn it into a failure that the scenario is not about.
	slow := slowRegistry(t, n, 8*time.Second)
	t.Run("8-removed-while-pulling", func(t *testing.T) {
		n.drop(t, "s8-removed", manifest("s8-removed", `  containers:
  - name: main
    image: `+slow+`/bigdata:1
    command: ["/bin/sh", "-c", "sleep 3600"]
`))
		waitFor(t, 30*time.Second, "s8's pull to start", func() bool { return n.journalHas(t, "PullImage \\\""+slow+"/bigdata:1\\\"") })
		n.remove(t, "s8-removed")
		// The kubelet's worker is inside the pull (it does not cancel it):
		// the sandbox goes once the pull returns.
		waitFor(t, 60*time.Second, "s8's sandbox to be stopped", func() bool {
			out := run(t, n.env["STACK_CRICTL"], "--runtime-endpoint", n.env["STACK_CRI_ENDPOINT"], "pods", "-q", "--state", "ready", "--name", pod("s8-removed"))
			_, ok := kpods()[pod("s8-removed")]
			return out == "" && !ok
		})
	})
	if v == nodeV {
		t.Run("9-oom-killed", func(t *testing.T) { scenarioOOM(t, n, pod) })
		t.Run("10-never-ready", func(t *testing.T) { scenarioNeverReady(t, n, pod) })
		t.Run("11-kubelet-restart", func(t *testing.T) { scenarioKubeletRestart(t, n, pod) })
		t.Run("12-containerd-down-30s", func(t *testing.T) { scenarioContainerdDown(t, n, pod) })
	}

	// Let the last pods settle, and Prometheus scrape.
	time.Sleep(6 * time.Second)
	checkAgainstReferences(t, n, pod)
	if n.alerts != nil {
		t.Run("alerts-through-alertmanager", func(t *testing.T) { checkAlerts(t, n) })
	}
	saveRecording(t, n)
}

func hasFailure(p timeline.PodView, stage, reason string) bool {
	for _, f := range p.Failures {
		if f.Stage == stage && f.Reason == reason {
			return true
		}
	}
	return false
}

func (n *node) agentPods(t *testing.T) map[string]timeline.PodView {
	t.Helper()
	b, code := get(n.agent + "/pods")
	if code != 200 {
		t.Fatalf("agent /pods: %d", code)
	}
	var doc report.Document
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]timeline.PodView{}
	for _, p := range doc.Pods {
		// The newest incarnation wins: /pods is slowest first, not by time.
		if old, ok := out[p.Name]; !ok || p.FirstSeen.After(old.FirstSeen) {
			out[p.Name] = p
		}
	}
	return out
}

func (n *node) agentPod(t *testing.T, name string) (timeline.PodView, bool) {
	p, ok := n.agentPods(t)[name]
	return p, ok
}

// journalHas reports whether the stack's containerd logged text since the
// node started.
func (n *node) journalHas(t *testing.T, text string) bool {
	out := run(t, "journalctl", "--no-pager", "-o", "cat", "_SYSTEMD_UNIT=containerd.service", "--since", "@"+fmt.Sprint(n.started.Unix()))
	return strings.Contains(out, text)
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }
