package integration

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/podstart/podstart/internal/event"
	"github.com/podstart/podstart/internal/timeline"
)

// scenario runs pods through the stack's CRI as the kubelet would (crictl,
// with the kubelet's labels) while an agent follows the journal and the CRI,
// and checks the agent's timelines against the runtime's own answers.
func scenario(t *testing.T, variant string, forcePoll bool) {
	s := up(t, variant)
	// Start from an empty image cache, so that the first pulls are real.
	for _, img := range []string{s.env["STACK_IMAGE_BUSYBOX"], s.env["STACK_IMAGE_BIGDATA"]} {
		_ = s.crictlErr("rmi", img)
	}
	r := startAgent(t, s, forcePoll)
	wantMode := "events"
	if variant == "1.6" || forcePoll {
		wantMode = "poll"
	}
	if got := r.metric(t, "podstart_cri_mode", map[string]string{"mode": wantMode}); got != 1 {
		t.Fatalf("CRI mode %s not reported (podstart_cri_mode)", wantMode)
	}

	busybox, bigdata := s.env["STACK_IMAGE_BUSYBOX"], s.env["STACK_IMAGE_BIGDATA"]
	ns := "it-" + strings.ReplaceAll(variant, ".", "") + map[bool]string{true: "-poll", false: ""}[forcePoll]
	// alpha: a cold pull of busybox. beta: busybox again (cached), then a
	// cold pull of bigdata. gamma: an image that does not exist.
	sbA, podA := s.pod(t, ns, "alpha", "uid-alpha-"+ns)
	cA := s.container(t, sbA, podA, ns, "alpha", "uid-alpha-"+ns, "main", busybox, true)
	sbB, podB := s.pod(t, ns, "beta", "uid-beta-"+ns)
	cB := s.container(t, sbB, podB, ns, "beta", "uid-beta-"+ns, "main", busybox, false)
	cB2 := s.container(t, sbB, podB, ns, "beta", "uid-beta-"+ns, "data", bigdata, true)
	sbG, _ := s.pod(t, ns, "gamma", "uid-gamma-"+ns)
	if err := s.crictlErr("pull", s.env["STACK_REGISTRY"]+"/nope:1"); err == nil {
		t.Fatal("pulling an image that does not exist succeeded")
	}

	type want struct {
		pod, ctr, id, pull string
	}
	checks := []want{
		{"alpha", "main", cA, timeline.PullPulled},
		{"beta", "main", cB, timeline.PullCached},
		{"beta", "data", cB2, timeline.PullPulled},
	}
	var views map[string]timeline.PodView
	defer func() {
		if t.Failed() {
			b, _ := json.MarshalIndent(views, "", " ")
			t.Logf("views: %s", b)
		}
	}()
	waitFor(t, 30*time.Second, "the agent to see every container started by the CRI", func() bool {
		views = map[string]timeline.PodView{}
		for _, name := range []string{"alpha", "beta", "gamma"} {
			v, ok := r.pod(ns + "/" + name)
			if !ok {
				return false
			}
			views[name] = v
		}
		for _, c := range checks {
			cv, ok := containerView(views[c.pod], c.ctr)
			if !ok || cv.Intervals["container_start"].EndSource != event.SourceCRI || cv.Pull == "" {
				return false
			}
		}
		for _, name := range []string{"alpha", "beta", "gamma"} {
			if views[name].Intervals["sandbox"].StartSource != event.SourceCRI {
				return false
			}
		}
		return len(views["gamma"].Failures) > 0
	})
	// Log-derived ends wait for the CRI's (AwaitCRI) before they are
	// observed; the sandbox end has no CRI timestamp when polling.
	waitFor(t, 10*time.Second, "the sandbox stages to be observed", func() bool {
		return r.obs.get("sandbox "+ns+"/alpha") > 0 && r.obs.get("sandbox "+ns+"/beta") > 0
	})

	// CRI-derived ends equal the runtime's own timestamps to the ns.
	for _, c := range checks {
		cv, _ := containerView(views[c.pod], c.ctr)
		created, started := s.inspect(t, c.id)
		if got := cv.Intervals["container_create"].End; !got.Equal(created) {
			t.Errorf("%s/%s created %s, crictl inspect says %s", c.pod, c.ctr, got.Format(time.RFC3339Nano), created.Format(time.RFC3339Nano))
		}
		if got := cv.Intervals["container_start"].End; !got.Equal(started) {
			t.Errorf("%s/%s started %s, crictl inspect says %s", c.pod, c.ctr, got.Format(time.RFC3339Nano), started.Format(time.RFC3339Nano))
		}
		if cv.Pull != c.pull {
			t.Errorf("%s/%s pull %q, want %q", c.pod, c.ctr, cv.Pull, c.pull)
		}
		if cv.ID != c.id {
			t.Errorf("%s/%s id %s, want %s", c.pod, c.ctr, cv.ID, c.id)
		}
	}
	for name, id := range map[string]string{"alpha": sbA, "beta": sbB, "gamma": sbG} {
		iv := views[name].Intervals["sandbox"]
		if want := s.inspectp(t, id); !iv.Start.Equal(want) || iv.StartSource != event.SourceCRI {
			t.Errorf("%s sandbox start %s (%s), crictl inspectp says %s", name, iv.Start.Format(time.RFC3339Nano), iv.StartSource, want.Format(time.RFC3339Nano))
		}
		if views[name].UID != "uid-"+name+"-"+ns {
			t.Errorf("%s uid %q", name, views[name].UID)
		}
	}
	// The pulled image's size is the runtime's (ImageStatus).
	var img struct {
		Status struct{ Size string }
	}
	if err := json.Unmarshal([]byte(s.crictl(t, "inspecti", "-o", "json", bigdata)), &img); err != nil {
		t.Fatal(err)
	}
	size, _ := strconv.ParseInt(img.Status.Size, 10, 64)
	if cv, _ := containerView(views["beta"], "data"); size == 0 || cv.ImageSize != size {
		t.Errorf("bigdata size %d, crictl inspecti says %d", cv.ImageSize, size)
	}
	// The registry answers "not found": ImageNotFound, from containerd's
	// own error line.
	if f := views["gamma"].Failures[0]; f.Stage != "image_pull" || f.Reason != "ImageNotFound" {
		t.Errorf("gamma failure %+v, want image_pull ImageNotFound", f)
	}
	// Each stage observed once per container, however many sources spoke.
	if n := r.obs.get("container_start " + ns + "/beta"); n != 2 {
		t.Errorf("container_start observed %d times for beta's two containers", n)
	}
	if n := r.obs.get("sandbox " + ns + "/alpha"); n != 1 {
		t.Errorf("sandbox observed %d times for alpha", n)
	}
	if variant == "1.6" || forcePoll {
		if n := r.metric(t, "podstart_cri_requests_total", map[string]string{"method": "GetContainerEvents"}); n != 0 {
			t.Errorf("GetContainerEvents was called %v times on the polling path", n)
		}
	}
	// Polling asks ContainerStatus only for containers whose state changed:
	// far fewer calls than containers × polls.
	polls := r.metric(t, "podstart_cri_requests_total", map[string]string{"method": "ListContainers"})
	status := r.metric(t, "podstart_cri_requests_total", map[string]string{"method": "ContainerStatus"})
	if wantMode == "poll" && status > 2*3+polls/10 {
		t.Errorf("%v ContainerStatus calls over %v polls for 3 containers", status, polls)
	}
	t.Logf("containerd %s, mode %s: ListContainers %v, ContainerStatus %v", variant, wantMode, polls, status)
}

func containerView(p timeline.PodView, name string) (timeline.ContainerView, bool) {
	for _, c := range p.Containers {
		if c.Name == name {
			return c, true
		}
	}
	return timeline.ContainerView{}, false
}

func TestCRIContainerd2Events(t *testing.T) { scenario(t, "2", false) }
func TestCRIContainerd2Poll(t *testing.T)   { scenario(t, "2", true) }
func TestCRIContainerd16Poll(t *testing.T)  { scenario(t, "1.6", false) }
