package report

import (
	"bytes"
	"encoding/json"
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
