package cri

import "testing"

// The event stream is only safe where every subscriber gets every event
// (kubelet-and-cri.md §8.3): on containerd 1.7 a second subscriber steals
// events from the kubelet's Evented PLEG.
func TestEventsSafe(t *testing.T) {
	for _, c := range []struct {
		name, version string
		want          bool
	}{
		{"containerd", "v2.4.2", true},
		{"containerd", "2.0.0", true},
		{"containerd", "v1.7.24", false},
		{"containerd", "1.6.20~ds1", false},
		{"cri-o", "1.28.0", true},
		{"cri-o", "1.30.4", true},
		{"cri-o", "1.27.9", false},
		{"docker", "27.0.1", false},
		{"", "", false},
	} {
		if got := eventsSafe(c.name, c.version); got != c.want {
			t.Errorf("eventsSafe(%q, %q) = %v, want %v", c.name, c.version, got, c.want)
		}
	}
}

func TestSandboxRefPrefersMetadata(t *testing.T) {
	ref := labelsRef(map[string]string{labelPodNamespace: "ns", labelPodName: "web", labelPodUID: "u1"})
	if ref.Key() != "ns/web" || ref.UID != "u1" {
		t.Errorf("labelsRef: %+v", ref)
	}
	if got := sandboxRef(nil, map[string]string{labelPodName: "x"}); got.Name != "x" {
		t.Errorf("sandboxRef without metadata: %+v", got)
	}
}
