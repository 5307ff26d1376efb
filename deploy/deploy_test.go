// Package deploy_test checks the manifests in deploy/ without a cluster: every
// YAML document decodes strictly into its typed Kubernetes object, the
// DaemonSet has the scheduling, mounts, privileges and probes the agent needs,
// kustomization.yaml lists every file and builds (with kustomize's own library,
// as `kubectl apply -k` does), and the agent's arguments are flags node-agent
// knows.
package deploy_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/klog/v2"
	"sigs.k8s.io/json"
	"sigs.k8s.io/kustomize/api/krusty"
	kustomizetypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

const (
	namespace   = "podstart"
	image       = "podstart/node-agent:latest"
	metricsPort = 9857
	stateDir    = "/var/lib/podstart"
	stateFile   = "/var/lib/podstart/state.json"
	criEndpoint = "unix:///run/containerd/containerd.sock"
)

// manifests are the objects of deploy/, one of each kind.
type manifests struct {
	namespace      *corev1.Namespace
	serviceAccount *corev1.ServiceAccount
	daemonSet      *appsv1.DaemonSet
	service        *corev1.Service
	podMonitor     *monitoringv1.PodMonitor
	kustomization  *kustomizetypes.Kustomization
	files          []string // the YAML files read, relative to deploy/
}

// yamlFiles lists the YAML files under dir, recursively, except those under
// monitoring/ (another part of the project's), relative to dir with slashes.
func yamlFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == "monitoring" {
				return fs.SkipDir
			}
			return nil
		}
		if ext := path.Ext(rel); ext == ".yaml" || ext == ".yml" {
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
}

// documents splits a multi-document YAML stream as kubectl does, dropping
// documents that hold nothing but comments.
func documents(data []byte) ([][]byte, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs [][]byte
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		j, err := yaml.YAMLToJSONStrict(doc)
		if err != nil {
			return nil, err
		}
		if s := strings.TrimSpace(string(j)); s == "null" || s == "" {
			continue
		}
		docs = append(docs, doc)
	}
}

// decodeStrict decodes one YAML document into v and fails on duplicate keys,
// on any field v's type does not have, on a field whose case differs from its
// JSON name, and on a value of the wrong type: the checks the API server makes
// with fieldValidation=Strict.
func decodeStrict(doc []byte, v any) error {
	j, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return err
	}
	strict, err := json.UnmarshalStrict(j, v, json.DisallowUnknownFields, json.DisallowDuplicateFields)
	if err != nil {
		return err
	}
	return errors.Join(strict...)
}

// load reads and strictly decodes every document of every YAML file in dir.
func load(t *testing.T, dir string) *manifests {
	t.Helper()
	m := &manifests{files: yamlFiles(t, dir)}
	for _, f := range m.files {
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f)))
		if err != nil {
			t.Fatal(err)
		}
		docs, err := documents(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(docs) == 0 {
			t.Errorf("%s: no YAML document", f)
		}
		for i, doc := range docs {
			if err := m.add(doc); err != nil {
				t.Errorf("%s, document %d: %v", f, i+1, err)
			}
		}
	}
	return m
}

// add decodes one document strictly into the typed object its apiVersion and
// kind name.
func (m *manifests) add(doc []byte) error {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return err
	}
	var dst any
	switch tm.APIVersion + " " + tm.Kind {
	case "v1 Namespace":
		dst = setOnce(&m.namespace)
	case "v1 ServiceAccount":
		dst = setOnce(&m.serviceAccount)
	case "apps/v1 DaemonSet":
		dst = setOnce(&m.daemonSet)
	case "v1 Service":
		dst = setOnce(&m.service)
	case "monitoring.coreos.com/v1 PodMonitor":
		dst = setOnce(&m.podMonitor)
	case "kustomize.config.k8s.io/v1beta1 Kustomization":
		dst = setOnce(&m.kustomization)
	default:
		return errors.New("unexpected object " + tm.APIVersion + " " + tm.Kind)
	}
	if dst == nil {
		return errors.New("a second " + tm.Kind)
	}
	return decodeStrict(doc, dst)
}

// setOnce allocates *p and returns it, or returns nil if *p is already set.
func setOnce[T any](p **T) any {
	if *p != nil {
		return nil
	}
	*p = new(T)
	return *p
}

// loadAll loads deploy/ and fails unless every expected object is there.
func loadAll(t *testing.T) *manifests {
	t.Helper()
	m := load(t, ".")
	if m.namespace == nil || m.serviceAccount == nil || m.daemonSet == nil || m.service == nil ||
		m.podMonitor == nil || m.kustomization == nil {
		t.Fatalf("deploy/ must hold a Namespace, a ServiceAccount, a DaemonSet, a Service, a PodMonitor and a Kustomization; got %+v", m)
	}
	return m
}

func container(t *testing.T, m *manifests) *corev1.Container {
	t.Helper()
	cs := m.daemonSet.Spec.Template.Spec.Containers
	if len(cs) != 1 {
		t.Fatalf("want one container, got %d", len(cs))
	}
	if n := len(m.daemonSet.Spec.Template.Spec.InitContainers); n != 0 {
		t.Fatalf("want no init container, got %d", n)
	}
	return &cs[0]
}

func TestDecodeIsStrict(t *testing.T) {
	for name, doc := range map[string]string{
		"unknown field":   "apiVersion: apps/v1\nkind: DaemonSet\nspec:\n  template:\n    spec:\n      tolerations:\n        - operator: Exists\n          tolerationSecond: 5\n",
		"duplicate key":   "apiVersion: v1\nkind: ServiceAccount\nautomountServiceAccountToken: false\nautomountServiceAccountToken: true\n",
		"case mismatch":   "apiVersion: v1\nkind: ServiceAccount\nautomountserviceaccounttoken: false\n",
		"wrong type":      "apiVersion: v1\nkind: Service\nspec:\n  ports:\n    - port: metrics\n",
		"bad quantity":    "apiVersion: apps/v1\nkind: DaemonSet\nspec:\n  template:\n    spec:\n      containers:\n        - resources:\n            limits:\n              memory: 128MB!\n",
		"unexpected kind": "apiVersion: v1\nkind: ConfigMap\n",
		"monitor field":   "apiVersion: monitoring.coreos.com/v1\nkind: PodMonitor\nspec:\n  podMetricsEndpoints:\n    - scrapeInterval: 30s\n",
	} {
		if err := new(manifests).add([]byte(doc)); err == nil {
			t.Errorf("%s: decoded without an error", name)
		}
	}
}

func TestEveryDocumentDecodesStrictly(t *testing.T) {
	m := loadAll(t)
	for _, obj := range []metav1.Object{m.namespace, m.serviceAccount, m.daemonSet, m.service, m.podMonitor} {
		for _, msg := range validation.IsDNS1123Label(obj.GetName()) {
			t.Errorf("name %q: %s", obj.GetName(), msg)
		}
		for k, v := range obj.GetLabels() {
			for _, msg := range append(validation.IsQualifiedName(k), validation.IsValidLabelValue(v)...) {
				t.Errorf("%s label %s=%s: %s", obj.GetName(), k, v, msg)
			}
		}
		if obj == metav1.Object(m.namespace) {
			continue
		}
		if obj.GetNamespace() != namespace {
			t.Errorf("%T %s is in namespace %q, want %q", obj, obj.GetName(), obj.GetNamespace(), namespace)
		}
	}
}

func TestNamespace(t *testing.T) {
	m := loadAll(t)
	if m.namespace.Name != namespace {
		t.Errorf("Namespace %q, want %q", m.namespace.Name, namespace)
	}
	// hostPath volumes are outside the baseline Pod Security level.
	if got := m.namespace.Labels["pod-security.kubernetes.io/enforce"]; got != "privileged" {
		t.Errorf("pod-security.kubernetes.io/enforce = %q, want privileged", got)
	}
}

func TestNoServiceAccountToken(t *testing.T) {
	m := loadAll(t)
	sa, pod := m.serviceAccount, m.daemonSet.Spec.Template.Spec
	if sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken {
		t.Error("ServiceAccount: automountServiceAccountToken must be false")
	}
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Error("pod spec: automountServiceAccountToken must be false")
	}
	if pod.ServiceAccountName != sa.Name {
		t.Errorf("pod runs as service account %q, want %q", pod.ServiceAccountName, sa.Name)
	}
	if len(sa.Secrets) != 0 || len(sa.ImagePullSecrets) != 0 {
		t.Error("ServiceAccount: no secrets wanted")
	}
}

func TestTolerateEveryTaint(t *testing.T) {
	m := loadAll(t)
	pod := m.daemonSet.Spec.Template.Spec
	var all bool
	for _, tol := range pod.Tolerations {
		if tol.TolerationSeconds != nil {
			t.Errorf("toleration %+v has tolerationSeconds: a NoExecute taint would evict the pod after it", tol)
		}
		if tol.Operator == corev1.TolerationOpExists && tol.Key == "" && tol.Effect == "" && tol.Value == "" {
			all = true
		}
	}
	if !all {
		t.Errorf("no toleration {operator: Exists} without key and effect: %+v", pod.Tolerations)
	}
	taints := []corev1.Taint{
		{Key: "node.kubernetes.io/not-ready", Effect: corev1.TaintEffectNoExecute},
		{Key: "node.kubernetes.io/unreachable", Effect: corev1.TaintEffectNoExecute},
		{Key: "node.kubernetes.io/not-ready", Effect: corev1.TaintEffectNoSchedule},
		{Key: "node.kubernetes.io/unschedulable", Effect: corev1.TaintEffectNoSchedule},
		{Key: "node.kubernetes.io/disk-pressure", Effect: corev1.TaintEffectNoSchedule},
		{Key: "node.kubernetes.io/memory-pressure", Effect: corev1.TaintEffectNoSchedule},
		{Key: "node.kubernetes.io/pid-pressure", Effect: corev1.TaintEffectNoSchedule},
		{Key: "node.kubernetes.io/network-unavailable", Effect: corev1.TaintEffectNoSchedule},
		{Key: "node.kubernetes.io/out-of-service", Value: "nodeshutdown", Effect: corev1.TaintEffectNoExecute},
		{Key: "node.cloudprovider.kubernetes.io/uninitialized", Value: "true", Effect: corev1.TaintEffectNoSchedule},
		{Key: "node-role.kubernetes.io/control-plane", Effect: corev1.TaintEffectNoSchedule},
		{Key: "dedicated", Value: "gpu", Effect: corev1.TaintEffectNoExecute},
		{Key: "acme.test/anything", Value: "x", Effect: corev1.TaintEffectPreferNoSchedule},
	}
	for _, taint := range taints {
		tolerated := false
		for _, tol := range pod.Tolerations {
			if tol.ToleratesTaint(klog.Background(), &taint, false) {
				tolerated = true
			}
		}
		if !tolerated {
			t.Errorf("taint %s is not tolerated", taint.ToString())
		}
	}
}

func TestScheduling(t *testing.T) {
	m := loadAll(t)
	ds := m.daemonSet
	pod := ds.Spec.Template.Spec
	if pod.PriorityClassName != "system-node-critical" {
		t.Errorf("priorityClassName %q, want system-node-critical", pod.PriorityClassName)
	}
	if pod.HostNetwork || pod.HostPID || pod.HostIPC {
		t.Error("hostNetwork, hostPID and hostIPC must be false")
	}
	if pod.NodeName != "" || pod.NodeSelector != nil || pod.Affinity != nil {
		t.Error("the DaemonSet must run on every node: no nodeName, nodeSelector or affinity")
	}
	u := ds.Spec.UpdateStrategy
	want := intstr.FromString("10%")
	if u.Type != appsv1.RollingUpdateDaemonSetStrategyType || u.RollingUpdate == nil ||
		u.RollingUpdate.MaxUnavailable == nil || *u.RollingUpdate.MaxUnavailable != want {
		t.Errorf("updateStrategy %+v, want RollingUpdate with maxUnavailable 10%%", u)
	}
	if u.RollingUpdate != nil && u.RollingUpdate.MaxSurge != nil {
		t.Error("maxSurge must be unset: two agents on a node would both read it")
	}
	sel, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
	if err != nil {
		t.Fatal(err)
	}
	if sel.Empty() || !sel.Matches(labels.Set(ds.Spec.Template.Labels)) {
		t.Errorf("DaemonSet selector %v does not select its template's labels %v", sel, ds.Spec.Template.Labels)
	}
}

func TestContainer(t *testing.T) {
	m := loadAll(t)
	c := container(t, m)
	if c.Image != image {
		t.Errorf("image %q, want %q", c.Image, image)
	}
	if c.ImagePullPolicy != corev1.PullIfNotPresent {
		t.Errorf("imagePullPolicy %q, want IfNotPresent", c.ImagePullPolicy)
	}
	if len(c.Command) != 0 {
		t.Errorf("command %q: the image's entrypoint is node-agent", c.Command)
	}
	wantArgs := map[string]string{
		"--cri.endpoint":       criEndpoint,
		"--web.listen-address": ":9857",
		"--state.file":         stateFile,
	}
	got := map[string]string{}
	for _, a := range c.Args {
		k, v, ok := strings.Cut(a, "=")
		if !ok || !strings.HasPrefix(k, "--") {
			t.Errorf("argument %q: want --flag=value", a)
			continue
		}
		if _, dup := got[k]; dup {
			t.Errorf("argument %s given twice", k)
		}
		got[k] = v
	}
	for k, v := range wantArgs {
		if got[k] != v {
			t.Errorf("%s=%q, want %q", k, got[k], v)
		}
	}
	if v, ok := got["--journal.path"]; ok {
		t.Errorf("--journal.path=%q: leave it at the default, the host's journal directories mounted at their own paths", v)
	}
	var nodeName bool
	for _, e := range c.Env {
		if e.Name == "NODE_NAME" {
			nodeName = e.Value == "" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil &&
				e.ValueFrom.FieldRef.FieldPath == "spec.nodeName"
		}
	}
	if !nodeName {
		t.Errorf("no NODE_NAME from fieldRef spec.nodeName in %+v", c.Env)
	}
	if len(c.Ports) != 1 || c.Ports[0].Name != "metrics" || c.Ports[0].ContainerPort != metricsPort ||
		(c.Ports[0].Protocol != "" && c.Ports[0].Protocol != corev1.ProtocolTCP) || c.Ports[0].HostPort != 0 {
		t.Errorf("ports %+v, want one TCP port metrics %d and no hostPort", c.Ports, metricsPort)
	}
}

func TestResources(t *testing.T) {
	m := loadAll(t)
	r := container(t, m).Resources
	check := func(what string, list corev1.ResourceList, name corev1.ResourceName, want string) {
		t.Helper()
		q, ok := list[name]
		if !ok || q.Cmp(resource.MustParse(want)) != 0 {
			t.Errorf("%s %s = %v, want %s", what, name, q.String(), want)
		}
	}
	check("requests", r.Requests, corev1.ResourceCPU, "10m")
	check("requests", r.Requests, corev1.ResourceMemory, "32Mi")
	check("limits", r.Limits, corev1.ResourceMemory, "128Mi")
	if q, ok := r.Limits[corev1.ResourceCPU]; ok && q.Cmp(resource.MustParse("200m")) != 0 {
		t.Errorf("limits cpu = %s, want none or 200m", q.String())
	}
	if len(r.Requests) != 2 || len(r.Limits) > 2 {
		t.Errorf("only cpu and memory wanted: %+v", r)
	}
}

func TestSecurityContext(t *testing.T) {
	m := loadAll(t)
	c := container(t, m)
	sc := c.SecurityContext
	if sc == nil {
		t.Fatal("no securityContext")
	}
	isTrue := func(b *bool) bool { return b != nil && *b }
	isFalse := func(b *bool) bool { return b != nil && !*b }
	if !isTrue(sc.ReadOnlyRootFilesystem) {
		t.Error("readOnlyRootFilesystem must be true")
	}
	if !isFalse(sc.AllowPrivilegeEscalation) {
		t.Error("allowPrivilegeEscalation must be false")
	}
	if sc.Privileged != nil && *sc.Privileged {
		t.Error("privileged must not be true")
	}
	if sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) != 0 {
		t.Errorf("capabilities %+v, want drop [ALL] and nothing added", sc.Capabilities)
	}
	if sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("seccompProfile %+v, want RuntimeDefault", sc.SeccompProfile)
	}
	if sc.RunAsUser == nil || *sc.RunAsUser != 0 {
		t.Error("runAsUser must be 0: the journal and the CRI socket are readable by root (see README.md)")
	}
	if isTrue(sc.RunAsNonRoot) {
		t.Error("runAsNonRoot contradicts runAsUser 0")
	}
	if psc := m.daemonSet.Spec.Template.Spec.SecurityContext; psc != nil {
		if psc.RunAsUser != nil && *psc.RunAsUser != 0 || isTrue(psc.RunAsNonRoot) {
			t.Errorf("the pod's securityContext %+v contradicts runAsUser 0", psc)
		}
	}
	if isFalse(m.daemonSet.Spec.Template.Spec.HostUsers) {
		t.Error("hostUsers false would map uid 0 to an unprivileged host uid that cannot read the journal")
	}
}

func TestVolumes(t *testing.T) {
	m := loadAll(t)
	c := container(t, m)
	volumes := map[string]corev1.Volume{}
	for _, v := range m.daemonSet.Spec.Template.Spec.Volumes {
		volumes[v.Name] = v
	}
	type want struct {
		hostPath string
		typ      corev1.HostPathType // "" for any
		readOnly bool
	}
	wants := map[string]want{ // by mountPath
		"/var/log/journal": {"/var/log/journal", "", true},
		"/run/log/journal": {"/run/log/journal", "", true},
		"/etc/machine-id":  {"/etc/machine-id", corev1.HostPathFile, true},
		"/run/containerd":  {"/run/containerd", "", true},
		stateDir:           {stateDir, corev1.HostPathDirectoryOrCreate, false},
	}
	mounted := map[string]bool{}
	for _, vm := range c.VolumeMounts {
		v, ok := volumes[vm.Name]
		if !ok {
			t.Errorf("mount %s: no volume %q", vm.MountPath, vm.Name)
			continue
		}
		mounted[vm.Name] = true
		w, ok := wants[vm.MountPath]
		if !ok {
			t.Errorf("unexpected mount %s", vm.MountPath)
			continue
		}
		delete(wants, vm.MountPath)
		if v.HostPath == nil {
			t.Errorf("mount %s: volume %q is not a hostPath", vm.MountPath, vm.Name)
			continue
		}
		if v.HostPath.Path != w.hostPath {
			t.Errorf("mount %s: hostPath %s, want %s", vm.MountPath, v.HostPath.Path, w.hostPath)
		}
		var typ corev1.HostPathType
		if v.HostPath.Type != nil {
			typ = *v.HostPath.Type
		}
		if w.typ != "" && typ != w.typ {
			t.Errorf("mount %s: hostPath type %q, want %q", vm.MountPath, typ, w.typ)
		}
		if vm.ReadOnly != w.readOnly {
			t.Errorf("mount %s: readOnly %v, want %v", vm.MountPath, vm.ReadOnly, w.readOnly)
		}
		if vm.SubPath != "" || vm.SubPathExpr != "" {
			t.Errorf("mount %s: no subPath wanted", vm.MountPath)
		}
		if p := vm.MountPropagation; p != nil && *p == corev1.MountPropagationBidirectional {
			t.Errorf("mount %s: Bidirectional propagation needs a privileged container", vm.MountPath)
		}
	}
	for mp := range wants {
		t.Errorf("%s is not mounted", mp)
	}
	for name := range volumes {
		if !mounted[name] {
			t.Errorf("volume %q is not mounted", name)
		}
	}
	// The runtime's socket directory holds the mounts of other containers'
	// root filesystems; the host's unmounts must reach this container.
	for _, vm := range c.VolumeMounts {
		if vm.MountPath == "/run/containerd" &&
			(vm.MountPropagation == nil || *vm.MountPropagation != corev1.MountPropagationHostToContainer) {
			t.Error("/run/containerd: mountPropagation must be HostToContainer")
		}
	}
	// The socket and the state file lie in the directories mounted for them.
	sock := strings.TrimPrefix(criEndpoint, "unix://")
	if path.Dir(sock) != "/run/containerd" {
		t.Errorf("CRI socket %s is not in the mounted /run/containerd", sock)
	}
	if path.Dir(stateFile) != stateDir {
		t.Errorf("state file %s is not in the mounted %s", stateFile, stateDir)
	}
}

func TestProbes(t *testing.T) {
	m := loadAll(t)
	c := container(t, m)
	for _, p := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{
		{"livenessProbe", c.LivenessProbe, "/healthz"},
		{"readinessProbe", c.ReadinessProbe, "/readyz"},
	} {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("%s: want an httpGet probe", p.name)
			continue
		}
		g := p.probe.HTTPGet
		if g.Path != p.path {
			t.Errorf("%s: path %q, want %q", p.name, g.Path, p.path)
		}
		if g.Port != intstr.FromString("metrics") && g.Port != intstr.FromInt32(metricsPort) {
			t.Errorf("%s: port %s, want metrics (%d)", p.name, g.Port.String(), metricsPort)
		}
		if g.Scheme != "" && g.Scheme != corev1.URISchemeHTTP {
			t.Errorf("%s: scheme %s, want HTTP", p.name, g.Scheme)
		}
		if p.probe.PeriodSeconds < 5 || p.probe.TimeoutSeconds < 1 ||
			p.probe.TimeoutSeconds >= p.probe.PeriodSeconds || p.probe.FailureThreshold < 2 {
			t.Errorf("%s: period %ds, timeout %ds, failureThreshold %d: want a period of at least 5s, a timeout under it and at least 2 failures",
				p.name, p.probe.PeriodSeconds, p.probe.TimeoutSeconds, p.probe.FailureThreshold)
		}
	}
	if lp := c.LivenessProbe; lp != nil && lp.PeriodSeconds*lp.FailureThreshold < 30 {
		t.Error("livenessProbe: a restart after less than 30s of failures is too eager")
	}
}

func TestService(t *testing.T) {
	m := loadAll(t)
	s := m.service
	if s.Name != "podstart" {
		t.Errorf("Service %q, want podstart", s.Name)
	}
	if s.Spec.ClusterIP != corev1.ClusterIPNone {
		t.Errorf("clusterIP %q, want None (headless)", s.Spec.ClusterIP)
	}
	if s.Spec.Type != "" && s.Spec.Type != corev1.ServiceTypeClusterIP {
		t.Errorf("type %s, want ClusterIP", s.Spec.Type)
	}
	if len(s.Spec.Selector) == 0 || !labels.SelectorFromSet(s.Spec.Selector).Matches(labels.Set(m.daemonSet.Spec.Template.Labels)) {
		t.Errorf("selector %v does not select the DaemonSet's pods %v", s.Spec.Selector, m.daemonSet.Spec.Template.Labels)
	}
	if len(s.Spec.Ports) != 1 {
		t.Fatalf("ports %+v, want one", s.Spec.Ports)
	}
	p := s.Spec.Ports[0]
	if p.Name != "metrics" || p.Port != metricsPort ||
		(p.TargetPort != intstr.FromString("metrics") && p.TargetPort != intstr.FromInt32(metricsPort)) ||
		(p.Protocol != "" && p.Protocol != corev1.ProtocolTCP) {
		t.Errorf("port %+v, want metrics %d to the pods' metrics port", p, metricsPort)
	}
}

func TestPodMonitor(t *testing.T) {
	m := loadAll(t)
	pm := m.podMonitor
	sel, err := metav1.LabelSelectorAsSelector(&pm.Spec.Selector)
	if err != nil {
		t.Fatal(err)
	}
	if sel.Empty() || !sel.Matches(labels.Set(m.daemonSet.Spec.Template.Labels)) {
		t.Errorf("selector %v does not select the DaemonSet's pods", sel)
	}
	if ns := pm.Spec.NamespaceSelector; !ns.Any && len(ns.MatchNames) > 0 && !slices.Contains(ns.MatchNames, namespace) {
		t.Errorf("namespaceSelector %+v leaves out %s", ns, namespace)
	}
	eps := pm.Spec.PodMetricsEndpoints
	if len(eps) != 1 {
		t.Fatalf("podMetricsEndpoints %+v, want one", eps)
	}
	ep := eps[0]
	if ep.Port == nil || *ep.Port != "metrics" {
		t.Errorf("port %v, want metrics", ep.Port)
	}
	if ep.Path != "/metrics" {
		t.Errorf("path %q, want /metrics", ep.Path)
	}
	if ep.Interval != "30s" {
		t.Errorf("interval %q, want 30s", ep.Interval)
	}
}

func TestKustomizationListsEveryFile(t *testing.T) {
	m := loadAll(t)
	k := m.kustomization
	if k.Namespace != namespace {
		t.Errorf("namespace %q, want %q", k.Namespace, namespace)
	}
	var want []string
	for _, f := range m.files {
		if f != "kustomization.yaml" {
			want = append(want, f)
		}
	}
	var got []string
	for _, r := range k.Resources {
		if strings.HasPrefix(r, "monitoring/") { // another part's files
			continue
		}
		got = append(got, r)
	}
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Errorf("resources %q, want every YAML file of deploy/: %q", got, want)
	}
	if len(k.Images) != 1 || k.Images[0].Name != "podstart/node-agent" {
		t.Errorf("images %+v, want one entry for podstart/node-agent", k.Images)
	}
}

// TestKustomizeBuild builds deploy/ with the kustomize library kubectl embeds
// for `kubectl apply -k`, and checks that it yields the objects of the files,
// unchanged.
func TestKustomizeBuild(t *testing.T) {
	m := loadAll(t)
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	abs, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	rm, err := k.Run(filesys.MakeFsOnDisk(), abs)
	if err != nil {
		t.Fatalf("kustomize build deploy/: %v", err)
	}
	out, err := rm.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	docs, err := documents(out)
	if err != nil {
		t.Fatal(err)
	}
	monitoring := slices.ContainsFunc(m.kustomization.Resources, func(r string) bool { return strings.HasPrefix(r, "monitoring/") })
	built := new(manifests)
	for _, doc := range docs {
		if err := built.add(doc); err != nil {
			if monitoring && strings.HasPrefix(err.Error(), "unexpected object") {
				continue // from monitoring/, which its own tests check
			}
			t.Errorf("built object: %v\n%s", err, doc)
		}
	}
	for _, pair := range []struct {
		name        string
		src, result any
	}{
		{"Namespace", m.namespace, built.namespace},
		{"ServiceAccount", m.serviceAccount, built.serviceAccount},
		{"DaemonSet", m.daemonSet, built.daemonSet},
		{"Service", m.service, built.service},
		{"PodMonitor", m.podMonitor, built.podMonitor},
	} {
		if !apiequality.Semantic.DeepEqual(pair.src, pair.result) {
			t.Errorf("%s: kustomize build changed it:\n%s", pair.name, docsByKind(docs, pair.name))
		}
	}
}

func docsByKind(docs [][]byte, kind string) string {
	for _, d := range docs {
		var tm metav1.TypeMeta
		if yaml.Unmarshal(d, &tm) == nil && tm.Kind == kind {
			return string(d)
		}
	}
	return "(missing)"
}

// TestArgsAreAgentFlags checks every argument against `node-agent serve
// --help` of the agent built from this tree.
func TestArgsAreAgentFlags(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build node-agent: %v", err)
	}
	m := loadAll(t)
	c := container(t, m)
	bin := filepath.Join(t.TempDir(), "node-agent")
	build := exec.Command(goBin, "build", "-o", bin, "../cmd/node-agent")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/node-agent: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "serve", "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("node-agent serve --help: %v\n%s", err, out)
	}
	help := string(out)
	for _, a := range c.Args {
		flag, _, _ := strings.Cut(a, "=")
		if !strings.Contains(help, " "+flag+"=") {
			t.Errorf("%s is not a flag of node-agent serve", flag)
		}
	}
	// The state file's default is the mounted path; the argument only makes it
	// explicit.
	if !strings.Contains(help, `--state.file="`+stateFile+`"`) {
		t.Errorf("node-agent's --state.file default is not %s any more", stateFile)
	}
}
