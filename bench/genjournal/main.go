// Command genjournal writes the journal of a busy Kubernetes node for
// benchmarks (journaltest.BusyNode: kubelet at --v=4, containerd, other
// units; every entry with the fields journald stores) with
// systemd-journal-remote, and prints its directory.
//
//	genjournal [-n 1000000] [-o DIR]
//
// Without -o the journal is kept in ${XDG_CACHE_HOME:-$HOME/.cache}/podstart/bench,
// keyed by generator version and size, and made only once.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/podstart/podstart/internal/journaltest"
)

func main() {
	n := flag.Int("n", 1000000, "number of entries")
	out := flag.String("o", "", "write to this directory instead of the cache (it must not hold a journal yet)")
	flag.Parse()
	b := journaltest.BusyNode{Entries: *n}
	start := time.Now()
	var dir string
	var err error
	if *out != "" {
		dir, err = *out, b.Write(*out)
	} else {
		dir, err = b.Cached()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "genjournal:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "genjournal: %d entries in %s (%s)\n", *n, dir, time.Since(start).Round(time.Millisecond))
	fmt.Println(dir)
}
