// Package report renders pod timelines for a person at a terminal (table)
// or a program (JSON). `node-agent report` and `/pods` use it.
package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/podstart/podstart/internal/timeline"
)

// Document is the JSON document of `report --format json` and `/pods`.
type Document struct {
	Pods []timeline.PodView `json:"pods"`
}

// JSON writes pods as a Document, one pod a line: a program reads it as
// any JSON, a person greps it, and it costs half what an indented document
// of thousands of pods costs.
func JSON(w io.Writer, pods []timeline.PodView) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString(`{"pods":[`)
	for i := range pods {
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteByte('\n')
		b, err := json.Marshal(&pods[i])
		if err != nil {
			return err
		}
		bw.Write(b)
	}
	if len(pods) > 0 {
		bw.WriteByte('\n')
	}
	bw.WriteString("]}\n")
	return bw.Flush()
}

// Table writes one block per pod, slowest first: its totals and stages,
// then a line per container, then its failures.
func Table(w io.Writer, pods []timeline.PodView) error {
	if len(pods) == 0 {
		_, err := fmt.Fprintln(w, "no pod starts found")
		return err
	}
	for i, p := range pods {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "POD %s/%s  uid %s  first seen %s  state %s\n", p.Namespace, p.Name, orDash(p.UID), p.FirstSeen.Format(time.RFC3339Nano), p.State)
		var parts []string
		for _, name := range []string{"node", "ready", "e2e", "slo", "volumes", "sandbox", "init_containers", "readiness"} {
			if s, ok := p.Stages[name]; ok {
				parts = append(parts, fmt.Sprintf("%s %s", name, dur(s)))
			}
		}
		if len(parts) > 0 {
			fmt.Fprintf(w, "  %s\n", strings.Join(parts, "  "))
		}
		if len(p.Containers) > 0 {
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "  CONTAINER\tINIT\tIMAGE\tPULL\tPULL TIME\tCREATE\tSTART\tEXIT")
			for _, c := range p.Containers {
				name := c.Name
				if name == "" {
					name = shortID(c.ID)
				}
				if c.Attempt > 0 {
					name = fmt.Sprintf("%s#%d", name, c.Attempt)
				}
				exit := "-"
				if c.ExitCode != nil {
					exit = fmt.Sprint(*c.ExitCode)
				}
				fmt.Fprintf(tw, "  %s\t%v\t%s\t%s\t%s\t%s\t%s\t%s\n", name, c.Init, orDash(c.Image), orDash(c.Pull), optDur(c.PullSeconds), optDur(c.CreateSeconds), optDur(c.StartSeconds), exit)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
		}
		for _, f := range p.Failures {
			who := ""
			if f.Container != "" {
				who = " " + f.Container
			}
			fmt.Fprintf(w, "  FAILED %s %s%s (x%d): %s\n", f.Stage, f.Reason, who, f.Count, oneLine(f.Message, 160))
		}
		if st := p.Stuck; st != nil {
			why := ""
			if st.Reason != "" {
				why = fmt.Sprintf(" %s: %s", st.Reason, oneLine(st.Message, 160))
			}
			fmt.Fprintf(w, "  STUCK in %s for %s since %s%s\n", st.Stage, dur(st.Seconds), st.Since.Format(time.RFC3339), why)
		}
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return orDash(id)
}

func dur(s float64) string {
	return time.Duration(s * float64(time.Second)).Round(time.Millisecond / 10).String()
}

func optDur(s *float64) string {
	if s == nil {
		return "-"
	}
	return dur(*s)
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}
