package event

import "strings"

// Clone returns ev with its own copy of every string: the journal reader
// hands each message over in a buffer it reuses, and parsers return
// substrings of the line, so an event that is kept (by the timeline) must
// not point into it. The names and IDs share one allocation; Message has
// its own, so that a pod keeping only its name does not keep the text of
// every line about it. Written out field by field, without function
// values, so that cloning allocates nothing else; TestCloneOwnsEveryString
// finds any string field added later and not copied here.
func (ev Event) Clone() Event {
	n := len(ev.Kind) + len(ev.Source) + podLen(ev.Pod) + len(ev.Container) + len(ev.SandboxID) +
		len(ev.ContainerID) + len(ev.Image) + len(ev.ImageRef) + len(ev.Volume) + len(ev.Plugin) +
		len(ev.Reason)
	for _, p := range ev.Pods {
		n += podLen(p)
	}
	if len(ev.Pods) > 0 {
		ev.Pods = append([]PodRef(nil), ev.Pods...)
	}
	ev.Message = strings.Clone(ev.Message)
	if n == 0 {
		return ev
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(string(ev.Kind))
	b.WriteString(string(ev.Source))
	writePod(&b, ev.Pod)
	for _, p := range ev.Pods {
		writePod(&b, p)
	}
	for _, s := range [...]string{ev.Container, ev.SandboxID, ev.ContainerID, ev.Image, ev.ImageRef, ev.Volume, ev.Plugin, ev.Reason} {
		b.WriteString(s)
	}
	c := cutter{all: b.String()}
	ev.Kind = Kind(c.cut(len(ev.Kind)))
	ev.Source = Source(c.cut(len(ev.Source)))
	c.pod(&ev.Pod)
	for i := range ev.Pods {
		c.pod(&ev.Pods[i])
	}
	ev.Container = c.cut(len(ev.Container))
	ev.SandboxID = c.cut(len(ev.SandboxID))
	ev.ContainerID = c.cut(len(ev.ContainerID))
	ev.Image = c.cut(len(ev.Image))
	ev.ImageRef = c.cut(len(ev.ImageRef))
	ev.Volume = c.cut(len(ev.Volume))
	ev.Plugin = c.cut(len(ev.Plugin))
	ev.Reason = c.cut(len(ev.Reason))
	return ev
}

func podLen(p PodRef) int { return len(p.Namespace) + len(p.Name) + len(p.UID) }

func writePod(b *strings.Builder, p PodRef) {
	b.WriteString(p.Namespace)
	b.WriteString(p.Name)
	b.WriteString(p.UID)
}

// cutter hands out the copy's strings in the order they were written.
type cutter struct{ all string }

func (c *cutter) cut(n int) string {
	s := c.all[:n]
	c.all = c.all[n:]
	return s
}

func (c *cutter) pod(p *PodRef) {
	p.Namespace = c.cut(len(p.Namespace))
	p.Name = c.cut(len(p.Name))
	p.UID = c.cut(len(p.UID))
}
