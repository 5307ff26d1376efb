package logformat

import (
	"strings"
	"testing"
	"time"

	"github.com/podstart/podstart/internal/event"
)

// runtimeSeeds are the recording's lines plus a few other forms, so that the
// fuzzer starts from every branch of the mapping.
func runtimeSeeds(f *testing.F) []string {
	seeds := readLines(f, "testdata/containerd-lines.txt")
	return append(seeds,
		`time="2022-02-09T00:16:09.935305000Z" level=info msg="RunPodsandbox for &PodSandboxMetadata{Name:win-webserver-5db7f85d96-bsss7,Uid:3b12e32d-3c91-4979-a591-7f36a3b5a768,Namespace:default,Attempt:0,}"`,
		`time="2023-05-10T12:00:02Z" level=info msg="received exit event &TaskExit{ContainerID:2b72849bf023a647ad715c203af216e04fa2fdc9e5d72ee3537db576ec5170b7,ID:2b72849bf023a647ad715c203af216e04fa2fdc9e5d72ee3537db576ec5170b7,Pid:18080,ExitStatus:1,ExitedAt:2023-05-10 12:00:01.916792753 +0000 UTC,}"`,
		`time="2026-11-29T15:25:49.2Z" level=error msg="CreateContainer within sandbox \"0d0a\" for name:\"httpd\" attempt:1 failed" error="x"`,
		`time="2024-06-04 00:29:28.046098922+08:00" level=info msg="Ran pod sandbox e24892f993e7128e38039fcc4eaa3c5308bc8de63606321694410c60c97f0596 with infra container: default/example-pod-2/POD" id=b8e28795-0a42-4b11-92ef-1117659ba10d name=/runtime.v1.RuntimeService/RunPodSandbox`,
		`time="2026-05-27T16:02:35.269681149Z" level=info msg="Started container" PID=133675 containerID=75ef25174d7d464246c9cb27d850db42604394b920e6f66b56a94ab3d9c5c983 description=node-density-0/node-density-956/node-density sandboxID=337b3f3c6d63749cd0091d92e825729e9f818f74c626d58fe72978d0c2ea3320`,
		`time="2026-05-27T16:02:35.014226005Z" level=info msg="Created container 75ef25174d7d464246c9cb27d850db42604394b920e6f66b56a94ab3d9c5c983: node-density-0/node-density-956/node-density"`,
		`time="2024-07-08 08:46:26" level=info msg="I1129 15:25:47.360130   17689 kubelet.go:2760] \"SyncLoop ADD\" source=\"file\" pods=[\"default/web-vm\"]" component=kubelet stream=stderr`,
		`time="2024-07-08 08:46:26" level=info msg="time=\"2026-11-29T15:25:47.777375895Z\" level=info msg=\"PullImage \\\"busybox:1\\\"\"" component=containerd stream=stderr`,
	)
}

// jsonLine renders a logfmt seed as logrus' JSON formatter would, roughly:
// enough to seed the JSON fuzzer with real messages.
func jsonLine(line string) string {
	kvs, _ := parseKVs(line, nil)
	var b strings.Builder
	b.WriteByte('{')
	for i, p := range kvs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + p.key + `":"` + strings.ReplaceAll(strings.ReplaceAll(p.val, `\`, `\\`), `"`, `\"`) + `"`)
	}
	b.WriteByte('}')
	return b.String()
}

func checkResult(t *testing.T, line string, res Result) {
	t.Helper()
	if res.Outcome == Recognised && (res.Event.Kind == "" || res.Event.Kind == event.Unrecognised) {
		t.Fatalf("recognised without a kind: %q → %+v", line, res)
	}
	if res.Outcome > Malformed {
		t.Fatalf("bad outcome %d for %q", res.Outcome, line)
	}
}

func FuzzParseLogfmt(f *testing.F) {
	for _, s := range runtimeSeeds(f) {
		f.Add(s)
	}
	recv := time.Date(2026, 11, 29, 15, 30, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, line string) {
		if res, ok := parseLogfmt(nil, line, recv); ok {
			checkResult(t, line, res)
		}
		checkResult(t, line, Parse(line, recv))
	})
}

func FuzzParseRuntimeJSON(f *testing.F) {
	for _, s := range runtimeSeeds(f) {
		f.Add(jsonLine(s))
	}
	recv := time.Date(2026, 11, 29, 15, 30, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, line string) {
		if res, ok := parseRuntimeJSON(nil, line, recv); ok {
			checkResult(t, line, res)
		}
		checkResult(t, line, Parse(line, recv))
	})
}

// The JSON seeds must be what parseRuntimeJSON reads, or the fuzzer starts
// from nothing.
func TestRuntimeJSONSeeds(t *testing.T) {
	recv := time.Now()
	n := 0
	for _, s := range readLines(t, "testdata/containerd-lines.txt") {
		j := jsonLine(s)
		res, ok := parseRuntimeJSON(nil, j, recv)
		if !ok || res.Outcome == Malformed {
			t.Fatalf("seed not read: %s", j)
		}
		text := Parse(s, recv)
		if res.Event.Kind != text.Event.Kind {
			t.Errorf("JSON %v, text %v: %s", res.Event.Kind, text.Event.Kind, j)
		}
		if res.Outcome == Recognised {
			n++
		}
	}
	if n == 0 {
		t.Error("no JSON seed recognised")
	}
}
