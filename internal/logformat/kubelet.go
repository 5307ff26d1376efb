package logformat

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/podstart/podstart/internal/event"
)

// kubeletEvent maps a decoded kubelet line (text or JSON) to an event. It
// matches the quoted message and keys, never file:line, and accepts every
// rendering seen from kubelet 1.8 to 1.37 (see kubelet-and-cri.md). Names
// and IDs are read from whole values only (record.whole): a value cut short
// by a pager would name the wrong pod.
func kubeletEvent(r *record) (event.Event, bool) {
	m := r.msg
	switch m {
	case "SyncLoop ADD":
		return syncLoop(event.PodAdd, r.whole("pods"))
	case "SyncLoop UPDATE":
		return syncLoop(event.PodUpdate, r.whole("pods"))
	case "SyncLoop DELETE":
		return syncLoop(event.PodDelete, r.whole("pods"))
	case "SyncLoop REMOVE":
		return syncLoop(event.PodRemove, r.whole("pods"))
	case "No sandbox for pod can be found. Need to start a new one":
		return event.Event{Kind: event.PodNoSandbox, Pod: r.pod()}, true
	case "SyncLoop (PLEG): event for pod":
		return plegEvent(r.pod(), r.whole("event"))
	case "Generic (PLEG): container finished":
		ev := event.Event{Kind: event.ContainerExited, Pod: event.PodRef{UID: r.whole("podID")}, ContainerID: r.whole("containerID")}
		if c, err := strconv.Atoi(r.whole("exitCode")); err == nil {
			ev.ExitCode, ev.HasExit = c, true
		}
		return ev, true
	case "Creating PodSandbox for pod":
		return event.Event{Kind: event.SandboxStart, Pod: r.pod()}, true
	case "Created PodSandbox for pod":
		return event.Event{Kind: event.SandboxReady, Pod: r.pod(), SandboxID: r.whole("podSandboxID")}, true
	case "CreatePodSandbox for pod failed", "Failed to create sandbox for pod",
		// The CRI client's own error line (remote_runtime.go, log.go in
		// 1.33+): it names no pod, but says a sandbox failed.
		"RunPodSandbox from runtime service failed":
		return event.Event{Kind: event.SandboxFailed, Pod: r.pod(), Reason: classifySandboxError(r.get("err")), Message: r.get("err")}, true
	case "Failed to pull image", "PullImage from image service failed":
		return event.Event{Kind: event.ImagePullFailed, Pod: r.pod(), Image: r.whole("image"), Reason: classifyPullError(r.get("err")), Message: r.get("err")}, true
	case "Error syncing pod, skipping":
		return syncError(r.pod(), r.get("err"))
	case "Unable to attach or mount volumes for pod; skipping pod":
		return event.Event{Kind: event.VolumeMountFailed, Pod: r.pod(), Reason: event.ReasonFailedMount, Message: r.get("err")}, true
	case "Back-off restarting failed container":
		return backOffErr(r.get("err"))
	case "Probe failed", "Probe errored", "Probe unknown without error":
		out := r.get("output")
		if out == "" {
			out = r.get("err")
		}
		return event.Event{Kind: event.ProbeFailed, Pod: r.pod(), Container: r.whole("containerName"), Reason: probeReason(r.whole("probeType")), Message: out}, true
	case "SyncLoop (probe)":
		ev := event.Event{Kind: event.ProbeStatus, Pod: r.pod(), Reason: r.whole("probe"), Message: r.whole("status")}
		if ev.Reason == "readiness" && ev.Message == "ready" {
			ev.Kind = event.PodReady
		}
		return ev, true
	case "Killing container with a grace period":
		return event.Event{Kind: event.ContainerKilling, Pod: r.pod(), Container: r.whole("containerName"), ContainerID: trimRuntimeScheme(r.whole("containerID"))}, true
	case "Pod admission denied":
		return event.Event{Kind: event.PodAdmissionDenied, Pod: r.pod(), Reason: event.ReasonAdmissionDenied, Message: r.get("message")}, true
	case "Observed pod startup duration":
		return tracker(r)
	case "Event occurred":
		return kubeEvent(r.whole("object"), r.whole("kind"), r.whole("fieldPath"), r.whole("reason"), r.get("message"))
	case "Kubelet version":
		return event.Event{Kind: event.KubeletStart, Message: r.whole("kubeletVersion")}, true
	case "Eviction manager: pod is evicted successfully":
		return event.Event{Kind: event.PodEvicted, Pod: r.pod(), Reason: event.ReasonEvicted}, true
	case "Skipping pod synchronization":
		return syncSkipped(r.get("err"))
	case "Eviction manager: attempting to reclaim":
		return pressure(r.whole("resourceName"))
	}
	if p, ok := nodeProblems[m]; ok {
		msg := r.get("err")
		switch m {
		case "Container runtime not ready":
			msg = r.get("runtimeReady")
		case "Container runtime network not ready":
			msg = r.get("networkReady")
		case "Node became not ready":
			msg = r.get("condition")
		}
		return event.Event{Kind: event.NodeProblem, Reason: p, Message: msg}, true
	}
	// Messages that embed their details (the volume messages) or that are
	// unstructured (old kubelets, klog.Errorf).
	switch {
	case strings.HasPrefix(m, "operationExecutor.VerifyControllerAttachedVolume started for volume "):
		return volumeEvent(event.VolumeVerifyStarted, m, r.whole("pod"))
	case strings.HasPrefix(m, "operationExecutor.MountVolume started for volume "):
		return volumeEvent(event.VolumeMountStarted, m, r.whole("pod"))
	case strings.HasPrefix(m, "MountVolume.SetUp succeeded for volume "):
		return volumeEvent(event.VolumeMounted, m, r.whole("pod"))
	case strings.HasPrefix(m, "Operation for "):
		return mountOperationFailed(m)
	case strings.HasPrefix(m, "SyncLoop ("):
		return oldSyncLoop(m)
	case strings.HasPrefix(m, "No sandbox for pod "):
		// <=1.18: No sandbox for pod "name_ns(uid)" can be found. Need to start a new one
		if v, _, ok := scanValue(strings.TrimPrefix(m, "No sandbox for pod ")); ok {
			return event.Event{Kind: event.PodNoSandbox, Pod: formatPod(v)}, true
		}
	case strings.HasPrefix(m, "Event(v1.ObjectReference{"):
		return oldKubeEvent(m)
	case strings.HasPrefix(m, "Error syncing pod "):
		return oldSyncError(m)
	case strings.HasPrefix(m, "RunPodSandbox from runtime service failed: "):
		// <=1.20, unstructured; names no pod.
		msg := m[len("RunPodSandbox from runtime service failed: "):]
		return event.Event{Kind: event.SandboxFailed, Reason: classifySandboxError(msg), Message: msg}, true
	case strings.HasPrefix(m, "CreatePodSandbox for pod \""), strings.HasPrefix(m, "createPodSandbox for pod \""):
		// <=1.20: CreatePodSandbox for pod "name_ns(uid)" failed: <err>
		// (kuberuntime_sandbox.go), createPodSandbox … (kuberuntime_manager.go).
		rest := m[len("CreatePodSandbox for pod "):]
		if v, n, ok := scanValue(rest); ok && strings.HasPrefix(rest[n:], " failed: ") {
			msg := rest[n+len(" failed: "):]
			return event.Event{Kind: event.SandboxFailed, Pod: formatPod(v), Reason: classifySandboxError(msg), Message: msg}, true
		}
	case strings.Contains(m, " probe for \""):
		return oldProbe(m)
	case strings.HasPrefix(m, "skipping pod synchronization - "):
		// <=1.19: skipping pod synchronization - PLEG is not healthy: …
		return syncSkipped(m[len("skipping pod synchronization - "):])
	}
	// Unstructured node problems of kubelets before structured logging
	// (<=1.19), and the lease controller's printf form of that era.
	for _, u := range oldNodeProblems {
		if strings.HasPrefix(m, u.prefix) {
			return event.Event{Kind: event.NodeProblem, Reason: u.problem, Message: m}, true
		}
	}
	return event.Event{}, false
}

// nodeProblems maps the kubelet's structured messages about the node's own
// health (all logged at every verbosity, as errors or V0) to a problem.
var nodeProblems = map[string]string{
	"Container runtime sanity check failed":     event.ProblemRuntimeDown,
	"Container runtime not ready":               event.ProblemRuntimeNotReady,
	"Container runtime network not ready":       event.ProblemNetworkNotReady,
	"Error updating node status, will retry":    event.ProblemNodeStatusUpdate,
	"Unable to update node status":              event.ProblemNodeStatusUpdate,
	"Failed to ensure lease exists, will retry": event.ProblemLeaseUpdate,
	"Failed to update lease":                    event.ProblemLeaseUpdate,
	"Node became not ready":                     event.ProblemNodeNotReady,
	// "… failed once" is left out: every kubelet logs it at start, before
	// its stats are initialised.
	"Image garbage collection failed multiple times in a row":                                                   event.ProblemImageGCFailed,
	"Disk usage on image filesystem is over the high threshold, trying to free bytes down to the low threshold": event.ProblemImageFSPressure,
}

// oldNodeProblems are the printf forms of the same messages.
var oldNodeProblems = []struct{ prefix, problem string }{
	{"Error updating node status, will retry: ", event.ProblemNodeStatusUpdate},
	{"failed to ensure lease exists, will retry", event.ProblemLeaseUpdate},
	{"failed to update lease, error: ", event.ProblemLeaseUpdate},
	{"Container runtime network not ready: ", event.ProblemNetworkNotReady},
	{"Container runtime not ready: ", event.ProblemRuntimeNotReady},
	{"Image garbage collection failed multiple times in a row: ", event.ProblemImageGCFailed},
}

// syncSkipped reads why the kubelet's sync loop skipped a round: the runtime
// state's aggregated errors, e.g. "[container runtime is down, PLEG is not
// healthy: pleg was last seen active 3m5s ago; threshold is 3m0s]". A
// kubelet that has just started says "container runtime status check may
// not have completed yet" and "pleg has yet to be successful": that is
// not a problem. Of several errors, the PLEG's is named (the one that turns
// the node NotReady).
func syncSkipped(err string) (event.Event, bool) {
	ev := event.Event{Kind: event.NodeProblem, Message: err}
	switch {
	case strings.Contains(err, "PLEG is not healthy: pleg was last seen active"):
		ev.Reason = event.ProblemPLEGUnhealthy
	case strings.Contains(err, "container runtime is down"):
		ev.Reason = event.ProblemRuntimeDown
	case strings.Contains(err, "container runtime not ready"):
		ev.Reason = event.ProblemRuntimeNotReady
	case strings.Contains(err, "network is not ready"):
		ev.Reason = event.ProblemNetworkNotReady
	default:
		return event.Event{}, false
	}
	return ev, true
}

// pressure reads the resource the eviction manager reclaims (its
// resourceToReclaim: memory, ephemeral-storage, inodes, pids).
func pressure(resource string) (event.Event, bool) {
	ev := event.Event{Kind: event.NodeProblem, Message: resource}
	switch resource {
	case "memory":
		ev.Reason = event.ProblemMemoryPressure
	case "ephemeral-storage", "inodes":
		ev.Reason = event.ProblemDiskPressure
	case "pids":
		ev.Reason = event.ProblemPIDPressure
	default:
		return event.Event{}, false
	}
	return ev, true
}

// pod returns the pod a structured line names: its pod key (klog.KObj) and,
// when the line has one, podUID.
func (r *record) pod() event.PodRef {
	p := podRef(r.whole("pod"))
	p.UID = r.whole("podUID")
	return p
}

// podRef reads a klog.KObj value: "ns/name", a cluster-scoped "name", or the
// JSON object {"name":…,"namespace":…}.
func podRef(v string) event.PodRef {
	if v == "" {
		return event.PodRef{}
	}
	if v[0] == '{' {
		var o struct{ Name, Namespace string }
		if json.Unmarshal([]byte(v), &o) == nil {
			return event.PodRef{Namespace: o.Namespace, Name: o.Name}
		}
		return event.PodRef{}
	}
	if i := strings.IndexByte(v, '/'); i >= 0 {
		return event.PodRef{Namespace: v[:i], Name: v[i+1:]}
	}
	return event.PodRef{Name: v}
}

// podList reads a SyncLoop pods value in all its renderings:
// [ns/a ns/b], [ns/a], ["ns/a","ns/b"], [{"name":…,"namespace":…}], null.
func podList(v string) []event.PodRef {
	v = strings.TrimSpace(v)
	if v == "" || v == "null" || v == "[]" {
		return nil
	}
	if strings.HasPrefix(v, "[{") {
		var objs []struct{ Name, Namespace string }
		if json.Unmarshal([]byte(v), &objs) != nil {
			return nil
		}
		out := make([]event.PodRef, 0, len(objs))
		for _, o := range objs {
			out = append(out, event.PodRef{Namespace: o.Namespace, Name: o.Name})
		}
		return out
	}
	v = strings.TrimSuffix(strings.TrimPrefix(v, "["), "]")
	var out []event.PodRef
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }) {
		f = strings.Trim(f, `"`)
		if f != "" {
			out = append(out, podRef(f))
		}
	}
	return out
}

func syncLoop(k event.Kind, pods string) (event.Event, bool) {
	list := podList(pods)
	if len(list) == 0 {
		// pods=[] (the file source's first ADD at kubelet start), null, or
		// a list cut short: about no pod.
		return event.Event{}, false
	}
	ev := event.Event{Kind: k}
	if len(list) > 0 {
		ev.Pod = list[0]
	}
	if len(list) > 1 {
		ev.Pods = list
	}
	return ev, true
}

// formatPod reads the kubelet's format.Pod rendering "name_namespace(uid)".
func formatPod(s string) event.PodRef {
	s = strings.TrimSpace(s)
	var p event.PodRef
	if i := strings.LastIndexByte(s, '('); i >= 0 && strings.HasSuffix(s, ")") {
		p.UID = s[i+1 : len(s)-1]
		s = s[:i]
	}
	// Neither pod names nor namespaces may contain '_'.
	if i := strings.IndexByte(s, '_'); i >= 0 {
		p.Name, p.Namespace = s[:i], s[i+1:]
	} else {
		p.Name = s
	}
	return p
}

// oldSyncLoop reads the <=1.20 unstructured forms:
// SyncLoop (ADD, "api"): "name_ns(uid), other_ns(uid)"
// SyncLoop (PLEG): "name_ns(uid)", event: &pleg.PodLifecycleEvent{ID:"uid", Type:"ContainerStarted", Data:"id"}
func oldSyncLoop(m string) (event.Event, bool) {
	rest := strings.TrimPrefix(m, "SyncLoop (")
	if strings.HasPrefix(rest, "PLEG): ") {
		rest = rest[len("PLEG): "):]
		v, n, _ := scanValue(rest)
		pod := formatPod(v)
		i := strings.Index(rest[n:], "event: ")
		if i < 0 {
			return event.Event{}, false
		}
		return plegEvent(pod, rest[n+i+len("event: "):])
	}
	kinds := map[string]event.Kind{"ADD": event.PodAdd, "UPDATE": event.PodUpdate, "DELETE": event.PodDelete, "REMOVE": event.PodRemove}
	comma := strings.IndexByte(rest, ',')
	if comma < 0 {
		return event.Event{}, false
	}
	k, ok := kinds[rest[:comma]]
	if !ok {
		return event.Event{}, false
	}
	i := strings.Index(rest, "): ")
	if i < 0 {
		return event.Event{}, false
	}
	v, _, _ := scanValue(rest[i+3:])
	var pods []event.PodRef
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			pods = append(pods, formatPod(s))
		}
	}
	ev := event.Event{Kind: k}
	if len(pods) > 0 {
		ev.Pod = pods[0]
	}
	if len(pods) > 1 {
		ev.Pods = pods
	}
	return ev, true
}

// plegEvent reads a PodLifecycleEvent in its JSON form (1.28+:
// {"ID":"…","Type":"ContainerStarted","Data":"…"}) or its %+v forms
// (&{ID:… Type:… Data:…}, &pleg.PodLifecycleEvent{ID:"…", Type:"…", Data:"…"}).
func plegEvent(pod event.PodRef, v string) (event.Event, bool) {
	id, typ, data := fieldOf(v, "ID"), fieldOf(v, "Type"), fieldOf(v, "Data")
	if pod.UID == "" {
		pod.UID = id
	}
	switch typ {
	case "ContainerStarted":
		return event.Event{Kind: event.ContainerStarted, Pod: pod, ContainerID: data}, true
	case "ContainerDied":
		return event.Event{Kind: event.ContainerExited, Pod: pod, ContainerID: data}, true
	}
	return event.Event{Kind: event.KubeEvent, Pod: pod, Reason: typ}, true
}

// fieldOf finds a field of a struct rendered as JSON ("ID":"x"), as Go %+v
// (ID:x) or as Go %#v (ID:"x").
func fieldOf(v, name string) string {
	for _, pat := range []string{`"` + name + `":`, name + ":"} {
		i := 0
		for {
			j := strings.Index(v[i:], pat)
			if j < 0 {
				break
			}
			j += i
			// Must start a field, not end a longer name.
			if j > 0 {
				c := v[j-1]
				if c != '{' && c != ' ' && c != ',' {
					i = j + len(pat)
					continue
				}
			}
			rest := v[j+len(pat):]
			if rest != "" && rest[0] == '"' {
				s, _, _ := scanValue(rest)
				return s
			}
			end := strings.IndexAny(rest, " ,}")
			if end < 0 {
				end = len(rest)
			}
			return rest[:end]
		}
	}
	return ""
}

// volumeEvent reads the detailed volume message:
// <prefix> for volume "<name>" (UniqueName: "<plugin>/<uid>-<name>") pod "<pod>" (UID: "<uid>") <suffix>
func volumeEvent(k event.Kind, m, podKey string) (event.Event, bool) {
	ev := event.Event{Kind: k, Pod: podRef(podKey)}
	volumeDetails(&ev, m)
	return ev, true
}

func volumeDetails(ev *event.Event, m string) {
	// Each detail is a quoted string; one cut short (a pager, a journal
	// line limit) is left out.
	quoted := func(after string) string {
		i := strings.Index(m, after)
		if i < 0 {
			return ""
		}
		v, _, ok := scanValue(m[i+len(after)-1:])
		if !ok {
			return ""
		}
		return v
	}
	ev.Volume = quoted(`for volume "`)
	if u := quoted(`(UniqueName: "`); u != "" {
		ev.Plugin = pluginOf(u)
	}
	if name := quoted(`) pod "`); ev.Pod.Name == "" {
		ev.Pod.Name = name
	}
	if uid := quoted(`(UID: "`); uid != "" {
		ev.Pod.UID = uid
	}
}

// pluginOf returns the volume plugin of a UniqueName:
// kubernetes.io/configmap/<uid>-name → kubernetes.io/configmap,
// kubernetes.io/csi/driver^handle → kubernetes.io/csi.
func pluginOf(unique string) string {
	parts := strings.SplitN(unique, "/", 3)
	if len(parts) >= 2 && parts[0] == "kubernetes.io" {
		return parts[0] + "/" + parts[1]
	}
	if i := strings.LastIndexByte(unique, '/'); i > 0 {
		return unique[:i]
	}
	return unique
}

// mountOperationFailed reads nestedpendingoperations' unstructured error:
// Operation for "{volumeName:… podName:<uid> nodeName:}" failed. No retries permitted until … Error: MountVolume.SetUp failed for volume "x" (UniqueName: "…") pod "p" (UID: "…") : <err>
// and its <=1.19 form, whose error is quoted:
// Operation for "\"<unique name>\"" failed. No retries permitted until … Error: "Volume has not been added … for volume \"x\" (UniqueName: …) pod \"p\" (UID: \"…\") "
// Only failures of the steps that bring a volume up count (attach check,
// mount, map); unmount, detach and teardown failures do not.
func mountOperationFailed(m string) (event.Event, bool) {
	i := strings.Index(m, " failed. No retries permitted until ")
	if i < 0 {
		return event.Event{}, false
	}
	j := strings.Index(m[i:], "Error: ")
	if j < 0 {
		return event.Event{}, false
	}
	detail := m[i+j+len("Error: "):]
	if strings.HasPrefix(detail, `"`) {
		if u, _, ok := scanValue(detail); ok {
			detail = u
		} else {
			detail = unescapeLoose(detail[1:])
		}
	}
	if !mountStep(detail) {
		return event.Event{}, false
	}
	ev := event.Event{Kind: event.VolumeMountFailed, Reason: event.ReasonFailedMount}
	volumeDetails(&ev, detail)
	if k := strings.Index(detail, `") : `); k >= 0 {
		ev.Message = detail[k+len(`") : `):]
	} else {
		ev.Message = strings.TrimSpace(detail)
	}
	return ev, true
}

// mountStep reports whether a volume operation error is about bringing a
// volume up for a pod.
func mountStep(detail string) bool {
	for _, p := range []string{"MountVolume.", "MapVolume.", "VerifyControllerAttachedVolume", "AttachVolume.",
		"Volume has not been added to the list of VolumesInUse", "Volume not attached according to node status"} {
		if strings.HasPrefix(detail, p) {
			return true
		}
	}
	return false
}

// syncError reads "Error syncing pod, skipping": its err names the failed
// step and the kubelet's reason, e.g.
// failed to "StartContainer" for "app" with CrashLoopBackOff: "back-off 5m0s …"
func syncError(pod event.PodRef, msg string) (event.Event, bool) {
	ev := event.Event{Kind: event.PodSyncError, Pod: pod, Reason: event.ReasonOther, Message: msg}
	s := strings.TrimPrefix(msg, "[")
	if strings.HasPrefix(s, `failed to "`) {
		rest := s[len(`failed to `):]
		step, n, _ := scanValue(rest)
		rest = rest[n:]
		if strings.HasPrefix(rest, " for ") {
			c, m, ok := scanValue(rest[len(" for "):])
			if ok {
				ev.Container = c
			}
			rest = rest[len(" for ")+m:]
		}
		if strings.HasPrefix(rest, " with ") {
			rest = rest[len(" with "):]
			reason := rest
			if c := strings.IndexByte(rest, ':'); c >= 0 {
				reason = rest[:c]
				ev.Message = strings.TrimSpace(rest[c+1:])
				if u, _, ok := scanValue(ev.Message); ok && strings.HasPrefix(ev.Message, `"`) {
					ev.Message = u
				}
			}
			ev.Reason = reason
		}
		if step == "CreatePodSandbox" || step == "KillPodSandbox" {
			// The container slot holds format.Pod (name_ns(uid)), which
			// names the pod, or (KillPodSandbox) the pod UID alone.
			if p := formatPod(ev.Container); strings.HasSuffix(ev.Container, ")") && (pod.Name == "" || pod.UID == "") {
				if pod.Name == "" {
					pod.Namespace, pod.Name = p.Namespace, p.Name
				}
				if pod.UID == "" {
					pod.UID = p.UID
				}
				ev.Pod = pod
			}
			ev.Container = ""
		}
	}
	if strings.HasPrefix(msg, "network is not ready: ") {
		// The kubelet starts no pod while the runtime's network is not
		// ready (no CNI configuration yet): before the sandbox.
		ev.Reason = event.ReasonNetworkNotReady
		return ev, true
	}
	switch ev.Reason {
	case event.ReasonErrImagePull, event.ReasonInvalidImageName, event.ReasonErrImageNeverPull, event.ReasonRegistryUnavailable:
		ev.Kind = event.ImagePullFailed
		ev.Image = pullErrorImage(ev.Message)
		if ev.Reason == event.ReasonErrImagePull {
			ev.Reason = classifyPullError(ev.Message)
		}
	case event.ReasonImagePullBackOff:
		ev.Kind = event.ImagePullBackOff
		ev.Image = quotedAfter(ev.Message, "Back-off pulling image ")
	case event.ReasonCrashLoopBackOff:
		ev.Kind = event.ContainerBackOff
		ev.Duration, ev.HasDuration = backOffDuration(ev.Message)
	case event.ReasonCreateContainerConfigError, event.ReasonCreateContainerError:
		ev.Kind = event.ContainerCreateFailed
	case event.ReasonRunContainerError:
		ev.Kind = event.ContainerStartFailed
	case "CreatePodSandboxError":
		ev.Kind, ev.Reason = event.SandboxFailed, classifySandboxError(ev.Message)
	default:
		if strings.Contains(msg, "unmounted volumes=") || strings.HasPrefix(msg, "unable to attach or mount volumes") {
			ev.Kind, ev.Reason = event.VolumeMountFailed, event.ReasonFailedMount
		} else if !knownReason(ev.Reason) {
			ev.Reason = event.ReasonOther
		}
	}
	return ev, true
}

// pullErrorImage finds the image in a pull error as containerd and CRI-O
// word it: failed to pull and unpack image "x", failed to pull image "x".
func pullErrorImage(msg string) string {
	for _, p := range []string{"failed to pull and unpack image ", "failed to pull image ", "Failed to pull image "} {
		i := strings.Index(msg, p)
		if i < 0 || !strings.HasPrefix(msg[i+len(p):], `"`) {
			continue
		}
		if v, _, ok := scanValue(msg[i+len(p):]); ok {
			return v
		}
	}
	return ""
}

// oldSyncError reads the pod worker's error line of kubelets before
// structured logging (<=1.19):
// Error syncing pod <uid> ("name_ns(uid)"), skipping: failed to "StartContainer" for "c" with CrashLoopBackOff: "…"
func oldSyncError(m string) (event.Event, bool) {
	rest := strings.TrimPrefix(m, "Error syncing pod ")
	var pod event.PodRef
	if rest != "" && rest[0] != '"' {
		sp := strings.IndexByte(rest, ' ')
		if sp <= 0 {
			return event.Event{}, false
		}
		pod.UID = rest[:sp]
		rest = strings.TrimPrefix(rest[sp:], " (")
	}
	if v, n, ok := scanValue(rest); ok && strings.HasPrefix(rest, `"`) {
		p := formatPod(v)
		pod.Namespace, pod.Name = p.Namespace, p.Name
		if pod.UID == "" {
			pod.UID = p.UID
		}
		rest = rest[n:]
	}
	i := strings.Index(rest, ", skipping: ")
	if i < 0 || pod.Name == "" {
		return event.Event{}, false
	}
	return syncError(pod, rest[i+len(", skipping: "):])
}

// oldProbe reads the prober's lines of kubelets before structured logging
// (<=1.20): Readiness probe for "name_ns(uid):container" failed (failure): <output>,
// or … errored: <err>. "… succeeded" is not a failure.
func oldProbe(m string) (event.Event, bool) {
	i := strings.Index(m, " probe for \"")
	typ := m[:i]
	switch typ {
	case "Readiness", "Liveness", "Startup":
	default:
		return event.Event{}, false
	}
	rest := m[i+len(" probe for "):]
	v, n, ok := scanValue(rest)
	if !ok {
		return event.Event{}, false
	}
	rest = rest[n:]
	if !strings.HasPrefix(rest, " failed") && !strings.HasPrefix(rest, " errored") {
		return event.Event{}, false
	}
	ev := event.Event{Kind: event.ProbeFailed, Reason: probeReason(typ)}
	if j := strings.LastIndex(v, "):"); j >= 0 {
		ev.Pod = formatPod(v[:j+1])
		ev.Container = v[j+2:]
	} else {
		return event.Event{}, false
	}
	if j := strings.Index(rest, ": "); j >= 0 {
		ev.Message = rest[j+2:]
	}
	return ev, true
}

func knownReason(r string) bool {
	for _, k := range event.Reasons {
		if k == r {
			return true
		}
	}
	return false
}

// backOffErr reads "back-off 5m0s restarting failed container=app pod=x_ns(uid)".
func backOffErr(err string) (event.Event, bool) {
	ev := event.Event{Kind: event.ContainerBackOff, Reason: event.ReasonCrashLoopBackOff, Message: err}
	if i := strings.Index(err, "container="); i >= 0 {
		rest := err[i+len("container="):]
		if sp := strings.IndexByte(rest, ' '); sp >= 0 {
			ev.Container = rest[:sp]
		}
	}
	if i := strings.Index(err, " pod="); i >= 0 {
		ev.Pod = formatPod(err[i+len(" pod="):])
	}
	ev.Duration, ev.HasDuration = backOffDuration(err)
	return ev, true
}

// backOffDuration reads the back-off the kubelet applies before the next
// restart from "back-off 1m20s restarting failed container=…" (and the
// capitalised "Back-off 5m0s restarting …" of old kubelets).
func backOffDuration(msg string) (time.Duration, bool) {
	i := strings.Index(msg, "back-off ")
	if i < 0 {
		i = strings.Index(msg, "Back-off ")
	}
	if i < 0 {
		return 0, false
	}
	rest := msg[i+len("back-off "):]
	sp := strings.IndexByte(rest, ' ')
	if sp < 0 || !strings.HasPrefix(rest[sp:], " restarting") {
		return 0, false
	}
	d, err := time.ParseDuration(rest[:sp])
	if err != nil || d < 0 {
		return 0, false
	}
	return d, true
}

func probeReason(probeType string) string {
	switch strings.ToLower(probeType) {
	case "readiness":
		return event.ReasonReadinessProbeFailed
	case "liveness":
		return event.ReasonLivenessProbeFailed
	case "startup":
		return event.ReasonStartupProbeFailed
	}
	return event.ReasonOther
}

func trimRuntimeScheme(id string) string {
	if i := strings.Index(id, "://"); i >= 0 {
		return id[i+3:]
	}
	return id
}

// tracker reads "Observed pod startup duration" in its old form
// (firstStartedPulling/lastFinishedPulling) and its new form
// (totalImagesPullingTime, imagePullSessionsCount, …).
func tracker(r *record) (event.Event, bool) {
	ev := event.Event{Kind: event.StartupTracker, Pod: podRef(r.whole("pod"))}
	if d, err := time.ParseDuration(r.whole("podStartE2EDuration")); err == nil {
		ev.Duration, ev.HasDuration = d, true
	}
	// A float of seconds, in exponent form too, and negative when the
	// kubelet subtracted a zero-time pull end (-9.223372021589586e+09) or
	// the API server's clock is ahead (-5.7).
	if f, err := strconv.ParseFloat(r.whole("podStartSLOduration"), 64); err == nil {
		ev.SLO, ev.HasSLO = floatSeconds(f)
	}
	if d, err := time.ParseDuration(r.whole("totalImagesPullingTime")); err == nil {
		ev.PullingTime = d
	} else {
		first, ok1 := goTime(r.whole("firstStartedPulling"))
		last, ok2 := goTime(r.whole("lastFinishedPulling"))
		if ok1 && ok2 && first.Year() > 1 && last.Year() > 1 && last.After(first) {
			ev.PullingTime = last.Sub(first)
		}
	}
	return ev, true
}

// floatSeconds converts seconds to a Duration, clamped to what a Duration
// holds (±292 years); NaN and infinities are no duration.
func floatSeconds(f float64) (time.Duration, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	const limit = 9.223372036e9 // seconds; ×1e9 stays below 2^63
	if f > limit {
		f = limit
	} else if f < -limit {
		f = -limit
	}
	return time.Duration(f * float64(time.Second)), true
}

// goTime reads time.Time.String() output, dropping the monotonic suffix:
// "2024-11-29 16:13:10.765063108 +0000 UTC m=+21817.014756659".
func goTime(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	if i := strings.Index(s, " m="); i >= 0 {
		s = s[:i]
	}
	t, err := time.Parse("2006-01-02 15:04:05.999999999 -0700 MST", s)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// kubeEvent maps an "Event occurred" line (the event broadcaster's log sink,
// V3) to a pod start event.
func kubeEvent(object, kind, fieldPath, reason, msg string) (event.Event, bool) {
	ev := event.Event{Kind: event.KubeEvent, Reason: reason, Message: msg}
	if kind != "" && kind != "Pod" {
		return ev, true // events about nodes and controllers in shared journals (k3s)
	}
	ev.Pod = podRef(object)
	ev.Container, ev.Init = containerOfFieldPath(fieldPath)
	switch reason {
	case "Pulling":
		ev.Kind, ev.Reason = event.ImagePullStart, ""
		ev.Image = quotedAfter(msg, "Pulling image ")
	case "Pulled":
		ev.Reason = ""
		switch {
		case strings.HasPrefix(msg, "Successfully pulled image "):
			ev.Kind = event.ImagePulled
			pulledDetails(&ev, msg)
		case strings.HasPrefix(msg, "Container image ") && strings.Contains(msg, "already present on machine"):
			ev.Kind = event.ImageCached
			ev.Image = quotedAfter(msg, "Container image ")
		}
	case "Failed":
		ev.Kind, ev.Reason = failedEvent(msg)
		if ev.Kind == event.ImagePullFailed {
			ev.Image = quotedAfter(msg, "Failed to pull image ")
		}
	case "BackOff":
		switch {
		case strings.HasPrefix(msg, "Back-off pulling image"):
			ev.Kind, ev.Reason = event.ImagePullBackOff, event.ReasonImagePullBackOff
			ev.Image = quotedAfter(msg, "Back-off pulling image ")
		case strings.HasPrefix(msg, "Back-off restarting failed container"):
			ev.Kind, ev.Reason = event.ContainerBackOff, event.ReasonCrashLoopBackOff
		}
	case "Created":
		ev.Kind, ev.Reason = event.ContainerCreated, ""
		if ev.Container == "" {
			ev.Container = containerOfMessage(msg, "Created container")
		}
	case "Started":
		ev.Kind, ev.Reason = event.ContainerStarted, ""
		if ev.Container == "" {
			ev.Container = containerOfMessage(msg, "Started container")
		}
	case "Unhealthy":
		ev.Kind = event.ProbeFailed
		if sp := strings.IndexByte(msg, ' '); sp > 0 {
			ev.Reason = probeReason(msg[:sp])
		}
	case "FailedMount":
		ev.Kind, ev.Reason = event.VolumeMountFailed, event.ReasonFailedMount
	case "FailedCreatePodSandBox":
		ev.Kind, ev.Reason = event.SandboxFailed, classifySandboxError(msg)
	case "Evicted":
		ev.Kind, ev.Reason = event.PodEvicted, event.ReasonEvicted
	case "Killing":
		ev.Kind, ev.Reason = event.ContainerKilling, ""
	case "ErrImageNeverPull":
		ev.Kind, ev.Reason = event.ImagePullFailed, event.ReasonErrImageNeverPull
		ev.Image = quotedAfter(msg, "Container image ")
	case "InspectFailed":
		ev.Kind, ev.Reason = event.ImagePullFailed, event.ReasonOther
		if strings.HasPrefix(msg, "Failed to apply default image tag") {
			ev.Reason = event.ReasonInvalidImageName
		}
	}
	return ev, true
}

// failedEvent classifies a Warning "Failed" event message. The kubelet uses
// the reason Failed for pull errors and for create and start errors alike.
func failedEvent(msg string) (event.Kind, string) {
	switch {
	case strings.HasPrefix(msg, "Failed to pull image "):
		return event.ImagePullFailed, classifyPullError(msg)
	case msg == "Error: ErrImagePull":
		return event.ImagePullFailed, event.ReasonErrImagePull
	case msg == "Error: ImagePullBackOff":
		return event.ImagePullBackOff, event.ReasonImagePullBackOff
	case msg == "Error: InvalidImageName" || strings.HasPrefix(msg, "Error: InvalidImageName"):
		return event.ImagePullFailed, event.ReasonInvalidImageName
	case msg == "Error: ErrImageNeverPull":
		return event.ImagePullFailed, event.ReasonErrImageNeverPull
	case strings.HasPrefix(msg, "Error: failed to start container"), strings.Contains(msg, "failed to create containerd task"),
		strings.Contains(msg, "OCI runtime start failed"), strings.HasPrefix(msg, "Internal PreStartContainer hook failed"):
		return event.ContainerStartFailed, event.ReasonRunContainerError
	case strings.HasPrefix(msg, "Error: configmap ") || strings.HasPrefix(msg, "Error: secret ") ||
		strings.HasPrefix(msg, "Error: couldn't find key") || strings.Contains(msg, "CreateContainerConfigError"):
		return event.ContainerCreateFailed, event.ReasonCreateContainerConfigError
	case strings.HasPrefix(msg, "Error: "):
		return event.ContainerCreateFailed, event.ReasonCreateContainerError
	}
	return event.KubeEvent, "Failed"
}

// pulledDetails reads the three historical "Successfully pulled image" texts:
// … %q, … %q in %v, … %q in %v (%v including waiting)[. Image size: %v bytes.]
func pulledDetails(ev *event.Event, msg string) {
	rest := msg[len("Successfully pulled image "):]
	img, n, _ := scanValue(rest)
	ev.Image = img
	rest = rest[n:]
	if strings.HasPrefix(rest, " in ") {
		rest = rest[len(" in "):]
		// A duration may itself contain a dot (1.5s): cut at the first
		// space, then drop a trailing ".".
		end := len(rest)
		if sp := strings.IndexByte(rest, ' '); sp >= 0 {
			end = sp
		}
		d := strings.TrimSuffix(rest[:end], ".")
		if dur, err := time.ParseDuration(d); err == nil {
			ev.Duration, ev.HasDuration = dur, true
		}
	}
	if i := strings.Index(msg, "Image size: "); i >= 0 {
		s := msg[i+len("Image size: "):]
		if sp := strings.IndexByte(s, ' '); sp >= 0 {
			s = s[:sp]
		}
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			ev.ImageSize = n
		}
	}
}

func quotedAfter(msg, prefix string) string {
	i := strings.Index(msg, prefix)
	if i < 0 {
		return ""
	}
	v, _, ok := scanValue(msg[i+len(prefix):])
	if !ok {
		return "" // cut short: not a whole name
	}
	return v
}

// containerOfMessage reads the container name from the event texts of
// 1.14–1.34, "Created container c" and "Created container: c", for lines
// without fieldPath (1.22). "Container created" (1.35+) and "Created
// container" (<=1.13) name none.
func containerOfMessage(msg, prefix string) string {
	rest, ok := strings.CutPrefix(msg, prefix)
	if !ok {
		return ""
	}
	rest = strings.TrimPrefix(rest, ":")
	if rest == "" || rest[0] != ' ' {
		return ""
	}
	name := rest[1:]
	if name == "" || strings.ContainsAny(name, " \t\n") {
		return ""
	}
	return name
}

// containerOfFieldPath reads spec.containers{name} / spec.initContainers{name}.
func containerOfFieldPath(fp string) (name string, init bool) {
	i := strings.IndexByte(fp, '{')
	if i < 0 || !strings.HasSuffix(fp, "}") {
		return "", false
	}
	return fp[i+1 : len(fp)-1], strings.HasPrefix(fp, "spec.initContainers")
}

// oldKubeEvent reads the <=1.19 unstructured event line:
// Event(v1.ObjectReference{Kind:"Pod", Namespace:"ns", Name:"x", UID:"…", …, FieldPath:"spec.containers{c}"}): type: 'Normal' reason: 'Pulled' Successfully pulled image "x"
func oldKubeEvent(m string) (event.Event, bool) {
	ref := m
	end := strings.Index(m, "}): ")
	if end < 0 {
		return event.Event{}, false
	}
	ref = m[:end+1]
	rest := m[end+len("}): "):]
	reason := ""
	if i := strings.Index(rest, "reason: '"); i >= 0 {
		r := rest[i+len("reason: '"):]
		if j := strings.IndexByte(r, '\''); j >= 0 {
			reason = r[:j]
			rest = strings.TrimSpace(r[j+1:])
		}
	}
	ev, ok := kubeEvent(fieldOf(ref, "Namespace")+"/"+fieldOf(ref, "Name"), fieldOf(ref, "Kind"), fieldOf(ref, "FieldPath"), reason, rest)
	if ev.Pod.Name != "" {
		ev.Pod.UID = fieldOf(ref, "UID")
	}
	return ev, ok
}
