//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/podstart/podstart/internal/timeline"
)

var repoRoot, _ = filepath.Abs(filepath.Join("..", ".."))

// TestDaemonSetAsStaticPod runs the pod template of deploy/daemonset.yaml
// on the stack's kubelet as a static pod, with the image that
// scripts/build-image builds and pushes to the stack's registry, and checks
// that the agent in that container, through exactly the manifest's mounts
// (the journal directories, /etc/machine-id, the runtime's socket
// directory, the state hostPath), its probes, security context and
// arguments, reports the other pods' starts as the agent on the host does.
// What a standalone kubelet cannot run is changed, each change stated.
// Afterwards test/stack/down must leave nothing of it on the host.
func TestDaemonSetAsStaticPod(t *testing.T) {
	// Registered first, so it runs last: after the cleanups of startNode
	// (kubelet, host agent, Prometheus), also when the test fails.
	var stateDir, stackDirPath string
	t.Cleanup(func() { checkDownUndoes(t, stackDirPath, stateDir) })

	n := startNode(t, 2, false)
	stackDirPath = n.env["STACK_DIR"]
	image, digest := buildImage(t)
	pod, changes := staticPod(t, n, image)
	for _, c := range changes {
		t.Logf("changed for the standalone kubelet: %s", c)
	}
	c := pod.Spec.Containers[0]
	stateDir = volumeFor(t, pod, path.Dir(flagValue(t, c, "--state.file"))).HostPath.Path
	port := 0
	for _, p := range c.Ports {
		if p.Name == "metrics" {
			port = int(p.ContainerPort)
		}
	}
	if port == 0 {
		t.Fatal("the container has no metrics port")
	}
	// The pod is on the host's network (above): its port must be free.
	l, err := net.Listen("tcp", fmt.Sprintf(":%d", port))
	if err != nil {
		t.Fatalf("port %d is taken on this machine, the pod's agent could not listen: %v", port, err)
	}
	l.Close()
	// The state hostPath (DirectoryOrCreate) is made on the host by the
	// kubelet: down removes it. One that exists is someone else's.
	if _, err := os.Stat(stateDir); err == nil {
		t.Fatalf("%s exists on this machine (a podstart's state?): the test would write into it", stateDir)
	}
	run(t, filepath.Join(stackDir, "kubelet"), "hostpath", stateDir)

	static, err := yaml.Marshal(pod)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("static pod manifest:\n%s", static)
	name := pod.Name + "-" + n.hostname
	dropped := time.Now()
	n.drop(t, pod.Name, string(static))
	waitFor(t, 120*time.Second, name+" Ready (its readiness probe on /readyz)", func() bool {
		p := n.kubeletPods(t)[name]
		return p.Status.Phase == "Running" && p.ready()
	})
	t.Logf("%s Running and Ready %.1fs after the drop", name, time.Since(dropped).Seconds())
	kp := n.kubeletPods(t)[name]
	if len(kp.Status.ContainerStatuses) != 1 {
		t.Fatalf("%s: container statuses %+v", name, kp.Status.ContainerStatuses)
	}
	if cs := kp.Status.ContainerStatuses[0]; !strings.HasSuffix(cs.ImageID, "@"+digest) || cs.RestartCount != 0 || cs.State.Running == nil {
		t.Errorf("%s runs image %q (pushed: %s), %d restarts, state %+v", name, cs.ImageID, digest, cs.RestartCount, cs.State)
	}
	agent := fmt.Sprintf("http://127.0.0.1:%d", port)
	for _, p := range []string{"/healthz", "/readyz"} {
		if b, code := get(agent + p); code != 200 {
			t.Errorf("the pod's agent %s: %d %s", p, code, b)
		}
	}
	m := metricsOf(t, agent)
	for _, src := range []string{"journal", "cri"} {
		if v := m[`podstart_source_up{source="`+src+`"}`]; v != 1 {
			t.Errorf("the pod's agent: podstart_source_up{source=%q} %v", src, v)
		}
	}
	checkContainerSecurity(t, n, name)

	// Other pods: one with an init container, an emptyDir and a readiness
	// probe, one whose image is pulled cold (startNode removed it). Their
	// names are new in every run: a static pod's UID is a hash of its
	// manifest, and the pod's agent reads the last 10 minutes of the
	// journal (--lookback), where an earlier run's pod of the same name
	// and UID would be.
	suffix := fmt.Sprintf("%06x", time.Now().UnixNano()/1e6&0xffffff)
	web, big := "ds-web-"+suffix, "ds-big-"+suffix
	others := []struct{ name, manifest string }{
		{web, manifest(web, `  initContainers:
  - name: init
    image: `+n.env["STACK_IMAGE_BUSYBOX"]+`
    imagePullPolicy: IfNotPresent
    command: ["/bin/sh", "-c", "echo ok > /data/index.html; sleep 1"]
    volumeMounts: [{name: data, mountPath: /data}]
  containers:
  - name: web
    image: `+n.env["STACK_IMAGE_BUSYBOX"]+`
    imagePullPolicy: IfNotPresent
    command: ["/bin/sh", "-c", "exec httpd -f -p 127.0.0.1:18091 -h /data"]
    volumeMounts: [{name: data, mountPath: /data}]
    readinessProbe: {httpGet: {host: 127.0.0.1, port: 18091, path: /index.html}, periodSeconds: 1}
  volumes:
  - {name: data, emptyDir: {}}
`)},
		{big, manifest(big, `  containers:
  - name: data
    image: `+n.env["STACK_IMAGE_BIGDATA"]+`
    imagePullPolicy: IfNotPresent
    command: ["/bin/sh", "-c", "sleep 3600"]
`)},
	}
	for _, o := range others {
		o := o
		t.Run("reports-"+strings.TrimSuffix(o.name, "-"+suffix), func(t *testing.T) {
			full := o.name + "-" + n.hostname
			before := metricsOf(t, agent)
			n.drop(t, o.name, o.manifest)
			waitFor(t, 60*time.Second, full+" Ready", func() bool { return n.kubeletPods(t)[full].ready() })
			var view timeline.PodView
			// The volumes stage is decided once the CRI's ends are final
			// (the poll interval and a second after the sandbox request),
			// which may be after the node total.
			waitFor(t, 60*time.Second, "the pod's agent to report "+full+" started", func() bool {
				p, ok := podsOf(t, agent)[full]
				view = p
				_, started := p.Stages["node"]
				_, volumes := p.Stages["volumes"]
				return ok && started && volumes
			})
			checkReported(t, n, agent, full, view, before)
		})
	}

	// The state file, on the host, through the state hostPath (written
	// every 10s).
	waitFor(t, 30*time.Second, "the agent's state file on the host", func() bool {
		_, err := os.Stat(filepath.Join(stateDir, path.Base(flagValue(t, c, "--state.file"))))
		return err == nil
	})

	n.remove(t, pod.Name)
	waitFor(t, 60*time.Second, name+" gone", func() bool {
		_, inKubelet := n.kubeletPods(t)[name]
		out := run(t, n.env["STACK_CRICTL"], "--runtime-endpoint", n.env["STACK_CRI_ENDPOINT"], "pods", "-q", "--name", name, "--state", "ready")
		_, code := get(agent + "/healthz")
		return !inKubelet && out == "" && code == 0
	})
}

// buildImage builds the image with scripts/build-image and pushes it to the
// stack's registry; it returns the pushed reference and its digest.
func buildImage(t *testing.T) (string, string) {
	t.Helper()
	start := time.Now()
	cmd := exec.Command(filepath.Join(repoRoot, "scripts", "build-image"), "--tag", "e2e")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("scripts/build-image: %v\n%s%s", err, tail(stderr.String(), 3000), out)
	}
	t.Logf("scripts/build-image in %.1fs:\n%s%s", time.Since(start).Seconds(), stderr.String(), out)
	m := regexp.MustCompile(`(?m)^pushed:\s+(\S+)@(sha256:[0-9a-f]{64})`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("scripts/build-image printed no pushed reference:\n%s", out)
	}
	return string(m[1]), string(m[2])
}

// staticPod turns the DaemonSet's pod template into a static pod for the
// stack's standalone kubelet, with the image replaced; it returns the pod
// and what was changed besides the image, and why. It checks that undoing
// those changes gives the template's spec back: nothing else differs.
func staticPod(t *testing.T, n *node, image string) (*corev1.Pod, []string) {
	t.Helper()
	ds := daemonSet(t)
	tmpl := ds.Spec.Template
	pod := &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: ds.Name, Namespace: ds.Namespace, Labels: tmpl.Labels, Annotations: tmpl.Annotations},
		Spec:       *tmpl.Spec.DeepCopy(),
	}
	if len(pod.Spec.Containers) != 1 {
		t.Fatalf("the template has %d containers, want 1", len(pod.Spec.Containers))
	}
	c := &pod.Spec.Containers[0]
	var changes []string
	changes = append(changes, fmt.Sprintf("image %s -> %s: the image scripts/build-image pushed to the stack's registry (in a cluster, kustomization.yaml's images: entry sets it)", c.Image, image))
	c.Image = image

	// The kubelet refuses a static pod that references an API object, a
	// service account included ("static pods may not reference
	// serviceaccounts"), with or without an API server. The pod mounts no
	// token either way (automountServiceAccountToken: false).
	sa := pod.Spec.ServiceAccountName
	if sa != "" {
		changes = append(changes, fmt.Sprintf("serviceAccountName %q -> unset: the kubelet refuses static pods that reference a service account (none of its token is mounted anyway)", sa))
		pod.Spec.ServiceAccountName = ""
	}

	// The stack has no CNI plugin configured (containerd's NetworkReady is
	// false), so only host-network sandboxes start. The agent's :9857 and
	// the probes (to the pod IP, then the node's) are on the host's
	// network instead of the pod's.
	hostNet := pod.Spec.HostNetwork
	if !hostNet {
		changes = append(changes, "hostNetwork false -> true: the stack has no CNI network, only host-network pods start; the agent's port and the probes are on the node's network")
		pod.Spec.HostNetwork = true
	}

	// The stack's containerd keeps its socket in its own run directory,
	// never in /run/containerd: the runtime-socket volume's host path points
	// there. Its mountPath, and so --cri.endpoint, stay as they are.
	endpoint := strings.TrimPrefix(flagValue(t, *c, "--cri.endpoint"), "unix://")
	sock := volumeFor(t, pod, path.Dir(endpoint))
	stackSock := n.env["STACK_CRI_SOCK"]
	if path.Base(stackSock) != path.Base(endpoint) {
		t.Fatalf("the stack's socket %s and --cri.endpoint %s differ in name", stackSock, endpoint)
	}
	oldSockDir := sock.HostPath.Path
	changes = append(changes, fmt.Sprintf("volume %s: hostPath %s -> %s: the stack's containerd has its socket there; mounted at %s as in the manifest", sock.Name, oldSockDir, path.Dir(stackSock), path.Dir(endpoint)))
	sock.HostPath.Path = path.Dir(stackSock)

	// Left as they are: priorityClassName (the kubelet logs "Static pod has
	// priorityClassName and nil priority. Kubelet will not use
	// priorityClassName": priorities come from the API server's admission,
	// and a static pod counts as critical anyway), the tolerations, the
	// probes, the security context, resources, arguments, environment and
	// every other volume.
	//
	// Nothing else: undo the changes on a copy and compare.
	back := pod.Spec.DeepCopy()
	back.Containers[0].Image = tmpl.Spec.Containers[0].Image
	back.ServiceAccountName = sa
	back.HostNetwork = hostNet
	for i := range back.Volumes {
		if back.Volumes[i].Name == sock.Name {
			back.Volumes[i].HostPath.Path = oldSockDir
		}
	}
	if !apiequality.Semantic.DeepEqual(*back, tmpl.Spec) {
		t.Fatalf("the static pod differs from the template in more than the stated changes")
	}
	return pod, changes
}

// daemonSet decodes the DaemonSet of deploy/daemonset.yaml strictly.
func daemonSet(t *testing.T) *appsv1.DaemonSet {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "daemonset.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(b)))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			t.Fatal("deploy/daemonset.yaml has no DaemonSet")
		}
		if err != nil {
			t.Fatal(err)
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			t.Fatal(err)
		}
		if tm.APIVersion != "apps/v1" || tm.Kind != "DaemonSet" {
			continue
		}
		var ds appsv1.DaemonSet
		if err := yaml.UnmarshalStrict(doc, &ds); err != nil {
			t.Fatalf("deploy/daemonset.yaml: %v", err)
		}
		return &ds
	}
}

// flagValue is the value of --name=value in the container's arguments.
func flagValue(t *testing.T, c corev1.Container, name string) string {
	t.Helper()
	for _, a := range c.Args {
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v
		}
	}
	t.Fatalf("the container has no %s argument: %v", name, c.Args)
	return ""
}

// volumeFor is the hostPath volume mounted at dir in the pod's container.
func volumeFor(t *testing.T, pod *corev1.Pod, dir string) *corev1.Volume {
	t.Helper()
	for _, m := range pod.Spec.Containers[0].VolumeMounts {
		if m.MountPath != dir {
			continue
		}
		for i := range pod.Spec.Volumes {
			if v := &pod.Spec.Volumes[i]; v.Name == m.Name && v.HostPath != nil {
				return v
			}
		}
	}
	t.Fatalf("no hostPath volume is mounted at %s", dir)
	return nil
}

// checkContainerSecurity reads, from the runtime, what the kubelet made of
// the manifest's security context and mounts.
func checkContainerSecurity(t *testing.T, n *node, name string) {
	t.Helper()
	crictl := func(args ...string) string {
		return run(t, n.env["STACK_CRICTL"], append([]string{"--runtime-endpoint", n.env["STACK_CRI_ENDPOINT"]}, args...)...)
	}
	id := crictl("ps", "-q", "--name", "node-agent", "--label", "io.kubernetes.pod.name="+name)
	if id == "" || strings.Contains(id, "\n") {
		t.Fatalf("crictl ps for %s: %q", name, id)
	}
	var info struct {
		Info struct {
			RuntimeSpec struct {
				Process struct {
					User            struct{ UID, GID int }
					NoNewPrivileges bool
					Capabilities    map[string][]string
				}
				Root struct {
					Readonly bool
				}
				Mounts []struct {
					Destination, Source string
					Options             []string
				}
				Linux struct {
					Seccomp *struct{ DefaultAction string }
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(crictl("inspect", "-o", "json", id)), &info); err != nil {
		t.Fatal(err)
	}
	spec := info.Info.RuntimeSpec
	if spec.Process.User.UID != 0 || !spec.Process.NoNewPrivileges || !spec.Root.Readonly || spec.Linux.Seccomp == nil {
		t.Errorf("runtime spec: uid %d, no_new_privs %v, read-only root %v, seccomp %v", spec.Process.User.UID, spec.Process.NoNewPrivileges, spec.Root.Readonly, spec.Linux.Seccomp)
	}
	for set, caps := range spec.Process.Capabilities {
		if len(caps) != 0 {
			t.Errorf("runtime spec: %s capabilities %v, want none", set, caps)
		}
	}
	mounts := map[string][]string{}
	for _, m := range spec.Mounts {
		mounts[m.Destination] = append([]string{m.Source}, m.Options...)
	}
	t.Logf("the agent's host mounts: %v", func() []string {
		var s []string
		for _, d := range []string{"/var/log/journal", "/run/log/journal", "/etc/machine-id", "/run/containerd", "/var/lib/podstart"} {
			s = append(s, fmt.Sprintf("%s=%v", d, mounts[d]))
		}
		return s
	}())
	for _, d := range []string{"/var/log/journal", "/run/log/journal", "/etc/machine-id", "/run/containerd"} {
		o := mounts[d]
		if len(o) == 0 || !contains(o[1:], "ro") {
			t.Errorf("mount %s: %v, want it read-only", d, o)
		}
	}
	if o := mounts["/run/containerd"]; len(o) == 0 || !contains(o[1:], "rslave") {
		t.Errorf("mount /run/containerd: %v, want rslave (HostToContainer)", o)
	}
	if o := mounts["/var/lib/podstart"]; len(o) == 0 || contains(o[1:], "ro") {
		t.Errorf("mount /var/lib/podstart: %v, want it writable", o)
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func podsOf(t *testing.T, base string) map[string]timeline.PodView {
	t.Helper()
	n := &node{agent: base}
	return n.agentPods(t)
}

func metricsOf(t *testing.T, base string) map[string]float64 {
	t.Helper()
	n := &node{agent: base}
	return n.agentMetrics(t)
}

// exemplarRE matches an OpenMetrics bucket line with an exemplar.
var exemplarRE = regexp.MustCompile(`^(podstart_[a-z_]+)_bucket\{([^}]*)\} \S+ # \{([^}]*)\} (\S+)`)

type exemplar struct {
	family, series, pod, uid string
	value                    float64
}

// exemplars reads the agent's /metrics as OpenMetrics, which carries them.
func exemplars(t *testing.T, base string) []exemplar {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/metrics", nil)
	req.Header.Set("Accept", "application/openmetrics-text;version=1.0.0")
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/openmetrics-text") {
		t.Fatalf("/metrics answered %s to an OpenMetrics request", resp.Header.Get("Content-Type"))
	}
	label := func(s, name string) string {
		m := regexp.MustCompile(name + `="([^"]*)"`).FindStringSubmatch(s)
		if m == nil {
			return ""
		}
		return m[1]
	}
	var out []exemplar
	for _, line := range strings.Split(string(b), "\n") {
		if m := exemplarRE.FindStringSubmatch(line); m != nil {
			v, _ := strconv.ParseFloat(m[4], 64)
			out = append(out, exemplar{family: m[1], series: m[2], pod: label(m[3], "pod"), uid: label(m[3], "uid"), value: v})
		}
	}
	return out
}

// checkReported compares what the pod's agent says of pod full with the
// kubelet, the CRI (crictl inspect), containerd's journal lines and the
// agent on the host, which reads the same node without the container.
func checkReported(t *testing.T, n *node, agent, full string, view timeline.PodView, before map[string]float64) {
	t.Helper()
	kp := n.kubeletPods(t)[full]
	if view.UID != kp.Metadata.UID || view.Namespace != "default" || len(view.Containers) == 0 {
		t.Errorf("%s: the pod's agent says uid %q ns %q with %d containers; the kubelet says uid %q", full, view.UID, view.Namespace, len(view.Containers), kp.Metadata.UID)
	}
	stages := []string{"sandbox", "node"}
	if len(kp.Spec.Volumes) > 0 {
		stages = append(stages, "volumes")
	}
	for _, st := range stages {
		if _, ok := view.Stages[st]; !ok {
			t.Errorf("%s: no %s stage in the pod's agent: %v", full, st, view.Stages)
		}
	}
	for _, f := range view.Failures {
		if f.Stage != "readiness" {
			t.Errorf("%s: a failure in the pod's agent: %+v", full, f)
		}
	}
	// The CRI's times, which only the runtime socket gives.
	for _, cv := range view.Containers {
		var v struct {
			Status struct{ CreatedAt, StartedAt time.Time }
		}
		out := run(t, n.env["STACK_CRICTL"], "--runtime-endpoint", n.env["STACK_CRI_ENDPOINT"], "inspect", "-o", "json", cv.ID)
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("crictl inspect %s: %v", cv.ID, err)
		}
		if got := cv.Intervals["container_start"]; !got.End.Equal(v.Status.StartedAt) || got.EndSource != "cri" {
			t.Errorf("%s/%s: started %s (%s), crictl says %s", full, cv.Name, got.End, got.EndSource, v.Status.StartedAt)
		}
	}
	// The pull, which only containerd's journal lines time.
	if cv, ok := container(view, "data"); ok {
		pulls := n.containerdPulls(t)[n.env["STACK_IMAGE_BIGDATA"]]
		if cv.Pull != "pulled" || cv.PullSeconds == nil || len(pulls) != 1 || !near(*cv.PullSeconds, pulls[0], 0.001) {
			t.Errorf("%s: pull %q %v s, containerd's lines say %v", full, cv.Pull, deref(cv.PullSeconds), pulls)
		}
	}
	// The same view as the agent on the host, once both have seen the
	// same lines (each decides on its own clock), the volumes stage
	// included: the timeline decides it once the CRI's ends are final, so
	// it no longer depends on whether an agent read the kubelet's mount
	// lines before containerd's sandbox event (the pod's agent, with its
	// 200m CPU limit, read them tens of milliseconds late in some runs).
	var hj, vj []byte
	deadline := time.Now().Add(30 * time.Second)
	for {
		host, mine := n.agentPods(t)[full], podsOf(t, agent)[full]
		host.LastSeen, mine.LastSeen = time.Time{}, time.Time{}
		hj, _ = json.Marshal(host)
		vj, _ = json.Marshal(mine)
		if bytes.Equal(hj, vj) || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if !bytes.Equal(hj, vj) {
		t.Errorf("%s: the pod's agent and the host's differ:\npod:  %s\nhost: %s", full, vj, hj)
	}
	// Metrics: one more container start per container, and exemplars
	// naming the pod.
	after := metricsOf(t, agent)
	key := `podstart_stage_duration_seconds_count{stage="container_start"}`
	if d := after[key] - before[key]; d < float64(len(view.Containers)) {
		t.Errorf("%s: %s went up by %v for %d containers", full, key, d, len(view.Containers))
	}
	key = `podstart_pod_startup_duration_seconds_count{scope="node"}`
	if d := after[key] - before[key]; d < 1 {
		t.Errorf("%s: %s went up by %v", full, key, d)
	}
	named := map[string]bool{}
	for _, e := range exemplars(t, agent) {
		if e.pod == "default/"+full {
			if e.uid != kp.Metadata.UID {
				t.Errorf("%s: exemplar on %s{%s} has uid %q, the kubelet says %q", full, e.family, e.series, e.uid, kp.Metadata.UID)
			}
			named[e.family] = true
		}
	}
	if !named["podstart_stage_duration_seconds"] || !named["podstart_pod_startup_duration_seconds"] {
		t.Errorf("%s: exemplars naming it on %v, want the stage and startup histograms", full, named)
	}
	t.Logf("%s: the pod's agent: stages %v, exemplars on %v", full, view.Stages, named)
}

// checkDownUndoes runs test/stack/down and checks that nothing of the
// static pod is left on the host: the state hostPath, the stack's mounts.
func checkDownUndoes(t *testing.T, stackRoot, stateDir string) {
	out, err := exec.Command(filepath.Join(stackDir, "down")).CombinedOutput()
	if err != nil {
		t.Errorf("test/stack/down: %v\n%s", err, out)
		return
	}
	if stateDir != "" {
		if _, err := os.Stat(stateDir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("after down, %s is still there (%v)", stateDir, err)
		}
	}
	if stackRoot == "" {
		return
	}
	mi, _ := os.ReadFile("/proc/self/mountinfo")
	if bytes.Contains(mi, []byte(" "+stackRoot)) {
		t.Errorf("after down, mounts under %s are left", stackRoot)
	}
	if _, err := os.Stat(stackRoot); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after down, %s is still there (%v)", stackRoot, err)
	}
}
