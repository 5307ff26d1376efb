package event

import (
	"reflect"
	"strings"
	"testing"
	"unsafe"
)

// TestCloneOwnsEveryString fills every string of an Event (found by
// reflection, so a field added later is covered) with text inside one
// buffer, clones it, overwrites the buffer, and checks the clone kept its
// text: no string of the clone points into the buffer.
func TestCloneOwnsEveryString(t *testing.T) {
	buf := []byte(strings.Repeat("abcdefghij", 100))
	next := 0
	sub := func() string {
		s := unsafe.String(&buf[next], 7)
		next += 10
		return s
	}
	var ev Event
	ev.Pods = make([]PodRef, 2)
	var fill func(v reflect.Value)
	fill = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.String:
			v.SetString(sub())
		case reflect.Struct:
			if v.Type().PkgPath() == "time" {
				return
			}
			for i := 0; i < v.NumField(); i++ {
				fill(v.Field(i))
			}
		case reflect.Slice:
			for i := 0; i < v.Len(); i++ {
				fill(v.Index(i))
			}
		}
	}
	fill(reflect.ValueOf(&ev).Elem())
	if next < 10*12 {
		t.Fatalf("only %d strings filled: the reflection walk is broken", next/10)
	}
	n := len(collect(reflect.ValueOf(ev)))
	c := ev.Clone()
	for i := range buf {
		buf[i] = 'X'
	}
	got := collect(reflect.ValueOf(c))
	if len(got) != n {
		t.Fatalf("%d strings in the clone, want %d", len(got), n)
	}
	for i := range got {
		if got[i] != "abcdefg" {
			t.Errorf("string %d of the clone is %q after the buffer changed: it was not copied", i, got[i])
		}
	}
}

func collect(v reflect.Value) []string {
	var out []string
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.String:
			out = append(out, strings.Clone(v.String()))
		case reflect.Struct:
			if v.Type().PkgPath() == "time" {
				return
			}
			for i := 0; i < v.NumField(); i++ {
				walk(v.Field(i))
			}
		case reflect.Slice:
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i))
			}
		}
	}
	walk(v)
	return out
}
