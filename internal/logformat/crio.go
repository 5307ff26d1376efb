package logformat

import (
	"strings"
	"time"

	"github.com/podstart/podstart/internal/event"
)

// crioEvent maps CRI-O's info-level CRI call lines (server/sandbox_run_linux.go,
// image_pull.go, container_create.go, container_start.go). CRI-O names pods
// and containers by a description, `namespace/pod/container` (`…/POD` for
// the sandbox), and logs no pod UID. Its request id= (also on the lines of
// one call) is not used: the messages carry what is needed.
func crioEvent(rec *record, t time.Time) (event.Event, bool) {
	m := rec.msg
	if len(m) < 12 {
		return event.Event{}, false
	}
	ev := event.Event{Time: t}
	switch m[0] {
	case 'R':
		if desc, ok := strings.CutPrefix(m, "Running pod sandbox: "); ok {
			ev.Kind = event.SandboxStart
			ev.Pod, _ = crioDescription(desc)
			return ev, true
		}
		// "Ran pod sandbox <id> with infra container: <desc>". The infra
		// container has the sandbox's ID.
		if rest, ok := strings.CutPrefix(m, "Ran pod sandbox "); ok {
			id, desc, ok := strings.Cut(rest, " with infra container: ")
			if !ok || !crioID(id) {
				return event.Event{}, false
			}
			ev.Kind, ev.SandboxID = event.SandboxReady, id
			ev.Pod, _ = crioDescription(desc)
			return ev, true
		}
	case 'P':
		if img, ok := strings.CutPrefix(m, "Pulling image: "); ok && img != "" {
			ev.Kind, ev.Image = event.ImagePullStart, img
			return ev, true
		}
		// The reference pulled, by digest: repo@sha256:…. It is what the
		// kubelet gets back as the image ref; the image as requested is
		// only on "Pulling image", so Image is the repository part.
		if ref, ok := strings.CutPrefix(m, "Pulled image: "); ok && ref != "" {
			ev.Kind, ev.ImageRef, ev.Image = event.ImagePulled, ref, ref
			if at := strings.IndexByte(ref, '@'); at > 0 {
				ev.Image = ref[:at]
			}
			return ev, true
		}
	case 'C':
		if desc, ok := strings.CutPrefix(m, "Creating container: "); ok {
			ev.Kind = event.ContainerCreateStart
			ev.Pod, ev.Container = crioDescription(desc)
			return ev, true
		}
		if rest, ok := strings.CutPrefix(m, "Created container "); ok {
			id, desc, ok := strings.Cut(rest, ": ")
			if !ok || !crioID(id) {
				return event.Event{}, false
			}
			ev.Kind, ev.ContainerID = event.ContainerCreated, id
			ev.Pod, ev.Container = crioDescription(desc)
			return ev, true
		}
	case 'S':
		if id, ok := strings.CutPrefix(m, "Starting container: "); ok {
			if !crioID(id) {
				return event.Event{}, false
			}
			ev.Kind, ev.ContainerID = event.ContainerStartStart, id
			return ev, true
		}
		if rest, ok := strings.CutPrefix(m, "Started container"); ok {
			return crioStarted(rec, rest, ev)
		}
	}
	return event.Event{}, false
}

// crioStarted reads the three forms CRI-O has used: `Started container`
// with containerID=, description=, sandboxID= keys (≥1.20), `Started
// container <id>: <desc>` (1.18–1.19) and `Started container: <desc>`
// (older, no ID).
func crioStarted(rec *record, rest string, ev event.Event) (event.Event, bool) {
	ev.Kind = event.ContainerStarted
	switch {
	case rest == "":
		ev.ContainerID = rec.get("containerID")
		if !crioID(ev.ContainerID) {
			return event.Event{}, false
		}
		if sb := rec.get("sandboxID"); crioID(sb) {
			ev.SandboxID = sb
		}
		ev.Pod, ev.Container = crioDescription(rec.get("description"))
	case strings.HasPrefix(rest, ": "):
		ev.Pod, ev.Container = crioDescription(rest[2:])
	case rest[0] == ' ':
		id, desc, ok := strings.Cut(rest[1:], ": ")
		if !ok || !crioID(id) {
			return event.Event{}, false
		}
		ev.ContainerID = id
		ev.Pod, ev.Container = crioDescription(desc)
	default:
		return event.Event{}, false
	}
	return ev, true
}

// crioDescription splits `namespace/pod/container`. Names cannot contain a
// slash. Pods made with crictl have no labels and show as `//`: the line
// is still recognised, with an empty pod.
func crioDescription(d string) (event.PodRef, string) {
	ns, rest, ok := strings.Cut(d, "/")
	if !ok {
		return event.PodRef{}, ""
	}
	name, ctr, ok := strings.Cut(rest, "/")
	if !ok {
		return event.PodRef{}, ""
	}
	if ctr == "POD" {
		ctr = "" // the infra container stands for the sandbox
	}
	return event.PodRef{Namespace: ns, Name: name}, ctr
}

// crioID reports whether s is a full CRI-O ID (64 hex digits), so that a
// line cut short inside the ID is not read as a shorter one.
func crioID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
