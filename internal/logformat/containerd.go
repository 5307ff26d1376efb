package logformat

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/podstart/podstart/internal/event"
)

// containerd and CRI-O both log through logrus: logfmt by default
// (`time="…" level=info msg="…" key=value…`) or JSON with --log-format=json.
// This file reads both encodings into a record and maps containerd's CRI
// messages; crio.go maps CRI-O's.

const (
	formatContainerd = "containerd"
	formatCRIO       = "crio"
)

// logfmtStarts: logrus always quotes the time, as RFC 3339 contains colons.
func logfmtStarts(line string) bool {
	return strings.HasPrefix(line, `time="`)
}

func parseLogfmt(p *Parser, line string, recv time.Time) (Result, bool) {
	return parseLogfmtDepth(p, line, recv, 0)
}

// parseLogfmtDepth reads a logfmt line. depth counts wrappers already
// removed, so that a line re-logged inside its own msg is unwrapped once at
// most.
func parseLogfmtDepth(p *Parser, line string, recv time.Time, depth int) (Result, bool) {
	if !logfmtStarts(line) {
		return Result{}, false
	}
	// logrus writes time, level and msg first; the keys after msg are
	// scanned only when a mapping asks for one (record.load).
	scratch := p.take()
	defer p.give(scratch)
	kvs, raw, good := parseKVsUntil(line, scratch, "level")
	if q, after, ok := undecodedMsg(raw); ok {
		kvs = append(kvs, kv{key: "msg", val: q})
		raw = after
	} else {
		var more bool
		kvs, raw, more = parseKVsUntil(raw, kvs, "msg")
		good = good && more
	}
	rec := record{kvs: kvs, raw: raw}
	var ts, component string
	for i := range kvs {
		switch kvs[i].key {
		case "time":
			ts = kvs[i].val
		case "level":
			rec.sev = levelSev(kvs[i].val)
		case "msg":
			rec.msg = kvs[i].val
		case "component":
			component = kvs[i].val
		}
	}
	if component == "" && strings.Contains(raw, "component=") {
		component = rec.get("component")
	}
	t, timeOK := runtimeTime(ts)
	if !good && msgCut(line) {
		// A message cut short is not mapped: its IDs, image or duration may
		// be cut too.
		if !timeOK {
			t = recv
		}
		return Result{
			Outcome: Malformed,
			Format:  formatContainerd,
			Event:   event.Event{Kind: event.Unrecognised, Time: t, Source: event.SourceRuntime},
		}, true
	}

	// k0s runs the kubelet and containerd as children and re-logs their
	// stderr through its own logrus, the child's line quoted in msg.
	if depth == 0 && (component != "" || klogStarts(rec.msg) || logfmtStarts(rec.msg)) {
		inner := recv
		if inner.IsZero() && timeOK {
			inner = t
		}
		if klogStarts(rec.msg) {
			if res, ok := parseKlogText(p, rec.msg, inner); ok {
				return res, true
			}
		}
		if logfmtStarts(rec.msg) {
			if res, ok := parseLogfmtDepth(p, rec.msg, inner, depth+1); ok {
				return res, true
			}
		}
		if component == "kubelet" {
			// The kubelet's own non-klog output (flag warnings and the like).
			ev := event.Event{Kind: event.Unrecognised, Time: t, Source: event.SourceKubelet}
			if !timeOK {
				ev.Time = recv
			}
			return Result{Event: ev, Outcome: Unrecognised, Format: formatContainerd}, true
		}
	}
	if !timeOK {
		t = recv
	}
	return runtimeResult(&rec, t, good && timeOK, crioLikeTime(ts)), true
}

// undecodedMsg returns the quoted text of the msg that begins rest when no
// mapping reads that message, so that it need not be decoded (see
// prefilter.go); ok is false when it must be. A message without escapes
// costs nothing to decode, and a wrapped line (k0s) is decoded.
func undecodedMsg(rest string) (q, after string, ok bool) {
	body, found := strings.CutPrefix(rest, ` msg="`)
	if !found {
		return "", "", false
	}
	end := quotedEnd(rest[len(` msg=`):])
	if end <= 0 {
		return "", "", false
	}
	q, after = body[:end-1], body[end:]
	if strings.IndexByte(q, '\\') < 0 || runtimeMayMatch(q) || !validQuoted(q) || strings.Contains(after, "component=") {
		return "", "", false
	}
	return q, after, true
}

// msgCut reports whether the quoted msg of a logfmt line is not closed.
// logrus writes msg right after time and level, so its first occurrence is
// the key.
func msgCut(line string) bool {
	i := strings.Index(line, ` msg="`)
	return i >= 0 && quotedEnd(line[i+len(` msg=`):]) < 0
}

// runtimeResult maps a decoded containerd or CRI-O record. good is false
// when the line was malformed; what could be read is still mapped.
// crioHint says the line looks like CRI-O's, for naming the format of lines
// that neither runtime's mapping recognises.
func runtimeResult(rec *record, t time.Time, good, crioHint bool) Result {
	res := Result{Outcome: Recognised, Format: formatContainerd}
	ev, ok := containerdEvent(rec, t)
	if !ok {
		if ev, ok = crioEvent(rec, t); ok {
			res.Format = formatCRIO
		}
	}
	if !good || rec.bad || (!rec.loaded && !kvSyntaxOK(rec.raw)) {
		res.Outcome = Malformed
	}
	if !ok {
		ev = event.Event{Kind: event.Unrecognised, Time: t}
		if res.Outcome == Recognised {
			res.Outcome = Unrecognised
		}
		if crioHint || strings.HasPrefix(rec.get("name"), "/runtime.") {
			res.Format = formatCRIO
		}
	}
	ev.Source = event.SourceRuntime
	res.Event = ev
	return res
}

// levelSev turns a logrus level into record.sev: its first letter upper-cased
// (info I, warning W, error E, fatal F, debug D, trace T, panic P).
func levelSev(level string) byte {
	if level == "" {
		return 0
	}
	c := level[0]
	if c >= 'a' && c <= 'z' {
		c -= 'a' - 'A'
	}
	return c
}

// crioTime is CRI-O's logrus TimestampFormat: a space, not a T.
const crioTime = "2006-01-02 15:04:05.999999999Z07:00"

// crioLikeTime reports whether a timestamp is written as CRI-O writes it.
func crioLikeTime(ts string) bool {
	return len(ts) > 10 && ts[10] == ' '
}

// runtimeTime reads a logrus timestamp: RFC 3339 with nanoseconds
// (containerd), CRI-O's `2006-01-02 15:04:05.999999999Z07:00`, or k0s'
// zoneless `2006-01-02 15:04:05` (taken as UTC). The result is in UTC, like
// the kubelet parsers' times.
func runtimeTime(ts string) (time.Time, bool) {
	if len(ts) < 19 {
		return time.Time{}, false
	}
	var t time.Time
	var err error
	switch {
	case ts[10] == 'T':
		t, err = time.Parse(time.RFC3339Nano, ts)
	case ts[10] != ' ':
		return time.Time{}, false
	case len(ts) == 19:
		t, err = time.Parse(time.DateTime, ts)
	default:
		t, err = time.Parse(crioTime, ts)
	}
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// runtimeJSONStarts: logrus' JSON formatter writes time, level and msg
// (sorted with the other keys). klog's JSON has "ts" and is left to
// klogjson.go.
func runtimeJSONStarts(line string) bool {
	return len(line) > 2 && line[0] == '{' &&
		strings.Contains(line, `"msg":`) && strings.Contains(line, `"level":`) &&
		strings.Contains(line, `"time":`) && !strings.Contains(line, `"ts":`)
}

func parseRuntimeJSON(_ *Parser, line string, recv time.Time) (Result, bool) {
	if !runtimeJSONStarts(line) {
		return Result{}, false
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(line), &fields); err != nil {
		return Result{
			Outcome: Malformed,
			Format:  formatContainerd,
			Event:   event.Event{Kind: event.Unrecognised, Time: recv, Source: event.SourceRuntime},
		}, true
	}
	rec := record{kvs: make([]kv, 0, len(fields))}
	var ts string
	good := true
	for k, raw := range fields {
		v, isString := jsonText(raw)
		switch k {
		case "time":
			ts = v
			good = good && isString
		case "level":
			rec.sev = levelSev(v)
		case "msg":
			rec.msg = v
		}
		rec.kvs = append(rec.kvs, kv{key: k, val: v})
	}
	t, ok := runtimeTime(ts)
	if !ok {
		t, good = recv, false
	}
	return runtimeResult(&rec, t, good, crioLikeTime(ts)), true
}

// jsonText returns a JSON string's text, or any other value as written.
func jsonText(raw json.RawMessage) (string, bool) {
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s, true
		}
	}
	return string(raw), false
}

// containerdEvent maps the CRI plugin's request log lines: each CRI call is
// logged at info on entry ("RunPodSandbox for …"), on success ("… returns
// …") and at error on failure ("… failed" with error=). The CRI metadata is
// printed with %+v: Go struct syntax while the vendored cri-api was
// gogo-generated (1.x, early 2.0: &PodSandboxMetadata{Name:…,}), protobuf
// text since (2.4: name:"…" uid:"…"). Both are read.
func containerdEvent(rec *record, t time.Time) (event.Event, bool) {
	m := rec.msg
	if len(m) < 12 {
		return event.Event{}, false
	}
	switch m[0] {
	case 'R':
		// "RunPodsandbox" is how some builds spell it.
		if rest, ok := cutPrefix2(m, "RunPodSandbox for ", "RunPodsandbox for "); ok {
			return sandboxCall(rec, rest, t)
		}
	case 'P':
		if rest, ok := strings.CutPrefix(m, "PullImage "); ok {
			return pullCall(rec, rest, t)
		}
		if rest, ok := strings.CutPrefix(m, "Pulled image "); ok {
			return pulledImage(rest, t)
		}
	case 'C':
		if rest, ok := strings.CutPrefix(m, "CreateContainer within sandbox "); ok {
			return createCall(rec, rest, t)
		}
	case 'S':
		if rest, ok := strings.CutPrefix(m, "StartContainer for "); ok {
			return startCall(rec, rest, t)
		}
		// The kubelet stops a pod's sandbox when the pod goes (or before it
		// makes a new one); at --v<2 nothing else in the journal says so.
		if rest, ok := strings.CutPrefix(m, "StopPodSandbox for "); ok {
			if id, n, ok := quoted(rest); ok && id != "" && rest[n:] == "" {
				return event.Event{Kind: event.SandboxStopped, Time: t, SandboxID: id}, true
			}
		}
	case 'r', 'T':
		if rest, ok := strings.CutPrefix(m, "TaskOOM event "); ok {
			return oomEvent(rest, t)
		}
		// The exit of a task. Sandbox exits that say so ("received sandbox
		// exit event", "SandboxExit event") fall through. One exit may be
		// logged under two of these texts, and 1.x logs the pause task's
		// exit as a TaskExit too (its ID is the sandbox ID): consumers match
		// exits to container IDs they know and keep the first.
		for _, p := range [...]string{
			"received container exit event ",        // 2.4
			"received exit event ",                  // 1.6/1.7 (info in late patch releases), 2.0–2.3
			"TaskExit event in podsandbox handler ", // 2.0+ podsandbox controller
			"TaskExit event ",                       // 1.x event monitor
		} {
			if rest, ok := strings.CutPrefix(m, p); ok {
				return exitEvent(rest, t)
			}
		}
	}
	return event.Event{}, false
}

func cutPrefix2(s, a, b string) (string, bool) {
	if rest, ok := strings.CutPrefix(s, a); ok {
		return rest, true
	}
	return strings.CutPrefix(s, b)
}

// sandboxCall: `<meta>`, `<meta> returns sandbox id "<id>"`, `<meta> failed, error`.
func sandboxCall(rec *record, rest string, t time.Time) (event.Event, bool) {
	md, n, ok := parseMeta(rest)
	if !ok {
		return event.Event{}, false
	}
	ev := event.Event{Time: t, Pod: event.PodRef{Namespace: md.namespace, Name: md.name, UID: md.uid}, Attempt: md.attempt}
	after := strings.TrimLeft(rest[n:], " ")
	switch {
	case after == "":
		ev.Kind = event.SandboxStart
	case strings.HasPrefix(after, "returns sandbox id "):
		id, _, ok := quoted(after[len("returns sandbox id "):])
		if !ok || id == "" {
			return event.Event{}, false
		}
		ev.Kind, ev.SandboxID = event.SandboxReady, id
	case strings.HasPrefix(after, "failed"):
		msg := rec.get("error")
		ev.Kind, ev.Reason, ev.Message = event.SandboxFailed, classifySandboxError(msg), msg
	default:
		return event.Event{}, false
	}
	return ev, true
}

// pullCall: `"<image>"`, `"<image>" returns image reference "<ref>"`, `"<image>" failed`.
func pullCall(rec *record, rest string, t time.Time) (event.Event, bool) {
	img, n, ok := quoted(rest)
	if !ok || img == "" {
		return event.Event{}, false
	}
	ev := event.Event{Time: t, Image: img}
	after := rest[n:]
	switch {
	case after == "":
		ev.Kind = event.ImagePullStart
	case strings.HasPrefix(after, " returns image reference "):
		ref, _, ok := quoted(after[len(" returns image reference "):])
		if !ok {
			return event.Event{}, false
		}
		ev.Kind, ev.ImageRef = event.ImagePulled, ref
	case strings.HasPrefix(after, " failed"):
		msg := rec.get("error")
		ev.Kind, ev.Reason, ev.Message = event.ImagePullFailed, classifyPullError(msg), msg
	default:
		// Debug lines such as `PullImage "x" with snapshotter overlayfs …`.
		return event.Event{}, false
	}
	return ev, true
}

// pulledImage reads `"<image>" with image id "<id>", repo tag "<tag>", repo
// digest "<digest>", size "<bytes>" in <duration>` (≥1.7, info) or the same
// without size and duration (1.6, debug).
func pulledImage(rest string, t time.Time) (event.Event, bool) {
	img, n, ok := quoted(rest)
	if !ok || img == "" {
		return event.Event{}, false
	}
	after, ok := strings.CutPrefix(rest[n:], " with image id ")
	if !ok {
		return event.Event{}, false
	}
	id, n, ok := quoted(after)
	if !ok {
		return event.Event{}, false
	}
	ev := event.Event{Kind: event.ImagePullDetail, Time: t, Image: img, ImageRef: id}
	after = after[n:]
	if i := strings.Index(after, `, size "`); i >= 0 {
		after = after[i+len(`, size `):]
		size, n, ok := quoted(after)
		if ok {
			if b, err := strconv.ParseInt(size, 10, 64); err == nil && b >= 0 {
				ev.ImageSize = b
			}
			after = after[n:]
		}
		if d, ok := strings.CutPrefix(after, " in "); ok {
			if dur, err := time.ParseDuration(d); err == nil && dur >= 0 {
				ev.Duration, ev.HasDuration = dur, true
			}
		}
	}
	return ev, true
}

// createCall: `"<sandbox>" for container <meta>`, `"<sandbox>" for <meta>
// returns container id "<id>"`, `"<sandbox>" for <meta> failed`.
func createCall(rec *record, rest string, t time.Time) (event.Event, bool) {
	sb, n, ok := quoted(rest)
	if !ok || sb == "" {
		return event.Event{}, false
	}
	rest = rest[n:]
	kind := event.ContainerCreated
	if r, ok := strings.CutPrefix(rest, " for container "); ok {
		kind, rest = event.ContainerCreateStart, r
	} else if r, ok := strings.CutPrefix(rest, " for "); ok {
		rest = r
	} else {
		return event.Event{}, false
	}
	md, n, ok := parseMeta(rest)
	if !ok {
		return event.Event{}, false
	}
	ev := event.Event{Time: t, SandboxID: sb, Container: md.name, Attempt: md.attempt}
	after := strings.TrimLeft(rest[n:], " ")
	switch {
	case kind == event.ContainerCreateStart:
		if after != "" {
			return event.Event{}, false
		}
		ev.Kind = kind
	case strings.HasPrefix(after, "returns container id "):
		id, _, ok := quoted(after[len("returns container id "):])
		if !ok || id == "" {
			return event.Event{}, false
		}
		ev.Kind, ev.ContainerID = event.ContainerCreated, id
	case strings.HasPrefix(after, "failed"):
		ev.Kind, ev.Reason, ev.Message = event.ContainerCreateFailed, event.ReasonCreateContainerError, rec.get("error")
	default:
		return event.Event{}, false
	}
	return ev, true
}

// startCall: `"<id>"`, `"<id>" returns successfully`, `"<id>" failed`.
func startCall(rec *record, rest string, t time.Time) (event.Event, bool) {
	id, n, ok := quoted(rest)
	if !ok || id == "" {
		return event.Event{}, false
	}
	ev := event.Event{Time: t, ContainerID: id}
	switch after := rest[n:]; {
	case after == "":
		ev.Kind = event.ContainerStartStart
	case after == " returns successfully":
		ev.Kind = event.ContainerStarted
	case strings.HasPrefix(after, " failed"):
		ev.Kind, ev.Reason, ev.Message = event.ContainerStartFailed, event.ReasonRunContainerError, rec.get("error")
	default:
		return event.Event{}, false
	}
	return ev, true
}

// exitEvent reads a TaskExit: protobuf text (`container_id:"…" id:"…"
// pid:N exit_status:N exited_at:{seconds:N nanos:N}`, zero fields left out)
// or Go struct syntax (`&TaskExit{ContainerID:…,ID:…,Pid:N,ExitStatus:N,
// ExitedAt:2018-12-03 19:01:50.016792753 +0000 UTC,}`). Only the init
// process counts (ID == ContainerID): exec'd processes (probes) exit too.
// exited_at, the shim's record of the exit, is the event's time.
func exitEvent(rest string, t time.Time) (event.Event, bool) {
	var cid, id, status, exitedAt string
	ok := taskFields(rest, "&TaskExit{", func(k, v string) {
		switch k {
		case "container_id":
			cid = v
		case "id":
			id = v
		case "exit_status":
			status = v
		case "exited_at":
			exitedAt = v
		}
	})
	if !ok {
		return event.Event{}, false
	}
	if cid == "" || cid != id {
		return event.Event{}, false
	}
	ev := event.Event{Kind: event.ContainerExited, Time: t, ContainerID: id, HasExit: true}
	if status != "" {
		c, err := strconv.ParseUint(status, 10, 32)
		if err != nil {
			return event.Event{}, false
		}
		// ExitStatus is a uint32; the kubelet reports it as int32.
		ev.ExitCode = int(int32(uint32(c)))
	}
	if at, ok := exitTime(exitedAt); ok {
		ev.Time = at
	}
	return ev, true
}

// exitTime reads exited_at: `{seconds:N nanos:N}` or time.Time's String().
func exitTime(v string) (time.Time, bool) {
	if v == "" {
		return time.Time{}, false
	}
	if v[0] == '{' && v[len(v)-1] == '}' {
		var sec, ns int64
		sc := protoScanner{s: v[1 : len(v)-1]}
		for {
			k, val, ok := sc.next()
			if !ok {
				break
			}
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil {
				return time.Time{}, false
			}
			switch k {
			case "seconds":
				sec = n
			case "nanos":
				ns = n
			}
		}
		// A zero or absurd timestamp is no exit instant.
		if sc.bad || sec <= 0 || sec > 1<<40 || ns < 0 || ns >= 1e9 {
			return time.Time{}, false
		}
		return time.Unix(sec, ns).UTC(), true
	}
	if i := strings.Index(v, " m="); i >= 0 {
		v = v[:i]
	}
	at, err := time.Parse("2006-01-02 15:04:05.999999999 -0700 MST", v)
	if err != nil || at.Year() < 2000 {
		return time.Time{}, false
	}
	return at.UTC(), true
}

// classifyPullError maps a pull error's text to a failure reason. The
// kubelet's own reasons are InvalidImageName (a reference that does not
// parse) and RegistryUnavailable (CRI's ErrRegistryUnavailable, whose text
// starts the error); everything else is ErrImagePull, which the text splits
// further by what an operator does next: ImageNotFound (check the name and
// tag), RegistryUnauthorized (check the pull secret), RegistryUnavailable
// (check the registry and the node's way to it). A runtime that is itself
// unreachable ("dial unix …") stays ErrImagePull: that is no registry's
// fault.
func classifyPullError(msg string) string {
	has := func(subs ...string) bool {
		for _, s := range subs {
			if strings.Contains(msg, s) {
				return true
			}
		}
		return false
	}
	switch {
	case has("RegistryUnavailable"):
		return event.ReasonRegistryUnavailable
	case has("InvalidImageName", "invalid reference format", "Failed to apply default image tag", "couldn't parse image name"):
		return event.ReasonInvalidImageName
	case has("dial unix ", ".sock: connect"):
		return event.ReasonErrImagePull
	case has("401 Unauthorized", "403 Forbidden", "unauthorized:", "pull access denied", "authorization failed",
		"no basic auth credentials", "authentication required", "denied: requested access"):
		return event.ReasonRegistryUnauthorized
	case has("code = NotFound", "manifest unknown", "name unknown", "404 Not Found", "repository does not exist") ||
		(strings.HasSuffix(msg, ": not found") || strings.Contains(msg, ": not found\"")) && has("failed to resolve", "failed to pull"):
		return event.ReasonImageNotFound
	case has("dial tcp", "i/o timeout", "connection refused", "no such host", "TLS handshake", "x509: ", "tls: ",
		"Service Unavailable", "Bad Gateway", "Gateway Timeout", "Internal Server Error", "connection reset by peer",
		"network is unreachable", "no route to host", "server gave HTTP response to HTTPS client", "context deadline exceeded",
		"code = DeadlineExceeded", "Client.Timeout exceeded"):
		return event.ReasonRegistryUnavailable
	}
	return event.ReasonErrImagePull
}

// classifySandboxError tells a sandbox that failed in its network setup (the
// CNI plugin, or no CNI configuration) from other sandbox failures (the
// pause image, the OCI runtime, the runtime being down).
func classifySandboxError(msg string) string {
	for _, s := range []string{"failed to setup network for sandbox", "failed to create pod network sandbox",
		"to CNI network", "plugin type=", "cni plugin not initialized", "NetworkPluginNotReady",
		"networkPlugin cni failed", "failed to set up sandbox container", "No CNI configuration file"} {
		if strings.Contains(msg, s) {
			return event.ReasonFailedCreatePodSandBoxCNI
		}
	}
	return event.ReasonFailedCreatePodSandBox
}

// oomEvent reads a TaskOOM: `container_id:"<id>"` (2.x) or
// `&TaskOOM{ContainerID:<id>,XXX_unrecognized:[],}` (1.x). The kernel
// killed a process in the container's cgroup for its memory limit.
func oomEvent(rest string, t time.Time) (event.Event, bool) {
	var id string
	ok := taskFields(rest, "&TaskOOM{", func(k, v string) {
		if k == "container_id" {
			id = v
		}
	})
	if !ok {
		return event.Event{}, false
	}
	if id == "" {
		return event.Event{}, false
	}
	return event.Event{Kind: event.ContainerOOM, Time: t, ContainerID: id, Reason: event.ReasonOOMKilled}, true
}

// taskFields reads the fields of a task event as containerd 1.x writes it
// (Go struct syntax after structPrefix, `&TaskExit{ContainerID:…,}`) or as
// 2.x does (protobuf text, `container_id:"…"`), and hands each to f under
// its protobuf name. It reports false for a struct that is not closed or
// protobuf text it cannot read: a line cut short.
func taskFields(rest, structPrefix string, f func(key, val string)) bool {
	if body, ok := strings.CutPrefix(rest, structPrefix); ok {
		sc := structScanner{s: body}
		for k, v, ok := sc.next(); ok; k, v, ok = sc.next() {
			if name := taskFieldName(k); name != "" {
				f(name, v)
			}
		}
		return sc.closed
	}
	sc := protoScanner{s: rest}
	for k, v, ok := sc.next(); ok; k, v, ok = sc.next() {
		f(k, v)
	}
	return !sc.bad
}

// taskFieldName returns the protobuf name of a task field podstart reads,
// given its Go struct name; "" for the others.
func taskFieldName(structName string) string {
	switch structName {
	case "ContainerID":
		return "container_id"
	case "ID":
		return "id"
	case "ExitStatus":
		return "exit_status"
	case "ExitedAt":
		return "exited_at"
	}
	return ""
}

// quoted reads the Go-quoted string at the start of s (as %q writes it) and
// returns it with the bytes consumed. A string that is not closed is not
// read: a line cut short must not yield a cut-short ID.
func quoted(s string) (string, int, bool) {
	if s == "" || s[0] != '"' {
		return "", 0, false
	}
	end := quotedEnd(s)
	if end < 0 {
		return "", 0, false
	}
	q := s[:end+1]
	if strings.IndexByte(q, '\\') < 0 {
		return q[1:end], end + 1, true
	}
	u, err := strconv.Unquote(q)
	if err != nil {
		return unescapeLoose(q[1:end]), end + 1, true
	}
	return u, end + 1, true
}

// meta is a PodSandboxMetadata or ContainerMetadata as far as it was logged.
type meta struct {
	name, uid, namespace string
	attempt              int
}

// parseMeta reads CRI metadata at the start of s in either rendering and
// returns the bytes consumed. Unknown fields are skipped; protobuf text
// leaves out zero fields (attempt 0).
func parseMeta(s string) (meta, int, bool) {
	var md meta
	set := func(k, v string) {
		switch k {
		case "name", "Name":
			md.name = v
		case "uid", "Uid":
			md.uid = v
		case "namespace", "Namespace":
			md.namespace = v
		case "attempt", "Attempt":
			if a, err := strconv.Atoi(v); err == nil && a >= 0 {
				md.attempt = a
			}
		}
	}
	if s != "" && s[0] == '&' {
		brace := strings.IndexByte(s, '{')
		if brace < 0 || !strings.HasSuffix(s[:brace], "Metadata") {
			return meta{}, 0, false
		}
		sc := structScanner{s: s[brace+1:]}
		for {
			k, v, ok := sc.next()
			if !ok {
				break
			}
			set(k, v)
		}
		if !sc.closed || md.name == "" {
			return meta{}, 0, false
		}
		return md, brace + 1 + sc.i, true
	}
	sc := protoScanner{s: s}
	for {
		k, v, ok := sc.next()
		if !ok {
			break
		}
		set(k, v)
	}
	if sc.bad || md.name == "" {
		return meta{}, 0, false
	}
	return md, sc.i, true
}

// protoScanner walks protobuf text format: `key:value` pairs separated by
// one or more spaces (the Go encoder randomly doubles some), values quoted
// strings, bare scalars or {…} messages (returned with their braces). It
// stops at the first word that is not a pair, leaving i there.
type protoScanner struct {
	s   string
	i   int
	bad bool // a value was cut short or badly quoted
}

func (p *protoScanner) next() (key, val string, ok bool) {
	j := p.i
	for j < len(p.s) && p.s[j] == ' ' {
		j++
	}
	k := j
	for k < len(p.s) && (p.s[k] == '_' || (p.s[k] >= 'a' && p.s[k] <= 'z') || (p.s[k] >= 'A' && p.s[k] <= 'Z') || (p.s[k] >= '0' && p.s[k] <= '9')) {
		k++
	}
	if k == j || k >= len(p.s) || p.s[k] != ':' {
		return "", "", false
	}
	key = p.s[j:k]
	v := k + 1
	for v < len(p.s) && p.s[v] == ' ' {
		v++
	}
	rest := p.s[v:]
	switch {
	case rest == "":
		p.bad = true
		return "", "", false
	case rest[0] == '"':
		s, n, ok := quoted(rest)
		if !ok {
			p.bad = true
			return "", "", false
		}
		val, p.i = s, v+n
	case rest[0] == '{':
		end := bracketEnd(rest, 0)
		if end < 0 {
			p.bad = true
			return "", "", false
		}
		val, p.i = rest[:end+1], v+end+1
	default:
		end := strings.IndexByte(rest, ' ')
		if end < 0 {
			end = len(rest)
		}
		val, p.i = rest[:end], v+end
	}
	return key, val, true
}

// structScanner walks gogo/protobuf's Go struct rendering after its opening
// brace: `Key:value,Key:value,}`. Values run to the next comma; closed
// reports that the closing brace was reached, and i is just past it.
type structScanner struct {
	s      string
	i      int
	closed bool
}

func (p *structScanner) next() (key, val string, ok bool) {
	if p.closed || p.i >= len(p.s) {
		return "", "", false
	}
	rest := p.s[p.i:]
	if rest[0] == '}' {
		p.closed = true
		p.i++
		return "", "", false
	}
	end := strings.IndexByte(rest, ',')
	if end < 0 {
		// Cut short: no field separator, no closing brace.
		p.i = len(p.s)
		return "", "", false
	}
	field := rest[:end]
	p.i += end + 1
	colon := strings.IndexByte(field, ':')
	if colon <= 0 {
		return "", "", false
	}
	return field[:colon], field[colon+1:], true
}
