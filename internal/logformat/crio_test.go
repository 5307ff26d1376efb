package logformat

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/podstart/podstart/internal/event"
)

// TestCRIOLines runs real CRI-O journal lines from public sources (the
// MESSAGE part; the source of each is given). CRI-O writes its time as
// `2006-01-02 15:04:05.999999999Z07:00`, newer builds as RFC 3339.
func TestCRIOLines(t *testing.T) {
	recv := mustTime(t, "2026-06-01T00:00:00Z")
	const (
		sb8250   = "e24892f993e7128e38039fcc4eaa3c5308bc8de63606321694410c60c97f0596"
		sb8074   = "a6874370a0af493ec80297a7642d67f218af1d1faab49426515ac0483f8df828"
		ctr5797  = "35fc612c9592356cde113b882feb2fd8e45c412b4a539c47ff530c1c9d616c6a"
		sb5797   = "d404c30ebda350dc75a7a109ef7c2f3d388d9dd3d699f3ec488d5bcd3b503db6"
		sbZooka  = "337b3f3c6d63749cd0091d92e825729e9f818f74c626d58fe72978d0c2ea3320"
		ctrZooka = "75ef25174d7d464246c9cb27d850db42604394b920e6f66b56a94ab3d9c5c983"
	)
	examplePod := event.PodRef{Namespace: "default", Name: "example-pod-2"}
	densityPod := event.PodRef{Namespace: "node-density-0", Name: "node-density-956"}
	tests := []struct {
		line string
		want event.Event // Time is the line's
	}{
		// cri-o/cri-o issue #8250 (CRI-O, 2024, journal in a zh_CN locale).
		{`time="2024-06-04 00:27:53.501046477+08:00" level=info msg="Running pod sandbox: default/example-pod-2/POD" id=4792f564-63a6-4d4c-8418-3a9ff3c8dee9 name=/runtime.v1.RuntimeService/RunPodSandbox`,
			event.Event{Kind: event.SandboxStart, Pod: examplePod}},
		{`time="2024-06-04 00:27:53.501099086+08:00" level=warning msg="Allowed annotations are specified for workload []"`,
			event.Event{Kind: event.Unrecognised}},
		{`time="2024-06-04 00:27:53.506090830+08:00" level=info msg="Adding pod default_example-pod-2 to CNI network \"crio\" (type=bridge)"`,
			event.Event{Kind: event.Unrecognised}},
		{`time="2024-06-04 00:29:28.046098922+08:00" level=info msg="Ran pod sandbox e24892f993e7128e38039fcc4eaa3c5308bc8de63606321694410c60c97f0596 with infra container: default/example-pod-2/POD" id=b8e28795-0a42-4b11-92ef-1117659ba10d name=/runtime.v1.RuntimeService/RunPodSandbox`,
			event.Event{Kind: event.SandboxReady, Pod: examplePod, SandboxID: sb8250}},
		{`time="2024-06-04 00:29:29.640719183+08:00" level=info msg="Stopping pod sandbox: e24892f993e7128e38039fcc4eaa3c5308bc8de63606321694410c60c97f0596" id=5c8e38cd-cebc-4584-ab41-9b0b45130e26 name=/runtime.v1.RuntimeService/StopPodSandbox`,
			event.Event{Kind: event.Unrecognised}},
		// cri-o/cri-o issue #5841 (CRI-O 1.20.7).
		{`time="2022-05-05 06:58:46.895169892+02:00" level=info msg="Pulled image: registry.internal/kube-apiserver@sha256:869214b9eba25ac983db6e98ce70eb445e74e958a1fbad665dacad1d90b8cd86" id=9d4ff6a9-42a4-4366-b55d-85bfeabe4b1d name=/runtime.v1alpha2.ImageService/PullImage`,
			event.Event{Kind: event.ImagePulled, Image: "registry.internal/kube-apiserver",
				ImageRef: "registry.internal/kube-apiserver@sha256:869214b9eba25ac983db6e98ce70eb445e74e958a1fbad665dacad1d90b8cd86"}},
		{`time="2022-05-05 06:58:46.911891776+02:00" level=info msg="Checking image status: registry.internal/kube-controller-manager:v1.20.15" id=c9b596ba-86a3-45c0-9d6c-742eab399388 name=/runtime.v1alpha2.ImageService/ImageStatus`,
			event.Event{Kind: event.Unrecognised}},
		{`time="2022-05-05 06:58:46.912231199+02:00" level=info msg="Image registry.internal/kube-controller-manager:v1.20.15 not found" id=c9b596ba-86a3-45c0-9d6c-742eab399388 name=/runtime.v1alpha2.ImageService/ImageStatus`,
			event.Event{Kind: event.Unrecognised}},
		{`time="2022-05-05 06:58:46.928773221+02:00" level=info msg="Pulling image: registry.internal/kube-controller-manager:v1.20.15" id=dec01177-932e-45ff-aaf0-db38acd432fc name=/runtime.v1alpha2.ImageService/PullImage`,
			event.Event{Kind: event.ImagePullStart, Image: "registry.internal/kube-controller-manager:v1.20.15"}},
		// openshift/openshift-docs PR #35283 (CRI-O on OpenShift 4.8).
		{`time="2021-08-05 10:33:21.594930907Z" level=info msg="Pulling image: quay.io/openshift-release-dev/ocp-release:4.8.4-ppc64le" id=abcd713b-d0e1-4844-ac1c-474c5b60c07c name=/runtime.v1alpha2.ImageService/PullImage`,
			event.Event{Kind: event.ImagePullStart, Image: "quay.io/openshift-release-dev/ocp-release:4.8.4-ppc64le"}},
		{`time="2021-08-05 10:33:21.597839071Z" level=info msg="Trying to access \"quay.io/openshift-release-dev/ocp-release:4.8.4-ppc64le\""`,
			event.Event{Kind: event.Unrecognised}},
		// cri-o/cri-o issue #8074 (CRI-O at debug level, with file=).
		{`time="2024-04-22 16:51:27.043930244Z" level=info msg="Ran pod sandbox a6874370a0af493ec80297a7642d67f218af1d1faab49426515ac0483f8df828 with infra container: redhat.test.crio/podsandbox1/POD" file="server/sandbox_run_linux.go:1052" id=bdc0dbec-ba81-4324-8a83-d75dc87d4f0f name=/runtime.v1.RuntimeService/RunPodSandbox`,
			event.Event{Kind: event.SandboxReady, Pod: event.PodRef{Namespace: "redhat.test.crio", Name: "podsandbox1"}, SandboxID: sb8074}},
		{`time="2024-04-22 16:51:27.044180492Z" level=debug msg="Response: &RunPodSandboxResponse{PodSandboxId:a6874370a0af493ec80297a7642d67f218af1d1faab49426515ac0483f8df828,}" file="otel-collector/interceptors.go:74" id=bdc0dbec-ba81-4324-8a83-d75dc87d4f0f name=/runtime.v1.RuntimeService/RunPodSandbox`,
			event.Event{Kind: event.Unrecognised}},
		// cri-o/cri-o PR #5797 (a crictl-made pod: no labels, description "//").
		{`time="2022-04-27 15:42:04.547627327Z" level=info msg="Starting container: 35fc612c9592356cde113b882feb2fd8e45c412b4a539c47ff530c1c9d616c6a" file="server/container_start.go:17" id=fa0de794-d11d-428e-ba12-dfbd27ea577f name=/runtime.v1alpha2.RuntimeService/StartContainer`,
			event.Event{Kind: event.ContainerStartStart, ContainerID: ctr5797}},
		{`time="2022-04-27 15:42:04.592745715Z" level=info msg="Started container" PID=94218 containerID=35fc612c9592356cde113b882feb2fd8e45c412b4a539c47ff530c1c9d616c6a description=// file="server/container_start.go:66" id=fa0de794-d11d-428e-ba12-dfbd27ea577f name=/runtime.v1alpha2.RuntimeService/StartContainer sandboxID=d404c30ebda350dc75a7a109ef7c2f3d388d9dd3d699f3ec488d5bcd3b503db6`,
			event.Event{Kind: event.ContainerStarted, ContainerID: ctr5797, SandboxID: sb5797}},
		// Same PR: the storage layer's debug line is not the CRI call's.
		{`time="2022-04-27 15:41:49.218334574Z" level=debug msg="Created container \"63bdad38b30762e2fcc35181e7ff9a4bdd799fd7dc934056f2c834a127814163\"" file="storage/runtime.go:281"`,
			event.Event{Kind: event.Unrecognised}},
		// redhat-performance/BugZooka tests/test_node_log_analyzer.py: a trimmed
		// OpenShift node journal (newer CRI-O, RFC 3339 times; id= shortened there).
		{`time="2026-05-27T16:02:27.950581297Z" level=info msg="Running pod sandbox: node-density-0/node-density-956/POD" id=0be966e9`,
			event.Event{Kind: event.SandboxStart, Pod: densityPod}},
		{`time="2026-05-27T16:02:31.769588511Z" level=info msg="Ran pod sandbox 337b3f3c6d63749cd0091d92e825729e9f818f74c626d58fe72978d0c2ea3320 with infra container: node-density-0/node-density-956/POD"`,
			event.Event{Kind: event.SandboxReady, Pod: densityPod, SandboxID: sbZooka}},
		{`time="2026-05-27T16:02:33.43583158Z" level=info msg="Creating container: node-density-0/node-density-956/node-density"`,
			event.Event{Kind: event.ContainerCreateStart, Pod: densityPod, Container: "node-density"}},
		{`time="2026-05-27T16:02:35.014226005Z" level=info msg="Created container 75ef25174d7d464246c9cb27d850db42604394b920e6f66b56a94ab3d9c5c983: node-density-0/node-density-956/node-density"`,
			event.Event{Kind: event.ContainerCreated, Pod: densityPod, Container: "node-density", ContainerID: ctrZooka}},
		{`time="2026-05-27T16:02:35.269681149Z" level=info msg="Started container" PID=133675 containerID=75ef25174d7d464246c9cb27d850db42604394b920e6f66b56a94ab3d9c5c983 description=node-density-0/node-density-956/node-density sandboxID=337b3f3c6d63749cd0091d92e825729e9f818f74c626d58fe72978d0c2ea3320`,
			event.Event{Kind: event.ContainerStarted, Pod: densityPod, Container: "node-density", ContainerID: ctrZooka, SandboxID: sbZooka}},
	}
	for i, tc := range tests {
		want := tc.want
		want.Time = lineTime(t, tc.line)
		want.Source = event.SourceRuntime
		wantOutcome := Recognised
		if want.Kind == event.Unrecognised {
			wantOutcome = Unrecognised
		}
		// RFC 3339 lines name no runtime when no message says which.
		wantFormat := "crio"
		if wantOutcome == Unrecognised && !strings.Contains(tc.line, "name=/runtime.") && !crioLikeTime(tc.line[6:]) {
			wantFormat = "containerd"
		}
		direct, ok := parseLogfmt(nil, tc.line, recv)
		if !ok {
			t.Fatalf("%d: parseLogfmt did not claim it", i)
		}
		for how, res := range map[string]Result{
			"parseLogfmt": direct,
			"Parse":       Parse(tc.line, recv),
			// As cri-o#8250 shows it: journalctl in a zh_CN locale.
			"Parse with journal prefix": Parse("6月 04 00:27:53 10-202-91-13 crio[883769]: "+tc.line, recv),
		} {
			if res.Outcome != wantOutcome || res.Format != wantFormat || !reflect.DeepEqual(res.Event, want) {
				t.Errorf("%d %s: got %v %q %+v\nwant %v %q %+v", i, how, res.Outcome, res.Format, res.Event, wantOutcome, wantFormat, want)
			}
		}
		// And the mapping alone.
		kvs, _ := parseKVs(tc.line, nil)
		rec := record{kvs: kvs}
		rec.msg = rec.get("msg")
		ev, ok := crioEvent(&rec, want.Time)
		if ok != (wantOutcome == Recognised) {
			t.Errorf("%d: crioEvent ok=%v", i, ok)
		} else if ok {
			ev.Source = event.SourceRuntime
			if !reflect.DeepEqual(ev, want) {
				t.Errorf("%d: crioEvent\n got %+v\nwant %+v", i, ev, want)
			}
		}
	}
}

// TestCRIOOlderMessages: messages of older CRI-O releases, constructed from
// the format strings of their server/container_start.go ("Started container:
// %s" with the description; later "Started container %s: %s" with the ID).
func TestCRIOOlderMessages(t *testing.T) {
	at := mustTime(t, "2020-01-01T00:00:00Z")
	const id = "75ef25174d7d464246c9cb27d850db42604394b920e6f66b56a94ab3d9c5c983"
	pod := event.PodRef{Namespace: "default", Name: "nginx"}
	tests := []struct {
		msg  string
		want event.Event
		ok   bool
	}{
		{"Started container: default/nginx/nginx", event.Event{Kind: event.ContainerStarted, Time: at, Pod: pod, Container: "nginx"}, true},
		{"Started container " + id + ": default/nginx/nginx", event.Event{Kind: event.ContainerStarted, Time: at, Pod: pod, Container: "nginx", ContainerID: id}, true},
		// Cut short inside the ID.
		{"Started container 75ef2517: default/nginx/nginx", event.Event{}, false},
		{"Created container 75ef25174d7d", event.Event{}, false},
		{"Starting container: 75ef25174d7d", event.Event{}, false},
		{"Ran pod sandbox 75ef2517", event.Event{}, false},
		// "Started container" without its keys says nothing.
		{"Started container", event.Event{}, false},
		{"Started containers", event.Event{}, false},
	}
	for _, tc := range tests {
		ev, ok := crioEvent(&record{sev: 'I', msg: tc.msg}, at)
		if ok != tc.ok || (ok && !reflect.DeepEqual(ev, tc.want)) {
			t.Errorf("%q: got %v %+v, want %v %+v", tc.msg, ok, ev, tc.ok, tc.want)
		}
	}
}

func TestCRIODescription(t *testing.T) {
	for _, tc := range []struct {
		in        string
		pod       event.PodRef
		container string
	}{
		{"default/nginx/POD", event.PodRef{Namespace: "default", Name: "nginx"}, ""},
		{"kube-system/coredns-7484cd47db-kmg55/coredns", event.PodRef{Namespace: "kube-system", Name: "coredns-7484cd47db-kmg55"}, "coredns"},
		{"//", event.PodRef{}, ""},
		{"default/nginx", event.PodRef{}, ""},
		{"", event.PodRef{}, ""},
	} {
		pod, ctr := crioDescription(tc.in)
		if pod != tc.pod || ctr != tc.container {
			t.Errorf("%q: got %+v %q", tc.in, pod, ctr)
		}
	}
}

func TestCRIOTruncated(t *testing.T) {
	recv := time.Now()
	line := `time="2026-05-27T16:02:35.014226005Z" level=info msg="Created container 75ef25174d7d464246c9cb27d850db42604394b920e6f66b56a94ab3d9c5c983: node-density-0/node-density-956/node-density"`
	for n := 0; n < len(line); n++ {
		res := Parse(line[:n], recv)
		if res.Event.Kind == event.ContainerCreated && res.Event.ContainerID != "75ef25174d7d464246c9cb27d850db42604394b920e6f66b56a94ab3d9c5c983" {
			t.Errorf("cut at %d: container ID %q", n, res.Event.ContainerID)
		}
		if res.Outcome == Recognised && res.Event.Kind == "" {
			t.Errorf("cut at %d: recognised without a kind", n)
		}
	}
}
