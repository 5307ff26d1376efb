package report

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/podstart/podstart/internal/timeline"
)

// TestStuckShown: a stuck pod's stage, how long, reason and message appear
// in the table, and in the JSON as "stuck".
func TestStuckShown(t *testing.T) {
	since := time.Date(2026, 11, 29, 15, 26, 1, 0, time.UTC)
	pods := []timeline.PodView{{Namespace: "default", Name: "s4", State: "failing",
		Stuck: &timeline.StuckView{Stage: "image_pull", Since: since, Seconds: 62, Reason: "ImagePullBackOff", Message: `Back-off pulling image "nope:1"`}}}
	var b bytes.Buffer
	if err := Table(&b, pods); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `STUCK in image_pull for 1m2s since 2026-11-29T15:26:01Z ImagePullBackOff: Back-off pulling image "nope:1"`) {
		t.Errorf("table:\n%s", b.String())
	}
	b.Reset()
	if err := JSON(&b, pods); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Pods []struct {
			Stuck struct{ Stage, Reason, Message string }
		}
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil || doc.Pods[0].Stuck.Stage != "image_pull" || doc.Pods[0].Stuck.Reason != "ImagePullBackOff" {
		t.Errorf("json %v: %s", err, b.String())
	}
}

// TestJSONOnePodALine: the document is valid JSON with each pod on a line
// of its own, the same as encoding the Document whole.
func TestJSONOnePodALine(t *testing.T) {
	t0 := time.Date(2026, 11, 29, 15, 26, 1, 0, time.UTC)
	pods := []timeline.PodView{
		{Namespace: "default", Name: "a", UID: "u1", FirstSeen: t0, Stages: map[string]float64{"node": 1.5}},
		{Namespace: "kube-system", Name: "b \"quoted\"\nname", FirstSeen: t0.Add(time.Second)},
	}
	for _, ps := range [][]timeline.PodView{pods, nil} {
		var b bytes.Buffer
		if err := JSON(&b, ps); err != nil {
			t.Fatal(err)
		}
		var got, want any
		if err := json.Unmarshal(b.Bytes(), &got); err != nil {
			t.Fatalf("%v: %s", err, b.String())
		}
		wb, _ := json.Marshal(Document{Pods: ps})
		_ = json.Unmarshal(wb, &want)
		if ps == nil {
			want = map[string]any{"pods": []any{}} // an empty list, never null
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
		if lines := strings.Count(b.String(), "\n"); lines != len(ps)+1+min(len(ps), 1) {
			t.Errorf("%d lines for %d pods:\n%s", lines, len(ps), b.String())
		}
	}
}
