package logformat

import (
	"encoding/json"
	"math"
	"strings"
	"time"

	"github.com/podstart/podstart/internal/event"
)

// klog's JSON format (--logging-format=json): {"ts":<epoch ms>,"caller":…,
// "msg":…,"v":N,…keys…,"err":…}. The messages and keys are the text
// format's, so the lines are mapped by kubelet.go as well.
func klogJSONStarts(s string) bool {
	return strings.HasPrefix(s, `{"ts":`)
}

func parseKlogJSON(_ *Parser, line string, recv time.Time) (Result, bool) {
	if !klogJSONStarts(line) {
		return Result{}, false
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(line), &fields); err != nil {
		return Result{Outcome: Malformed, Format: "klog-json", Event: event.Event{Kind: event.Unrecognised, Time: recv, Source: event.SourceKubelet}}, true
	}
	rec := record{sev: 'I'}
	t := recv
	var ms float64
	if json.Unmarshal(fields["ts"], &ms) == nil && ms > 0 && !math.IsInf(ms, 0) && ms < 1e15 {
		t = time.UnixMicro(int64(ms * 1000)).UTC()
	}
	_ = json.Unmarshal(fields["msg"], &rec.msg)
	if _, ok := fields["v"]; !ok {
		if _, isErr := fields["err"]; isErr {
			rec.sev = 'E'
		}
	}
	for k, raw := range fields {
		switch k {
		case "ts", "msg", "caller", "v", "logger":
			continue
		}
		rec.kvs = append(rec.kvs, kv{key: k, val: jsonValue(raw)})
	}
	ev, ok := kubeletEvent(&rec)
	res := Result{Outcome: Recognised, Format: "klog-json"}
	if !ok {
		ev.Kind = event.Unrecognised
		res.Outcome = Unrecognised
	}
	ev.Time = t
	ev.Source = event.SourceKubelet
	res.Event = ev
	return res, true
}

// jsonValue turns a JSON string into its text and leaves any other value as
// JSON, which is how the text format renders non-strings too.
func jsonValue(raw json.RawMessage) string {
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	}
	return string(raw)
}
