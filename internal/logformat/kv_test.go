package logformat

import (
	"strings"
	"testing"
)

// The key/value parts below are cut from real lines (the quoted message
// before them removed): "corpus N" is line N of testdata/kubelet-lines.jsonl,
// "realnode" ../shared/recordings/realnode-basic/journal.json.gz.

func kvMap(kvs []kv) map[string]kv {
	m := map[string]kv{}
	for _, p := range kvs {
		m[p.key] = p
	}
	return m
}

func TestParseKVsNestedQuotes(t *testing.T) {
	// corpus 128: the error quotes the kubelet's error, which quotes
	// format.Pod, which the CRI error quotes again: \\\" is three levels.
	line := `err="failed to \"CreatePodSandbox\" for \"etcd-host-1_kube-system(a64af1489ea2e74ef941d04c31cd9473)\" with CreatePodSandboxError: \"Failed to create sandbox for pod \\\"etcd-host-1_kube-system(a64af1489ea2e74ef941d04c31cd9473)\\\": rpc error: code = Unknown desc = failed to create containerd task: failed to create shim task: failed to mount rootfs component &{overlay overlay [index=off workdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/83/work upperdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/83/fs lowerdir=/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/9/fs]}: invalid argument: unknown\"" pod="kube-system/etcd-host-1" podUID=a64af1489ea2e74ef941d04c31cd9473`
	kvs, ok := parseKVs(line, nil)
	if !ok || len(kvs) != 3 {
		t.Fatalf("ok=%v %d pairs: %+v", ok, len(kvs), kvs)
	}
	m := kvMap(kvs)
	errv := m["err"].val
	if !strings.HasPrefix(errv, `failed to "CreatePodSandbox" for "etcd-host-1_kube-system(a64af1489ea2e74ef941d04c31cd9473)" with CreatePodSandboxError: "Failed to create sandbox for pod \"etcd-host-1_kube-system(`) {
		t.Errorf("err level 1: %q", errv)
	}
	// Level 2: the reason's quoted message, as syncError reads it.
	i := strings.Index(errv, `CreatePodSandboxError: `)
	inner, _, ok := scanValue(errv[i+len(`CreatePodSandboxError: `):])
	if !ok || !strings.HasPrefix(inner, `Failed to create sandbox for pod "etcd-host-1_kube-system(a64af1489ea2e74ef941d04c31cd9473)": rpc error`) ||
		!strings.HasSuffix(inner, `invalid argument: unknown`) {
		t.Errorf("err level 2: %v %q", ok, inner)
	}
	if m["pod"].val != "kube-system/etcd-host-1" || m["podUID"].val != "a64af1489ea2e74ef941d04c31cd9473" {
		t.Errorf("pod %q podUID %q", m["pod"].val, m["podUID"].val)
	}

	// corpus 147: the CNI plugin's own quotes inside, three levels deep.
	line = `err="failed to \"CreatePodSandbox\" for \"samplepod_default(5fa13105-1bfb-4c6b-aee7-3437cfb50e25)\" with CreatePodSandboxError: \"Failed to create sandbox for pod \\\"samplepod_default(5fa13105-1bfb-4c6b-aee7-3437cfb50e25)\\\": rpc error: code = Unknown desc = failed to create pod network sandbox k8s_samplepod_default_5fa13105-1bfb-4c6b-aee7-3437cfb50e25_0(7517818bd8e85f07b551f749c7529be88b4e7daef0dd572d049aa636950c76c6): error adding pod default_samplepod to CNI network \\\"multus-cni-network\\\": plugin type=\\\"multus\\\" name=\\\"multus-cni-network\\\" failed (add): Multus: [default/samplepod/5fa13105-1bfb-4c6b-aee7-3437cfb50e25]: error loading k8s delegates k8s args: TryLoadPodDelegates: error in getting k8s network for pod: GetNetworkDelegates: failed getting the delegate: getKubernetesDelegate: cannot find a network-attachment-definition (bad-conf) in namespace (default): network-attachment-definitions.k8s.cni.cncf.io \\\"bad-conf\\\" not found\"" pod="default/samplepod" podUID="5fa13105-1bfb-4c6b-aee7-3437cfb50e25"`
	kvs, ok = parseKVs(line, nil)
	m = kvMap(kvs)
	if !ok || len(kvs) != 3 || m["podUID"].val != "5fa13105-1bfb-4c6b-aee7-3437cfb50e25" {
		t.Fatalf("corpus 147: ok=%v %+v", ok, kvs)
	}
	errv = m["err"].val
	inner, _, ok = scanValue(errv[strings.Index(errv, `CreatePodSandboxError: `)+len(`CreatePodSandboxError: `):])
	if !ok || !strings.Contains(inner, `CNI network "multus-cni-network": plugin type="multus"`) || !strings.HasSuffix(inner, `"bad-conf" not found`) {
		t.Errorf("corpus 147 level 2: %q", inner)
	}

	// corpus 158: a reflector name quoted inside a quoted value.
	kvs, ok = parseKVs(` logger="UnhandledError" reflector="object-\"kube-system\"/\"kube-proxy\"" type="*v1.ConfigMap"`, nil)
	m = kvMap(kvs)
	if !ok || m["reflector"].val != `object-"kube-system"/"kube-proxy"` || m["type"].val != "*v1.ConfigMap" || m["logger"].val != "UnhandledError" {
		t.Errorf("corpus 158: %v %+v", ok, kvs)
	}
}

func TestParseKVsBracketsAndStructs(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		want       map[string]string
	}{
		{"unquoted pod list (corpus 93)", ` source="api" pods=[mck-test/neal-0729-6-8686d45f8c-rgsr9]`,
			map[string]string{"source": "api", "pods": "[mck-test/neal-0729-6-8686d45f8c-rgsr9]"}},
		{"quoted pod list (corpus 23)", ` source="api" pods=["lws-e2e-thznm/lws-1"]`,
			map[string]string{"source": "api", "pods": `["lws-e2e-thznm/lws-1"]`}},
		{"bare IP list (corpus 119)", ` IPs=[10.244.2.2] pod="default/pod2"`,
			map[string]string{"IPs": "[10.244.2.2]", "pod": "default/pod2"}},
		{"quoted IP list then a bool (corpus 35)", ` pod="lws-e2e-thznm/lws-1" containerName="c" podIPs=["10.244.1.46"] path=true`,
			map[string]string{"pod": "lws-e2e-thznm/lws-1", "containerName": "c", "podIPs": `["10.244.1.46"]`, "path": "true"}},
		{"&{…} with spaces (corpus 3)", ` pod="kube-system/kube-multus-ds-kk2r8" event=&{ID:7eaba53e-63d2-4906-9a16-ff315c3337fd Type:ContainerStarted Data:d08bfba7963c51291ff456fc9639ab91efe1ee5c716137335895e9744eb746ff}`,
			map[string]string{"pod": "kube-system/kube-multus-ds-kk2r8", "event": "&{ID:7eaba53e-63d2-4906-9a16-ff315c3337fd Type:ContainerStarted Data:d08bfba7963c51291ff456fc9639ab91efe1ee5c716137335895e9744eb746ff}"}},
		{"JSON object then more keys (corpus 85)", ` containerName="liveness" containerStatusID={"Type":"containerd","ID":"05657a9c673d612aedd955a65136ccca36b82ba987831de7844cdc0238f1d707"} pod="default/liveness-exec" containerMessage="Container liveness failed liveness probe, will be restarted"`,
			map[string]string{"containerName": "liveness", "containerStatusID": `{"Type":"containerd","ID":"05657a9c673d612aedd955a65136ccca36b82ba987831de7844cdc0238f1d707"}`, "pod": "default/liveness-exec", "containerMessage": "Container liveness failed liveness probe, will be restarted"}},
		{"JSON with brackets and braces in strings (corpus 28, cut)", ` pod="lws-e2e-thznm/lws-1" statusVersion=1 status={"phase":"Pending","conditions":[{"type":"Ready","message":"containers with unready status: [c]"}],"qosClass":"Burstable"}`,
			map[string]string{"pod": "lws-e2e-thznm/lws-1", "statusVersion": "1", "status": `{"phase":"Pending","conditions":[{"type":"Ready","message":"containers with unready status: [c]"}],"qosClass":"Burstable"}`}},
		{"empty object (corpus 186)", ` URL="http://127.0.0.1:33531" header={}`, map[string]string{"URL": "http://127.0.0.1:33531", "header": "{}"}},
		{"pods=[] (realnode)", ` source="file" pods=[]`, map[string]string{"source": "file", "pods": "[]"}},
		{"key with a dot (corpus 8)", ` podStartSLOduration=-9.223372021589586e+09 pod.CreationTimestamp="2023-05-02 08:55:55 +0000 UTC"`,
			map[string]string{"podStartSLOduration": "-9.223372021589586e+09", "pod.CreationTimestamp": "2023-05-02 08:55:55 +0000 UTC"}},
		{"<nil> is a bare word, not a multi-line value (corpus 188 text)", ` err=<nil> x=1`, map[string]string{"err": "<nil>", "x": "1"}},
	} {
		kvs, ok := parseKVs(tc.line, nil)
		if !ok || len(kvs) != len(tc.want) {
			t.Errorf("%s: ok=%v %+v", tc.name, ok, kvs)
			continue
		}
		for _, p := range kvs {
			if tc.want[p.key] != p.val || p.cut {
				t.Errorf("%s: %s=%q (cut %v), want %q", tc.name, p.key, p.val, p.cut, tc.want[p.key])
			}
		}
	}
}

func TestParseKVsMultiline(t *testing.T) {
	// corpus 155–158 as one line, the way the Joiner hands it on: the
	// journal held four entries; journalctl showed the value's leading tab
	// as spaces, restored here as the tab klog writes.
	line := ` err=<` + "\n" +
		"\tfailed to list *v1.ConfigMap: configmaps \"kube-proxy\" is forbidden: User \"system:node:node01\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"kube-system\": no relationship found between node 'node01' and this object\n" +
		"\tRBAC: [clusterrole.rbac.authorization.k8s.io \"system:basic-user\" not found, clusterrole.rbac.authorization.k8s.io \"system:public-info-viewer\" not found, clusterrole.rbac.authorization.k8s.io \"system:discovery\" not found, clusterrole.rbac.authorization.k8s.io \"system:certificates.k8s.io:certificatesigningrequests:selfnodeclient\" not found]\n" +
		` > logger="UnhandledError" reflector="object-\"kube-system\"/\"kube-proxy\"" type="*v1.ConfigMap"`
	kvs, ok := parseKVs(line, nil)
	m := kvMap(kvs)
	if !ok || len(kvs) != 4 {
		t.Fatalf("ok=%v %+v", ok, kvs)
	}
	want := "failed to list *v1.ConfigMap: configmaps \"kube-proxy\" is forbidden: User \"system:node:node01\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"kube-system\": no relationship found between node 'node01' and this object\n" +
		"RBAC: [clusterrole.rbac.authorization.k8s.io \"system:basic-user\" not found, clusterrole.rbac.authorization.k8s.io \"system:public-info-viewer\" not found, clusterrole.rbac.authorization.k8s.io \"system:discovery\" not found, clusterrole.rbac.authorization.k8s.io \"system:certificates.k8s.io:certificatesigningrequests:selfnodeclient\" not found]"
	if m["err"].val != want || m["err"].cut {
		t.Errorf("err = %q", m["err"].val)
	}
	if m["logger"].val != "UnhandledError" || m["reflector"].val != `object-"kube-system"/"kube-proxy"` || m["type"].val != "*v1.ConfigMap" {
		t.Errorf("keys after ' >': %+v", kvs)
	}

	// Never closed (the entries after it were lost): the value runs to the
	// end and is marked cut.
	kvs, ok = parseKVs(" err=<\n\tfailed to list *v1.ConfigMap\n\tRBAC: [x]", nil)
	if ok || len(kvs) != 1 || kvs[0].val != "failed to list *v1.ConfigMap\nRBAC: [x]" || !kvs[0].cut {
		t.Errorf("unclosed: ok=%v %+v", ok, kvs)
	}

	// corpus 81: output=< at the end of the line, its lines not captured.
	kvs, ok = parseKVs(` probeType="Liveness" pod="default/liveness-exec" podUID="93e17ecc-ab55-461a-b526-29248d2554ad" containerName="liveness" probeResult="failure" output=<`, nil)
	m = kvMap(kvs)
	if ok || m["output"].val != "" || !m["output"].cut || m["containerName"].val != "liveness" || m["containerName"].cut {
		t.Errorf("corpus 81: ok=%v %+v", ok, kvs)
	}

	// realnode: the kubelet's configuration as the Joiner re-joins it (its
	// first and last lines, from journal.json.gz).
	kvs, ok = parseKVs(" config=<\n\taddress: 127.0.0.1\n\tapiVersion: kubelet.config.k8s.io/v1beta1\n\tvolumeStatsAggPeriod: 1m0s\n >", nil)
	if !ok || len(kvs) != 1 || kvs[0].val != "address: 127.0.0.1\napiVersion: kubelet.config.k8s.io/v1beta1\nvolumeStatsAggPeriod: 1m0s" {
		t.Errorf("realnode config: ok=%v %+v", ok, kvs)
	}
}

func TestParseKVsCut(t *testing.T) {
	// corpus 102: systemctl status cut the line at the terminal's width
	// inside a quoted value.
	kvs, ok := parseKVs(` err="rpc error: code = Unknown desc = failed to pull and unpack image \">`, nil)
	if ok || len(kvs) != 1 || !kvs[0].cut || kvs[0].val != `rpc error: code = Unknown desc = failed to pull and unpack image ">` {
		t.Errorf("corpus 102: ok=%v %+v", ok, kvs)
	}
	// corpus 17: the pod reference itself is cut; whole() refuses it.
	kvs, ok = parseKVs(` object="kube-system/>`, nil)
	rec := record{kvs: kvs}
	if ok || rec.get("object") != "kube-system/>" || rec.whole("object") != "" {
		t.Errorf("corpus 17: ok=%v %+v", ok, kvs)
	}
	// corpus 205: cut after a key, with no '='.
	kvs, ok = parseKVs(` pod="lab-b-arch/payments-api-6cbf8b48b6-j4gc4" podStartSLOduration=1.564990654 podStartE2EDuration="7.449842111s" totalImagesPullingTime="5.884851457s" totalInitContain`, nil)
	rec = record{kvs: kvs}
	if ok || len(kvs) != 4 || rec.whole("totalImagesPullingTime") != "5.884851457s" {
		t.Errorf("corpus 205: ok=%v %+v", ok, kvs)
	}
	// An unterminated bracket (corpus 104's struct dump cut by the pager,
	// given as a value).
	kvs, ok = parseKVs(` container=&Container{Name:webapp,Image:nginx-slim:0.8,Command:[],Args:[],WorkingDir:,Ports:[]Container>`, nil)
	if ok || len(kvs) != 1 || !kvs[0].cut {
		t.Errorf("cut struct: ok=%v %+v", ok, kvs)
	}
	// The tracker line of a Chinese blog post (kubelet 1.26), a word glued
	// to the last quote by the author's paste: the pairs before it stand.
	kvs, ok = parseKVs(` watchObservedRunningTime="2024-04-17 19:46:20.296279865 +0800 CST m=+465268.894723600"exit`, nil)
	if ok || len(kvs) != 1 || kvs[0].val != "2024-04-17 19:46:20.296279865 +0800 CST m=+465268.894723600" || kvs[0].cut {
		t.Errorf("glued word: ok=%v %+v", ok, kvs)
	}
	// An invalid escape in a closed string: decoded loosely, not cut.
	kvs, ok = parseKVs(` msg="a \q b" x=1`, nil)
	if ok || len(kvs) != 2 || kvs[0].val != `a \q b` || kvs[0].cut || kvs[1].val != "1" {
		t.Errorf("invalid escape: ok=%v %+v", ok, kvs)
	}
}
