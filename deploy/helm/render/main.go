// zaqar-chart: an offline stand-in for `helm template` plus the chart's
// checks, for machines without helm or a cluster.
//
//	zaqar-chart render [-chart DIR] [-f values.yaml]... [--set a.b=v]... [-name R] [-namespace NS] [-notes]
//	zaqar-chart check  -rendered FILE -replicas N -max-unavailable N [-service-monitor] [...]
//	zaqar-chart check-docs [-chart DIR] [-readme FILE]
//	zaqar-chart values-table [-chart DIR]
//
// render prints the manifests as `helm template` does ("---", a "# Source:"
// line, the document); with -notes it prints NOTES.txt instead. Exit status
// is 1 on a template error (including the chart's own `fail` checks).
// Built against Debian's Go packages in GOPATH mode (GO111MODULE=off); see
// ../check-chart.sh.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: zaqar-chart render|check|check-docs|values-table [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "render":
		err = runRender(os.Args[2:])
	case "check":
		err = runCheck(os.Args[2:])
	case "check-docs":
		err = runCheckDocs(os.Args[2:])
	case "values-table":
		err = runValuesTable(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q (want render, check, check-docs or values-table)", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "zaqar-chart:", err)
		os.Exit(1)
	}
}

func runRender(args []string) error {
	fs := flag.NewFlagSet("render", flag.ExitOnError)
	var o renderOptions
	var files, sets multiFlag
	fs.StringVar(&o.chartDir, "chart", "deploy/helm/zaqar-ts", "chart directory")
	fs.Var(&files, "f", "values file merged over values.yaml (repeatable)")
	fs.Var(&sets, "set", "key.path=value override (repeatable)")
	fs.StringVar(&o.releaseName, "name", "zaqar", "release name")
	fs.StringVar(&o.namespace, "namespace", "default", "release namespace")
	notes := fs.Bool("notes", false, "print NOTES.txt instead of the manifests")
	if err := fs.Parse(args); err != nil {
		return err
	}
	o.valueFiles, o.sets = files, sets
	manifests, notesText, err := render(o)
	if err != nil {
		return err
	}
	if *notes {
		fmt.Print(notesText)
		return nil
	}
	for _, m := range manifests {
		content := m.content
		if !strings.HasSuffix(content, "\n") {
			content += "\n"
		}
		fmt.Printf("---\n# Source: %s\n%s", m.name, strings.TrimLeft(content, "\n"))
	}
	return nil
}
