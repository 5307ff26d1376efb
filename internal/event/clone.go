package event

import "strings"

// Clone returns ev with its own copy of every string, in one allocation:
// the journal reader hands each message over in a buffer it reuses, and
// parsers return substrings of the line, so an event that is kept (by the
// timeline) must not point into it.
func (ev Event) Clone() Event {
	if len(ev.Pods) > 0 {
		ev.Pods = append([]PodRef(nil), ev.Pods...)
	}
	n := 0
	ev.strings(func(s *string) { n += len(*s) })
	if n == 0 {
		return ev
	}
	var b strings.Builder
	b.Grow(n)
	ev.strings(func(s *string) { b.WriteString(*s) })
	all := b.String()
	ev.strings(func(s *string) {
		l := len(*s)
		*s, all = all[:l], all[l:]
	})
	return ev
}

// strings calls f with each string field of ev, in a fixed order.
func (ev *Event) strings(f func(*string)) {
	k, src := string(ev.Kind), string(ev.Source)
	f(&k)
	f(&src)
	ev.Kind, ev.Source = Kind(k), Source(src)
	pod := func(p *PodRef) {
		f(&p.Namespace)
		f(&p.Name)
		f(&p.UID)
	}
	pod(&ev.Pod)
	for i := range ev.Pods {
		pod(&ev.Pods[i])
	}
	for _, s := range []*string{&ev.Container, &ev.SandboxID, &ev.ContainerID, &ev.Image, &ev.ImageRef,
		&ev.Volume, &ev.Plugin, &ev.Reason, &ev.Message} {
		f(s)
	}
}
