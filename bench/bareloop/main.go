// Command bareloop is the least a reader of the kubelet's and runtime's
// journal entries does, for comparison with node-agent: it opens a journal
// directory with go-systemd's sdjournal, applies the same matches
// (_SYSTEMD_UNIT=... ORed), and reads each entry's MESSAGE (Next and
// GetData), then prints the number of entries and bytes.
//
//	bareloop -D DIR -u kubelet.service -u containerd.service
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/coreos/go-systemd/v22/sdjournal"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(s string) error { *l = append(*l, s); return nil }

func main() {
	dir := flag.String("D", "", "journal directory")
	var units list
	flag.Var(&units, "u", "a _SYSTEMD_UNIT to read (repeatable)")
	flag.Parse()
	if err := run(*dir, units); err != nil {
		fmt.Fprintln(os.Stderr, "bareloop:", err)
		os.Exit(1)
	}
}

func run(dir string, units []string) error {
	j, err := sdjournal.NewJournalFromDir(dir)
	if err != nil {
		return err
	}
	defer j.Close()
	for _, u := range units {
		if err := j.AddMatch("_SYSTEMD_UNIT=" + u); err != nil {
			return err
		}
	}
	var entries, bytes int
	for {
		n, err := j.Next()
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
		msg, err := j.GetData("MESSAGE")
		if err != nil {
			continue
		}
		entries++
		bytes += len(msg) - len("MESSAGE=")
	}
	fmt.Printf("%d entries, %d bytes of MESSAGE\n", entries, bytes)
	return nil
}
