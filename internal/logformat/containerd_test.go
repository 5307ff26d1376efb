package logformat

import (
	"bufio"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/podstart/podstart/internal/event"
)

// IDs of the real recording (testdata/containerd-lines.txt).
const (
	sbWeb     = "0d0a8768576a0488557871d5db492019032debc4169a9ddc2fdc451e87969f30"
	sbMissing = "34376a77e125be486a952cd58b5e71954c2c0ca3ec95bb9cae58090e11650421"
	sbPair    = "567906b51ed04a26eb7a79fc789e20a903a71291429735954fb272d1b653d4e2"
	sb16      = "3c05cf40e5c6ece4e35fa3ba9a6d457f9d94ed7b6317d8dabfaa24ad99731b15"
	ctrInit   = "32f635014a5b1188708e1e2467930344c691e7c6c7dbadb27e9f4b15b26fea2d"
	ctrHttpd  = "2b72849bf023a647ad715c203af216e04fa2fdc9e5d72ee3537db576ec5170b7"
	ctrData   = "65e174312591e334efdfb3f282e6094725d860d680e66dc491489d0c2e86c20d"
	ctr16     = "b6ce141423badfa825969ad61059fffb0f5fa0935fc7accd399b3baa7b42b62a"
	busybox   = "127.0.0.1:5000/busybox:1"
	busyboxID = "sha256:a6bd5da480f753014e68afcfeca8c29be520231a45cfd202803786fcfe872cce"
	bigdata   = "127.0.0.1:5000/bigdata:1"
	bigdataID = "sha256:fe8d080a029d6ed3eebf1c29ac6ffb948d8c1c50a431a8bb39b6c55d6778b921"
)

var (
	podWeb     = event.PodRef{Namespace: "default", Name: "web-vm", UID: "37ce7e5d26922d1f0d4b9c2642f91cc9"}
	podMissing = event.PodRef{Namespace: "default", Name: "missing-image-vm", UID: "22cf6e6c1d81fc0c7ade1e4b8af439a6"}
	podHostnet = event.PodRef{Namespace: "default", Name: "rs-hostnet", UID: "rs-hostnet-uid-1"}
)

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("bad time %q: %v", s, err)
	}
	return v
}

// lineTime reads the time="…" of a test line independently of the parser.
func lineTime(t *testing.T, line string) time.Time {
	t.Helper()
	_, rest, _ := strings.Cut(line, `time="`)
	ts, _, _ := strings.Cut(rest, `"`)
	if v, err := time.Parse("2006-01-02 15:04:05.999999999Z07:00", ts); err == nil {
		return v.UTC() // CRI-O's layout
	}
	return mustTime(t, ts).UTC()
}

func readLines(t testing.TB, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// containerdGolden lists, line by line, what testdata/containerd-lines.txt
// must yield. Lines 1–47 are MESSAGEs of containerd 2.4.2 from
// recordings/realnode-basic/journal.txt, 48–49 of 2.4.2 and 50–58 of 1.6.20
// from real-node-stack.md §5.3 and §5.5. has is a piece of the line, to keep
// the table and the file aligned. Time is the line's own time unless set.
var containerdGolden = []struct {
	has  string
	want event.Event
}{
	{"Configuration migrated", event.Event{Kind: event.Unrecognised}},
	{`msg="starting containerd"`, event.Event{Kind: event.Unrecognised}},
	{`msg="loading plugin"`, event.Event{Kind: event.Unrecognised}},
	{"fsverity", event.Event{Kind: event.Unrecognised}},
	{"starting cri plugin", event.Event{Kind: event.Unrecognised}},
	{"msg=serving...", event.Event{Kind: event.Unrecognised}},
	{`RunPodSandbox for name:\"web-vm\"`, event.Event{Kind: event.SandboxStart, Pod: podWeb}},
	{"returns sandbox id", event.Event{Kind: event.SandboxReady, Pod: podWeb, SandboxID: sbWeb}},
	{"connecting to shim", event.Event{Kind: event.Unrecognised}},
	{`PullImage \"127.0.0.1:5000/busybox:1\""`, event.Event{Kind: event.ImagePullStart, Image: busybox}},
	{"host will try HTTPS", event.Event{Kind: event.Unrecognised}},
	{"ImageCreate event", event.Event{Kind: event.Unrecognised}},
	{"stop pulling image", event.Event{Kind: event.Unrecognised}},
	{`Pulled image \"127.0.0.1:5000/busybox:1\"`, event.Event{Kind: event.ImagePullDetail, Image: busybox, ImageRef: busyboxID,
		ImageSize: 1149670, Duration: 31536298 * time.Nanosecond, HasDuration: true}},
	{"returns image reference", event.Event{Kind: event.ImagePulled, Image: busybox, ImageRef: busyboxID}},
	{`for container name:\"init-content\"`, event.Event{Kind: event.ContainerCreateStart, SandboxID: sbWeb, Container: "init-content"}},
	{`for name:\"init-content\" returns container id`, event.Event{Kind: event.ContainerCreated, SandboxID: sbWeb, Container: "init-content", ContainerID: ctrInit}},
	{`StartContainer for \"32f6`, event.Event{Kind: event.ContainerStartStart, ContainerID: ctrInit}},
	{"returns successfully", event.Event{Kind: event.ContainerStarted, ContainerID: ctrInit}},
	// exit_status left out: 0. The time is exited_at, not the line's.
	{"received container exit event", event.Event{Kind: event.ContainerExited, ContainerID: ctrInit, HasExit: true,
		Time: time.Unix(1795965948, 900916954).UTC()}},
	{"collecting metrics", event.Event{Kind: event.Unrecognised}},
	{"shim disconnected", event.Event{Kind: event.Unrecognised}},
	{"ImageUpdate event", event.Event{Kind: event.Unrecognised}},
	{`PullImage \"127.0.0.1:5000/bigdata:1\""`, event.Event{Kind: event.ImagePullStart, Image: bigdata}},
	{`Pulled image \"127.0.0.1:5000/bigdata:1\"`, event.Event{Kind: event.ImagePullDetail, Image: bigdata, ImageRef: bigdataID,
		ImageSize: 68265641, Duration: 239360757 * time.Nanosecond, HasDuration: true}},
	{"returns image reference", event.Event{Kind: event.ImagePulled, Image: bigdata, ImageRef: bigdataID}},
	{`for container name:\"data\"`, event.Event{Kind: event.ContainerCreateStart, SandboxID: sbPair, Container: "data"}},
	{`for name:\"data\" returns container id`, event.Event{Kind: event.ContainerCreated, SandboxID: sbPair, Container: "data", ContainerID: ctrData}},
	{"missing-image-vm", event.Event{Kind: event.SandboxStart, Pod: podMissing}},
	{"returns sandbox id", event.Event{Kind: event.SandboxReady, Pod: podMissing, SandboxID: sbMissing}},
	{`PullImage \"127.0.0.1:5000/nope:1\""`, event.Event{Kind: event.ImagePullStart, Image: "127.0.0.1:5000/nope:1"}},
	{"trying next host", event.Event{Kind: event.Unrecognised}},
	{`nope:1\" failed`, event.Event{Kind: event.ImagePullFailed, Image: "127.0.0.1:5000/nope:1", Reason: event.ReasonImageNotFound,
		Message: `rpc error: code = NotFound desc = failed to pull and unpack image "127.0.0.1:5000/nope:1": failed to resolve image: 127.0.0.1:5000/nope:1: not found`}},
	{"StopPodSandbox", event.Event{Kind: event.SandboxStopped, SandboxID: "34376a77e125be486a952cd58b5e71954c2c0ca3ec95bb9cae58090e11650421"}},
	{"received sandbox exit event", event.Event{Kind: event.Unrecognised}},
	{"received sandbox container exit event", event.Event{Kind: event.Unrecognised}},
	{"StopContainer", event.Event{Kind: event.Unrecognised}},
	{"Stop container", event.Event{Kind: event.Unrecognised}},
	{"Kill container", event.Event{Kind: event.Unrecognised}},
	{"exit_status:137", event.Event{Kind: event.ContainerExited, ContainerID: ctrHttpd, ExitCode: 137, HasExit: true,
		Time: time.Unix(1795966011, 16174884).UTC()}},
	{"RemoveContainer", event.Event{Kind: event.Unrecognised}},
	{"RemoveContainer", event.Event{Kind: event.Unrecognised}},
	{"ContainerStatus for", event.Event{Kind: event.Unrecognised}},
	{"Container to stop", event.Event{Kind: event.Unrecognised}},
	{"RemovePodSandbox", event.Event{Kind: event.Unrecognised}},
	{"Ensure that sandbox", event.Event{Kind: event.Unrecognised}},
	{"Stop CRI service", event.Event{Kind: event.Unrecognised}},
	// §5.3: the pause image pulled inside RunPodSandbox.
	{`Pulled image \"127.0.0.1:5000/pause:1\"`, event.Event{Kind: event.ImagePullDetail, Image: "127.0.0.1:5000/pause:1",
		ImageRef: "sha256:7312e87bfbac515b5b82b20799c08b33debc936e1cfedd2cdf64b7e1b2f048a8", ImageSize: 1149699,
		Duration: 103338106 * time.Nanosecond, HasDuration: true}},
	{"transport is closing", event.Event{Kind: event.Unrecognised}},
	// §5.5: containerd 1.6.20, Go struct metadata.
	{"&PodSandboxMetadata{Name:rs-hostnet", event.Event{Kind: event.SandboxStart, Pod: podHostnet}},
	{"returns sandbox id", event.Event{Kind: event.SandboxReady, Pod: podHostnet, SandboxID: sb16}},
	{`PullImage \"127.0.0.1:5000/busybox:1\""`, event.Event{Kind: event.ImagePullStart, Image: busybox}},
	{"returns image reference", event.Event{Kind: event.ImagePulled, Image: busybox, ImageRef: busyboxID}},
	{"for container &ContainerMetadata{Name:hello,Attempt:0,}", event.Event{Kind: event.ContainerCreateStart, SandboxID: sb16, Container: "hello"}},
	{"returns container id", event.Event{Kind: event.ContainerCreated, SandboxID: sb16, Container: "hello", ContainerID: ctr16}},
	{`StartContainer for \"b6ce`, event.Event{Kind: event.ContainerStartStart, ContainerID: ctr16}},
	{"returns successfully", event.Event{Kind: event.ContainerStarted, ContainerID: ctr16}},
	{"Unimplemented", event.Event{Kind: event.Unrecognised}},
}

func TestContainerdLines(t *testing.T) {
	lines := readLines(t, "testdata/containerd-lines.txt")
	if len(lines) != len(containerdGolden) {
		t.Fatalf("%d lines, %d golden entries", len(lines), len(containerdGolden))
	}
	recv := mustTime(t, "2026-11-29T15:30:00Z")
	for i, line := range lines {
		g := containerdGolden[i]
		if !strings.Contains(line, g.has) {
			t.Fatalf("line %d does not contain %q: table and file are out of step", i+1, g.has)
		}
		want := g.want
		if want.Time.IsZero() {
			want.Time = lineTime(t, line)
		}
		want.Source = event.SourceRuntime
		wantOutcome := Recognised
		if want.Kind == event.Unrecognised {
			wantOutcome = Unrecognised
		}
		check := func(how string, res Result) {
			t.Helper()
			if res.Outcome != wantOutcome || res.Format != "containerd" {
				t.Errorf("line %d %s: outcome %v format %q, want %v containerd", i+1, how, res.Outcome, res.Format, wantOutcome)
			}
			if !reflect.DeepEqual(res.Event, want) {
				t.Errorf("line %d %s:\n got %+v\nwant %+v", i+1, how, res.Event, want)
			}
		}
		direct, ok := parseLogfmt(nil, line, recv)
		if !ok {
			t.Fatalf("line %d: parseLogfmt did not claim it", i+1)
		}
		check("parseLogfmt", direct)
		check("Parse", Parse(line, recv))
		// As journalctl -o short-precise prints it.
		check("Parse with journal prefix", Parse("Nov 29 15:25:47.670887 vm containerd[17640]: "+line, recv))
	}
}

// TestContainerdOtherLines covers forms the recording lacks. Each says where
// it comes from: a public issue (real), or "constructed" from the format
// string in containerd's source (internal/cri/instrument/instrumented_service.go,
// internal/cri/server/events.go, pkg/cri/server/events.go of 1.x).
func TestContainerdOtherLines(t *testing.T) {
	recv := mustTime(t, "2026-11-29T15:30:00Z")
	tests := []struct {
		name    string
		line    string
		want    event.Event // Time defaults to the line's time
		outcome Outcome
	}{
		{
			// containerd/containerd PR #10906 (containerd.log of a 2.0-era CI run): Go struct metadata with an attempt.
			name: "create returns, struct metadata, attempt 5",
			line: `time="2024-11-01T18:36:40.346766435Z" level=info msg="CreateContainer within sandbox \"3109094df28fc9e1e303fe7203517f74e19d04784f64a6c76fd9145b937a58f8\" for &ContainerMetadata{Name:kube-controller-manager,Attempt:5,} returns container id \"14fc7e6f2d112f1f5b7f96a55ab7763b41962853ee4a1f1d64549061b57af2f8\""`,
			want: event.Event{Kind: event.ContainerCreated, SandboxID: "3109094df28fc9e1e303fe7203517f74e19d04784f64a6c76fd9145b937a58f8",
				Container: "kube-controller-manager", Attempt: 5, ContainerID: "14fc7e6f2d112f1f5b7f96a55ab7763b41962853ee4a1f1d64549061b57af2f8"},
		},
		{
			// containernetworking/cni issue #881 (containerd 1.6.0-beta on Windows): the "RunPodsandbox" spelling.
			name: "RunPodsandbox spelling",
			line: `time="2022-02-09T00:16:09.935305000Z" level=info msg="RunPodsandbox for &PodSandboxMetadata{Name:win-webserver-5db7f85d96-bsss7,Uid:3b12e32d-3c91-4979-a591-7f36a3b5a768,Namespace:default,Attempt:0,}"`,
			want: event.Event{Kind: event.SandboxStart, Pod: event.PodRef{Namespace: "default", Name: "win-webserver-5db7f85d96-bsss7", UID: "3b12e32d-3c91-4979-a591-7f36a3b5a768"}},
		},
		{
			// Same issue, a trace line.
			name:    "trace level, unrecognised",
			line:    `time="2022-02-09T00:16:09.701293100Z" level=trace msg="Version returns &VersionResponse{Version:0.1.0,RuntimeName:containerd,RuntimeVersion:1.17.5,RuntimeApiVersion:v1,}"`,
			want:    event.Event{Kind: event.Unrecognised},
			outcome: Unrecognised,
		},
		{
			// containerd/containerd issue #11836 (2.1.0): an exec'd process (id != container_id) is no container exit.
			name:    "podsandbox handler, exec process",
			line:    `time="2025-05-12T09:51:40.244894676+08:00" level=info msg="TaskExit event in podsandbox handler container_id:\"a63d55fffc860bf75715774c3b302a970fc4df138d6ef041df53d040c4b52f04\"  id:\"7add877f859655f35c5509aa4e2c64d19e8865b361138a8581e6396dfe446d48\"  pid:131544  exited_at:{seconds:1747014700  nanos:244404807}"`,
			want:    event.Event{Kind: event.Unrecognised},
			outcome: Unrecognised,
		},
		{
			// Constructed: the 2.x protobuf text with a non-zero attempt.
			name: "constructed: sandbox attempt 1",
			line: `time="2026-11-29T15:25:47.670887443Z" level=info msg="RunPodSandbox for name:\"web-vm\" uid:\"37ce7e5d26922d1f0d4b9c2642f91cc9\" namespace:\"default\" attempt:1"`,
			want: event.Event{Kind: event.SandboxStart, Pod: podWeb, Attempt: 1},
		},
		{
			// Constructed: "RunPodSandbox for %+v failed, error" with WithError.
			name: "constructed: sandbox failed",
			line: `time="2026-11-29T15:25:47.970887443Z" level=error msg="RunPodSandbox for name:\"web-vm\" uid:\"37ce7e5d26922d1f0d4b9c2642f91cc9\" namespace:\"default\" attempt:2 failed, error" error="rpc error: code = Unknown desc = failed to setup network for sandbox \"e5a8\": plugin type=\"flannel\" failed (add): loadFlannelSubnetEnv failed: open /run/flannel/subnet.env: no such file or directory"`,
			want: event.Event{Kind: event.SandboxFailed, Pod: podWeb, Attempt: 2, Reason: event.ReasonFailedCreatePodSandBoxCNI,
				Message: `rpc error: code = Unknown desc = failed to setup network for sandbox "e5a8": plugin type="flannel" failed (add): loadFlannelSubnetEnv failed: open /run/flannel/subnet.env: no such file or directory`},
		},
		{
			// Constructed: 1.x struct metadata, failed.
			name: "constructed: sandbox failed, struct metadata",
			line: `time="2023-05-10T12:00:00.5Z" level=error msg="RunPodSandbox for &PodSandboxMetadata{Name:rs-hostnet,Uid:rs-hostnet-uid-1,Namespace:default,Attempt:0,} failed, error" error="failed to create containerd task: OCI runtime create failed"`,
			want: event.Event{Kind: event.SandboxFailed, Pod: podHostnet, Reason: event.ReasonFailedCreatePodSandBox,
				Message: "failed to create containerd task: OCI runtime create failed"},
		},
		{
			// Constructed: "CreateContainer within sandbox %q for container %+v", 2.x, attempt 1.
			name: "constructed: create start attempt 1",
			line: `time="2026-11-29T15:25:49.188011953Z" level=info msg="CreateContainer within sandbox \"0d0a8768576a0488557871d5db492019032debc4169a9ddc2fdc451e87969f30\" for container name:\"httpd\" attempt:1"`,
			want: event.Event{Kind: event.ContainerCreateStart, SandboxID: sbWeb, Container: "httpd", Attempt: 1},
		},
		{
			// Constructed: "CreateContainer within sandbox %q for %+v failed".
			name: "constructed: create failed",
			line: `time="2026-11-29T15:25:49.2Z" level=error msg="CreateContainer within sandbox \"0d0a8768576a0488557871d5db492019032debc4169a9ddc2fdc451e87969f30\" for name:\"httpd\" attempt:1 failed" error="rpc error: code = Unknown desc = failed to create containerd container: mount callback failed"`,
			want: event.Event{Kind: event.ContainerCreateFailed, SandboxID: sbWeb, Container: "httpd", Attempt: 1,
				Reason: event.ReasonCreateContainerError, Message: "rpc error: code = Unknown desc = failed to create containerd container: mount callback failed"},
		},
		{
			// Constructed: "StartContainer for %q failed".
			name: "constructed: start failed",
			line: `time="2026-11-29T15:25:49.25Z" level=error msg="StartContainer for \"2b72849bf023a647ad715c203af216e04fa2fdc9e5d72ee3537db576ec5170b7\" failed" error="failed to create containerd task: failed to create shim task: OCI runtime create failed: exec: \"nope\": executable file not found in $PATH: unknown"`,
			want: event.Event{Kind: event.ContainerStartFailed, ContainerID: ctrHttpd, Reason: event.ReasonRunContainerError,
				Message: `failed to create containerd task: failed to create shim task: OCI runtime create failed: exec: "nope": executable file not found in $PATH: unknown`},
		},
		{
			// Constructed: pull failures that the kubelet classifies.
			name: "constructed: pull failed, invalid reference",
			line: `time="2026-11-29T15:26:01.5Z" level=error msg="PullImage \"Busybox:1\" failed" error="rpc error: code = Unknown desc = failed to parse image reference \"Busybox:1\": invalid reference format: repository name must be lowercase"`,
			want: event.Event{Kind: event.ImagePullFailed, Image: "Busybox:1", Reason: event.ReasonInvalidImageName,
				Message: `rpc error: code = Unknown desc = failed to parse image reference "Busybox:1": invalid reference format: repository name must be lowercase`},
		},
		{
			name: "constructed: pull failed, registry unavailable",
			line: `time="2026-11-29T15:26:01.5Z" level=error msg="PullImage \"10.0.0.1:5000/x:1\" failed" error="RegistryUnavailable: dial tcp 10.0.0.1:5000: connect: connection refused"`,
			want: event.Event{Kind: event.ImagePullFailed, Image: "10.0.0.1:5000/x:1", Reason: event.ReasonRegistryUnavailable,
				Message: "RegistryUnavailable: dial tcp 10.0.0.1:5000: connect: connection refused"},
		},
		{
			// Constructed: containerd 1.6 logged "Pulled image" at debug, without size and duration.
			name: "constructed: 1.6 pulled image, no duration",
			line: `time="2023-05-10T12:00:01.25Z" level=debug msg="Pulled image \"nginx:latest\" with image id \"sha256:a6bd5da480f753014e68afcfeca8c29be520231a45cfd202803786fcfe872cce\", repo tag \"docker.io/library/nginx:latest\", repo digest \"docker.io/library/nginx@sha256:b77de7313de78ce23557d482d8d43a3ddfd38cd7c5af8cc5c3eda6b1f343caf4\""`,
			want: event.Event{Kind: event.ImagePullDetail, Image: "nginx:latest", ImageRef: busyboxID},
		},
		{
			// Constructed: 1.6 gogo rendering of a TaskExit ("received exit event %+v" at info in late 1.6.x).
			name: "constructed: 1.6 struct exit",
			line: `time="2023-05-10T12:00:02Z" level=info msg="received exit event &TaskExit{ContainerID:2b72849bf023a647ad715c203af216e04fa2fdc9e5d72ee3537db576ec5170b7,ID:2b72849bf023a647ad715c203af216e04fa2fdc9e5d72ee3537db576ec5170b7,Pid:18080,ExitStatus:1,ExitedAt:2023-05-10 12:00:01.916792753 +0000 UTC,}"`,
			want: event.Event{Kind: event.ContainerExited, ContainerID: ctrHttpd, ExitCode: 1, HasExit: true,
				Time: time.Date(2023, 5, 10, 12, 0, 1, 916792753, time.UTC)},
		},
		{
			// Constructed: k0s re-logs the kubelet's stderr through logrus (kubelet-and-cri.md §6.5)
			// around a real kubelet line of the recording.
			name: "constructed: k0s wrapper around a klog line",
			line: `time="2026-11-29 15:25:47" level=info msg="I1129 15:25:47.360130   17689 kubelet.go:2760] \"SyncLoop ADD\" source=\"file\" pods=[\"default/web-vm\"]" component=kubelet stream=stderr`,
			want: event.Event{Kind: event.PodAdd},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := Parse(tc.line, recv)
			if tc.want.Kind == event.PodAdd {
				// The wrapped line is the kubelet's: read by klogtext.go.
				if res.Format != "klog" || res.Event.Kind != event.PodAdd || res.Event.Source != event.SourceKubelet ||
					res.Event.Pod.Key() != "default/web-vm" {
					t.Errorf("got %+v format %q", res.Event, res.Format)
				}
				return
			}
			want := tc.want
			if want.Time.IsZero() {
				ts, _, _ := strings.Cut(strings.TrimPrefix(tc.line, `time="`), `"`)
				v, ok := runtimeTime(ts)
				if !ok {
					t.Fatalf("bad time in %q", tc.line)
				}
				want.Time = v
			}
			want.Source = event.SourceRuntime
			if res.Outcome != tc.outcome || res.Format != "containerd" {
				t.Errorf("outcome %v format %q, want %v containerd", res.Outcome, res.Format, tc.outcome)
			}
			if !reflect.DeepEqual(res.Event, want) {
				t.Errorf("\n got %+v\nwant %+v", res.Event, want)
			}
		})
	}
}

// TestContainerdExitMessages checks exit messages of other containerd
// versions, given as msg only (the public sources show them in logrus' TTY
// format, not as logfmt lines).
func TestContainerdExitMessages(t *testing.T) {
	at := mustTime(t, "2024-08-23T10:05:29.890685708Z")
	const fce = "fce217561d9543b1f6b19f4c5415bbcd68e0dea49e72d7f174910ce3deba7eb0"
	tests := []struct {
		msg  string
		want event.Event
		ok   bool
	}{
		// containerd/containerd PR #10603 (1.7-era build): doubled spaces and a trailing space.
		{`received exit event container_id:"fce217561d9543b1f6b19f4c5415bbcd68e0dea49e72d7f174910ce3deba7eb0"  id:"fce217561d9543b1f6b19f4c5415bbcd68e0dea49e72d7f174910ce3deba7eb0"  pid:627351  exit_status:137  exited_at:{seconds:1724407529  nanos:889854119} `,
			event.Event{Kind: event.ContainerExited, ContainerID: fce, ExitCode: 137, HasExit: true, Time: time.Unix(1724407529, 889854119).UTC()}, true},
		{`TaskExit event in podsandbox handler container_id:"fce217561d9543b1f6b19f4c5415bbcd68e0dea49e72d7f174910ce3deba7eb0"  id:"fce217561d9543b1f6b19f4c5415bbcd68e0dea49e72d7f174910ce3deba7eb0"  pid:627351  exit_status:137  exited_at:{seconds:1724407529  nanos:889854119} `,
			event.Event{Kind: event.ContainerExited, ContainerID: fce, ExitCode: 137, HasExit: true, Time: time.Unix(1724407529, 889854119).UTC()}, true},
		// Same PR: an exec'd process of that container.
		{`TaskExit event in podsandbox handler container_id:"fce217561d9543b1f6b19f4c5415bbcd68e0dea49e72d7f174910ce3deba7eb0"  id:"4afc311996784af79ba0f55db6b873beb9ef99e5ecdf4a5dc86bd9be5a01e204"  pid:631628  exit_status:137  exited_at:{seconds:1724407529  nanos:889932660} `,
			event.Event{}, false},
		// firecracker-microvm/firecracker-containerd issue #35 (containerd 1.2): empty IDs.
		{`TaskExit event &TaskExit{ContainerID:,ID:,Pid:224,ExitStatus:0,ExitedAt:2018-12-03 19:01:50.016792753 +0000 UTC,}`, event.Event{}, false},
		// Cut short inside exited_at: the line time stands in.
		{`received container exit event container_id:"fce217561d9543b1f6b19f4c5415bbcd68e0dea49e72d7f174910ce3deba7eb0" id:"fce217561d9543b1f6b19f4c5415bbcd68e0dea49e72d7f174910ce3deba7eb0" pid:1 exited_at:{seconds:17244`, event.Event{}, false},
		{`received exit event sandbox_id:"fce217561d9543b1f6b19f4c5415bbcd68e0dea49e72d7f174910ce3deba7eb0" exit_status:137 exited_at:{seconds:1724407529 nanos:889854119}`, event.Event{}, false},
	}
	for _, tc := range tests {
		ev, ok := containerdEvent(&record{sev: 'I', msg: tc.msg}, at)
		if ok != tc.ok || (ok && !reflect.DeepEqual(ev, tc.want)) {
			t.Errorf("%.60s…: got %v %+v, want %v %+v", tc.msg, ok, ev, tc.ok, tc.want)
		}
	}
}

// TestRuntimeJSON: containerd --log-format=json uses logrus' JSONFormatter:
// one object, keys sorted (a Go map marshalled), time in RFC 3339 with
// nanoseconds, other fields beside msg. The lines are constructed from the
// text lines of the recording.
func TestRuntimeJSON(t *testing.T) {
	recv := mustTime(t, "2026-11-29T15:30:00Z")
	tests := []struct {
		line    string
		want    event.Event
		outcome Outcome
	}{
		{`{"level":"info","msg":"RunPodSandbox for name:\"web-vm\" uid:\"37ce7e5d26922d1f0d4b9c2642f91cc9\" namespace:\"default\"","time":"2026-11-29T15:25:47.670887443Z"}`,
			event.Event{Kind: event.SandboxStart, Pod: podWeb, Time: mustTime(t, "2026-11-29T15:25:47.670887443Z")}, Recognised},
		{`{"level":"error","error":"rpc error: code = NotFound desc = not found","msg":"PullImage \"127.0.0.1:5000/nope:1\" failed","time":"2026-11-29T15:26:01.589584019Z"}`,
			event.Event{Kind: event.ImagePullFailed, Image: "127.0.0.1:5000/nope:1", Reason: event.ReasonImageNotFound,
				Message: "rpc error: code = NotFound desc = not found", Time: mustTime(t, "2026-11-29T15:26:01.589584019Z")}, Recognised},
		// Keys in another order, and a non-string field.
		{`{"time":"2026-11-29T15:25:47.808971822Z","msg":"Pulled image \"127.0.0.1:5000/busybox:1\" with image id \"sha256:a6bd5da480f753014e68afcfeca8c29be520231a45cfd202803786fcfe872cce\", repo tag \"127.0.0.1:5000/busybox:1\", repo digest \"127.0.0.1:5000/busybox@sha256:b77de7313de78ce23557d482d8d43a3ddfd38cd7c5af8cc5c3eda6b1f343caf4\", size \"1149670\" in 31.536298ms","level":"info","pid":17640}`,
			event.Event{Kind: event.ImagePullDetail, Image: busybox, ImageRef: busyboxID, ImageSize: 1149670, Duration: 31536298 * time.Nanosecond,
				HasDuration: true, Time: mustTime(t, "2026-11-29T15:25:47.808971822Z")}, Recognised},
		{`{"level":"info","msg":"received container exit event container_id:\"32f635014a5b1188708e1e2467930344c691e7c6c7dbadb27e9f4b15b26fea2d\" id:\"32f635014a5b1188708e1e2467930344c691e7c6c7dbadb27e9f4b15b26fea2d\" pid:17878 exited_at:{seconds:1795965948 nanos:900916954}","time":"2026-11-29T15:25:48.902377631Z"}`,
			event.Event{Kind: event.ContainerExited, ContainerID: ctrInit, HasExit: true, Time: time.Unix(1795965948, 900916954).UTC()}, Recognised},
		{`{"level":"info","msg":"starting containerd","revision":"","time":"2026-11-29T15:25:41.943596436Z","version":"2.4.2+unknown"}`,
			event.Event{Kind: event.Unrecognised, Time: mustTime(t, "2026-11-29T15:25:41.943596436Z")}, Unrecognised},
		// Cut short: bad JSON.
		{`{"level":"info","msg":"StartContainer for \"32f635014a5b1188708e1e2467930344c691e7c6c7dbadb27e9f4b15b26fea2d\"","time":"2026-11-29T15:25:4`,
			event.Event{Kind: event.Unrecognised, Time: recv}, Malformed},
		// A time that is not a time.
		{`{"level":"info","msg":"StartContainer for \"32f635014a5b1188708e1e2467930344c691e7c6c7dbadb27e9f4b15b26fea2d\"","time":12}`,
			event.Event{Kind: event.ContainerStartStart, ContainerID: ctrInit, Time: recv}, Malformed},
	}
	for i, tc := range tests {
		want := tc.want
		want.Source = event.SourceRuntime
		direct, ok := parseRuntimeJSON(nil, tc.line, recv)
		if !ok {
			t.Errorf("%d: parseRuntimeJSON did not claim it", i)
			continue
		}
		for how, res := range map[string]Result{"direct": direct, "Parse": Parse(tc.line, recv)} {
			if res.Outcome != tc.outcome || res.Format != "containerd" || !reflect.DeepEqual(res.Event, want) {
				t.Errorf("%d %s: got %v %q %+v\nwant %v containerd %+v", i, how, res.Outcome, res.Format, res.Event, tc.outcome, want)
			}
		}
	}
	// klog's JSON is not the runtime's.
	if runtimeJSONStarts(`{"ts":1791388355744.4153,"caller":"util/pod_startup_latency_tracker.go:144","msg":"Observed pod startup duration","v":0,"level":"x","time":"y"}`) {
		t.Error("runtimeJSONStarts claims a klog JSON line")
	}
}

func TestRuntimeTime(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // RFC 3339, "" for no time
	}{
		{"2026-11-29T15:25:41Z", "2026-11-29T15:25:41Z"},
		{"2026-11-29T15:25:41.943596436Z", "2026-11-29T15:25:41.943596436Z"},
		{"2025-05-12T09:51:40.244894676+08:00", "2025-05-12T01:51:40.244894676Z"},
		{"2024-06-04 00:27:53.501046477+08:00", "2024-06-03T16:27:53.501046477Z"}, // CRI-O
		{"2022-04-27 15:42:03.250680088Z", "2022-04-27T15:42:03.250680088Z"},      // CRI-O
		{"2024-07-08 08:46:26", "2024-07-08T08:46:26Z"},                           // k0s
		{"", ""},
		{"2026-11-29", ""},
		{"2026-11-29X15:25:41Z", ""},
		{"2026-11-29T15:25:41.9435", ""}, // no zone
	} {
		got, ok := runtimeTime(tc.in)
		if tc.want == "" {
			if ok {
				t.Errorf("%q: got %v, want no time", tc.in, got)
			}
			continue
		}
		if !ok || !got.Equal(mustTime(t, tc.want)) {
			t.Errorf("%q: got %v %v, want %s", tc.in, got, ok, tc.want)
		}
	}
}

// TestClassifyPullError: pull error texts as containerd, CRI-O and the
// kubelet wrote them (real ones unless marked), each with the reason an
// operator acts on.
func TestClassifyPullError(t *testing.T) {
	for msg, want := range map[string]string{
		"rpc error: code = NotFound desc = failed to pull and unpack image": event.ReasonImageNotFound,
		// containerd 2.4, the realnode recording.
		`rpc error: code = NotFound desc = failed to pull and unpack image "127.0.0.1:5000/nope:1": failed to resolve image: 127.0.0.1:5000/nope:1: not found`: event.ReasonImageNotFound,
		// containerd 1.7 on Docker Hub: a tag that does not exist.
		`failed to pull and unpack image "docker.io/library/nginx:nope": failed to resolve reference "docker.io/library/nginx:nope": docker.io/library/nginx:nope: not found`: event.ReasonImageNotFound,
		`Error response from daemon: manifest for nginx:nope not found: manifest unknown: manifest unknown`:                                                                   event.ReasonImageNotFound,
		// Docker Hub for a private or missing repository.
		`failed to pull and unpack image "docker.io/library/nginx-slim:0.8": failed to resolve reference "docker.io/library/nginx-slim:0.8": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed`: event.ReasonRegistryUnauthorized,
		`failed to resolve reference "ghcr.io/acme/app:1": failed to authorize: failed to fetch anonymous token: unexpected status from GET request to https://ghcr.io/token?scope=repository%3Aacme%2Fapp%3Apull&service=ghcr.io: 401 Unauthorized`:                               event.ReasonRegistryUnauthorized,
		`failed to resolve reference "123.dkr.ecr.us-east-1.amazonaws.com/app:1": unexpected status from HEAD request to https://123.dkr.ecr.us-east-1.amazonaws.com/v2/app/manifests/1: 403 Forbidden`:                                                                            event.ReasonRegistryUnauthorized,
		`failed to pull and unpack image "registry.k8s.io/pause:3.6": failed to resolve reference "registry.k8s.io/pause:3.6": failed to do request: Head "https://registry.k8s.io/v2/pause/manifests/3.6": dial tcp 34.96.108.209:443: i/o timeout`:                               event.ReasonRegistryUnavailable,
		`failed to resolve reference "reg.local:5000/app:1": failed to do request: Head "https://reg.local:5000/v2/app/manifests/1": dial tcp: lookup reg.local on 10.0.0.2:53: no such host`:                                                                                      event.ReasonRegistryUnavailable,
		`failed to do request: Head "https://10.0.0.9:5000/v2/app/manifests/1": http: server gave HTTP response to HTTPS client`:                                                                                                                                                   event.ReasonRegistryUnavailable,
		`failed to do request: Head "https://reg.local/v2/app/manifests/1": tls: failed to verify certificate: x509: certificate signed by unknown authority`:                                                                                                                      event.ReasonRegistryUnavailable,
		`unexpected status from HEAD request to https://reg.local/v2/app/manifests/1: 503 Service Unavailable`:                                                                                                                                                                     event.ReasonRegistryUnavailable,
		// The runtime itself is unreachable: no registry's fault.
		`rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial unix /run/containerd/containerd.sock: connect: connection refused"`: event.ReasonErrImagePull,
		`failed to parse image reference "A": invalid reference format`: event.ReasonInvalidImageName,
		"InvalidImageName":                                        event.ReasonInvalidImageName,
		"RegistryUnavailable: connection refused":                 event.ReasonRegistryUnavailable,
		"rpc error: code = Unknown desc = RegistryUnavailable: x": event.ReasonRegistryUnavailable,
		// Constructed: a failure the text does not explain.
		"failed to extract layer sha256:abc: no space left on device": event.ReasonErrImagePull,
		"": event.ReasonErrImagePull,
	} {
		if got := classifyPullError(msg); got != want {
			t.Errorf("classifyPullError(%q) = %q, want %q", msg, got, want)
		}
	}
}

// TestClassifySandboxError: the CNI's failures are told apart.
func TestClassifySandboxError(t *testing.T) {
	for msg, want := range map[string]string{
		`rpc error: code = Unknown desc = failed to setup network for sandbox "a71d": plugin type="vxlan" name="mycni" failed (add): invalid CIDR address: <nil>`:                                                                event.ReasonFailedCreatePodSandBoxCNI,
		`rpc error: code = Unknown desc = failed to create pod network sandbox k8s_samplepod_default_5fa1_0(7517): error adding pod default_samplepod to CNI network "multus-cni-network": plugin type="multus" failed (add): x`: event.ReasonFailedCreatePodSandBoxCNI,
		`rpc error: code = Unknown desc = failed to setup network for sandbox "e5a8": cni plugin not initialized`:                                                                                                                event.ReasonFailedCreatePodSandBoxCNI,
		`rpc error: code = Unknown desc = failed to create containerd task: failed to create shim task: OCI runtime create failed`:                                                                                               event.ReasonFailedCreatePodSandBox,
		`rpc error: code = DeadlineExceeded desc = failed to get sandbox image "registry.k8s.io/pause:3.6": failed to pull image "registry.k8s.io/pause:3.6": dial tcp: i/o timeout`:                                             event.ReasonFailedCreatePodSandBox,
		`rpc error: code = Unavailable desc = error reading from server: EOF`:                                                                                                                                                    event.ReasonFailedCreatePodSandBox,
	} {
		if got := classifySandboxError(msg); got != want {
			t.Errorf("classifySandboxError(%q) = %q, want %q", msg, got, want)
		}
	}
}

// TestOOMEvent reads containerd's TaskOOM lines (real, from public node
// journals: 2.x protobuf text and 1.x struct rendering).
func TestOOMEvent(t *testing.T) {
	for line, id := range map[string]string{
		`time="2026-10-02T14:14:06.821383123Z" level=info msg="TaskOOM event container_id:\"c44d2f7a9f1f16bb3f6922e7c02215d9618db819fc89f254817b5f52d91f74ea\""`:                                "c44d2f7a9f1f16bb3f6922e7c02215d9618db819fc89f254817b5f52d91f74ea",
		`time="2022-03-15T09:22:41.553168162+09:00" level=info msg="TaskOOM event &TaskOOM{ContainerID:0527c6dd14e504ab8c406806e0ce182aec604a0dbeeefc4e94e1ee3550dda3db,XXX_unrecognized:[],}"`: "0527c6dd14e504ab8c406806e0ce182aec604a0dbeeefc4e94e1ee3550dda3db",
	} {
		res := Parse(line, time.Time{})
		if res.Outcome != Recognised || res.Event.Kind != event.ContainerOOM || res.Event.ContainerID != id || res.Event.Reason != event.ReasonOOMKilled {
			t.Errorf("%s:\n got %v %+v", line, res.Outcome, res.Event)
		}
	}
	// Cut short: no ID.
	res := Parse(`time="2022-03-15T09:22:41.553168162+09:00" level=info msg="TaskOOM event &TaskOOM{ContainerID:0527c6dd14e5"`, time.Time{})
	if res.Event.Kind == event.ContainerOOM {
		t.Errorf("a cut-short TaskOOM gave %+v", res.Event)
	}
}

// TestContainerdTruncated cuts every line of the recording at every length:
// no panic, and a cut-short line is never recognised with a cut-short ID,
// image or duration.
func TestContainerdTruncated(t *testing.T) {
	recv := mustTime(t, "2026-11-29T15:30:00Z")
	for i, line := range readLines(t, "testdata/containerd-lines.txt") {
		full := Parse(line, recv).Event
		for n := 0; n < len(line); n++ {
			res := Parse(line[:n], recv)
			if res.Outcome == Recognised && res.Event.Kind == "" {
				t.Fatalf("line %d cut at %d: recognised without a kind", i+1, n)
			}
			if res.Outcome == Unrecognised || res.Event.Kind == event.Unrecognised {
				continue
			}
			e := res.Event
			for _, p := range [][2]string{{e.ContainerID, full.ContainerID}, {e.SandboxID, full.SandboxID}, {e.Image, full.Image}, {e.ImageRef, full.ImageRef}} {
				if p[0] != "" && p[0] != p[1] {
					t.Errorf("line %d cut at %d: %q instead of %q", i+1, n, p[0], p[1])
				}
			}
			if e.HasDuration && e.Duration != full.Duration {
				t.Errorf("line %d cut at %d: duration %v instead of %v", i+1, n, e.Duration, full.Duration)
			}
			if e.Kind != full.Kind {
				t.Errorf("line %d cut at %d: kind %v instead of %v", i+1, n, e.Kind, full.Kind)
			}
		}
	}
}

func TestContainerdHostile(t *testing.T) {
	recv := mustTime(t, "2026-11-29T15:30:00Z")
	big := strings.Repeat("a", MaxLine)
	tests := []struct {
		name    string
		line    string
		outcome Outcome
		kind    event.Kind
	}{
		{"1 MiB image name, cut by MaxLine", `time="2026-11-29T15:25:47.777375895Z" level=info msg="PullImage \"` + big + `\""`, Malformed, event.Unrecognised},
		{"long but whole", `time="2026-11-29T15:25:47.777375895Z" level=info msg="PullImage \"` + big[:MaxLine-100] + `\""`, Recognised, event.ImagePullStart},
		{"1 MiB of key=value", `time="2026-11-29T15:25:47.777375895Z" level=info msg="x"` + strings.Repeat(" k=v", MaxLine/4-100), Unrecognised, event.Unrecognised},
		{"invalid UTF-8 in the image", "time=\"2026-11-29T15:25:47.777375895Z\" level=info msg=\"PullImage \\\"busy\xffbox:1\\\"\"", Recognised, event.ImagePullStart},
		{"time never closed", `time="2026-11-29T15:25:47.777375895Z level=info msg="PullImage \"busybox:1\""`, Malformed, event.Unrecognised},
		{"msg never closed", `time="2026-11-29T15:25:47.777375895Z" level=info msg="StartContainer for \"32f635014a5b1188708e1e2467930344c691e7c6c7dbadb27e9f4b15b26fea2d\"`, Malformed, event.Unrecognised},
		{"inner quote never closed", `time="2026-11-29T15:25:47.777375895Z" level=info msg="StartContainer for \"32f635014a5b1188"`, Unrecognised, event.Unrecognised},
		{"metadata never closed", `time="2026-11-29T15:10:59.331384777Z" level=info msg="RunPodSandbox for &PodSandboxMetadata{Name:rs-hostnet,Uid:rs"`, Unrecognised, event.Unrecognised},
		{"proto string never closed", `time="2026-11-29T15:10:59.331384777Z" level=info msg="RunPodSandbox for name:\"web-vm"`, Unrecognised, event.Unrecognised},
		{"bad escape", `time="2026-11-29T15:10:59.331384777Z" level=info msg="PullImage \"a\q\""`, Malformed, event.ImagePullStart},
		{"bare time=", `time="`, Malformed, event.Unrecognised},
		{"no msg", `time="2026-11-29T15:10:59.331384777Z" level=info`, Unrecognised, event.Unrecognised},
		{"error= never closed", `time="2026-11-29T15:26:01.589584019Z" level=error msg="PullImage \"nope:1\" failed" error="rpc error: code = NotF`, Malformed, event.ImagePullFailed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := Parse(tc.line, recv)
			if res.Outcome != tc.outcome || res.Event.Kind != tc.kind {
				t.Errorf("got %v %v, want %v %v", res.Outcome, res.Event.Kind, tc.outcome, tc.kind)
			}
			// Directly, without Parse's length cut and UTF-8 repair.
			if _, ok := parseLogfmt(nil, tc.line, recv); !ok {
				t.Error("parseLogfmt did not claim it")
			}
		})
	}
}

func BenchmarkParseContainerd(b *testing.B) {
	lines := readLines(b, "testdata/containerd-lines.txt")
	recv := time.Now()
	b.ReportAllocs()
	var p Parser // as the agent parses: one Parser for all lines
	for b.Loop() {
		for _, l := range lines {
			p.Parse(l, recv)
		}
	}
}
