package logformat

import "time"

// format is one log encoding: starts tells cheaply whether a line begins in
// it, parse reads the line (ok=false when it is not in this format after all).
type format struct {
	name   string
	starts func(line string) bool
	parse  func(p *Parser, line string, recv time.Time) (Result, bool)
}

// formats lists every supported encoding, most common first.
var formats = []format{
	{name: "klog", starts: klogStarts, parse: parseKlogText},
	{name: "containerd", starts: logfmtStarts, parse: parseLogfmt},
	{name: "klog-json", starts: klogJSONStarts, parse: parseKlogJSON},
	{name: "containerd", starts: runtimeJSONStarts, parse: parseRuntimeJSON},
}
