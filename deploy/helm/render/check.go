// `zaqar-chart check`: reads manifests printed by `render` (so it judges the
// exact text an operator would apply) and verifies the properties the chart
// promises: valid YAML, the expected resources and nothing else, ports,
// probes, volume claims, peers and node ids, a majority-keeping
// PodDisruptionBudget, a non-root read-only security context, and agreement
// with the Dockerfile. Each check prints one "ok"/"FAIL" line.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// expectations are what the check is told about the rendered release.
type expectations struct {
	release        string
	namespace      string
	clusterDomain  string
	replicas       int
	initialNodes   int
	maxUnavailable int
	serviceMonitor bool
	dockerfile     string
	nodeArgs       string
}

// manifest is one rendered document with the template it came from.
type manifest struct {
	source string
	doc    map[string]interface{}
}

// report counts and prints check outcomes.
type report struct {
	label          string
	passed, failed int
}

func (r *report) check(name string, ok bool, format string, args ...interface{}) bool {
	if ok {
		r.passed++
		fmt.Printf("  ok    %s: %s\n", r.label, name)
	} else {
		r.failed++
		fmt.Printf("  FAIL  %s: %s: %s\n", r.label, name, fmt.Sprintf(format, args...))
	}
	return ok
}

func runCheck(args []string) error {
	fs := flag.NewFlagSet("check", flag.ExitOnError)
	var e expectations
	rendered := fs.String("rendered", "", "file holding `zaqar-chart render` output")
	label := fs.String("label", "", "name of this value set in the output")
	fs.StringVar(&e.release, "name", "zaqar", "release name the manifests were rendered with")
	fs.StringVar(&e.namespace, "namespace", "default", "release namespace")
	fs.StringVar(&e.clusterDomain, "cluster-domain", "cluster.local", "expected cluster DNS domain")
	fs.IntVar(&e.replicas, "replicas", 3, "expected StatefulSet replicas")
	fs.IntVar(&e.initialNodes, "initial-nodes", 0, "expected cluster.initialNodes (0: the same as -replicas)")
	fs.IntVar(&e.maxUnavailable, "max-unavailable", 1, "expected PodDisruptionBudget maxUnavailable")
	fs.BoolVar(&e.serviceMonitor, "service-monitor", false, "expect a ServiceMonitor")
	fs.StringVar(&e.dockerfile, "dockerfile", "", "Dockerfile the chart must agree with (optional)")
	fs.StringVar(&e.nodeArgs, "node-args", "", "expected flags before the server's script, space-separated (server.nodeArgs)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *rendered == "" {
		return errors.New("check: -rendered is required")
	}
	if e.initialNodes == 0 {
		e.initialNodes = e.replicas
	}
	r := &report{label: *label}
	if r.label == "" {
		r.label = *rendered
	}
	manifests, err := readManifests(*rendered, r)
	if err != nil {
		return err
	}
	checkManifests(manifests, e, r)
	fmt.Printf("%s: %d passed, %d failed\n", r.label, r.passed, r.failed)
	if r.failed > 0 {
		return fmt.Errorf("%d check(s) failed for %s", r.failed, r.label)
	}
	return nil
}

// readManifests decodes every document, failing a check for each one that
// is not a Kubernetes object (yaml.v3 also rejects duplicate keys, as the
// API server does).
func readManifests(path string, r *report) ([]manifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	var out []manifest
	for i := 1; ; i++ {
		var node yaml.Node
		err := dec.Decode(&node)
		if errors.Is(err, io.EOF) {
			break
		}
		if !r.check(fmt.Sprintf("document %d parses as YAML", i), err == nil, "%v", err) {
			return out, nil // the decoder cannot resynchronise after a syntax error
		}
		source := strings.TrimSpace(strings.TrimPrefix(headComment(&node), "# Source:"))
		var doc map[string]interface{}
		err = node.Decode(&doc)
		ok := err == nil && str(at(doc, "apiVersion")) != "" && str(at(doc, "kind")) != "" &&
			str(at(doc, "metadata", "name")) != ""
		if r.check(fmt.Sprintf("document %d (%s) is a Kubernetes object", i, source), ok,
			"decode error %v or missing apiVersion/kind/metadata.name", err) {
			out = append(out, manifest{source: source, doc: doc})
		}
	}
	r.check("rendered at least one document", len(out) > 0, "no documents")
	return out, nil
}

// headComment finds the "# Source:" comment, which yaml.v3 attaches to the
// document, its mapping or the first key depending on layout.
func headComment(n *yaml.Node) string {
	for depth := 0; n != nil && depth < 3; depth++ {
		if n.HeadComment != "" {
			return n.HeadComment
		}
		if len(n.Content) == 0 {
			break
		}
		n = n.Content[0]
	}
	return ""
}

func fullnameFor(release string) string {
	if strings.Contains(release, "zaqar-ts") {
		return release
	}
	return release + "-zaqar-ts"
}

// checkManifests runs every check; those needing a missing resource are skipped
// after the resource-set check has failed.
func checkManifests(ms []manifest, e expectations, r *report) {
	full := fullnameFor(e.release)
	headless := full + "-headless"
	want := map[string]string{ // kind/name -> apiVersion
		"StatefulSet/" + full:         "apps/v1",
		"Service/" + full:             "v1",
		"Service/" + headless:         "v1",
		"PodDisruptionBudget/" + full: "policy/v1",
		"ConfigMap/" + full:           "v1",
	}
	if e.serviceMonitor {
		want["ServiceMonitor/"+full] = "monitoring.coreos.com/v1"
	}
	byKey := map[string]map[string]interface{}{}
	var got []string
	for _, m := range ms {
		key := str(at(m.doc, "kind")) + "/" + str(at(m.doc, "metadata", "name"))
		r.check(key+" is rendered once", byKey[key] == nil, "duplicate")
		byKey[key] = m.doc
		got = append(got, key)
		if apiVersion, ok := want[key]; ok {
			r.check(key+" apiVersion", str(at(m.doc, "apiVersion")) == apiVersion,
				"got %q, want %q", str(at(m.doc, "apiVersion")), apiVersion)
		}
		r.check(key+" namespace", str(at(m.doc, "metadata", "namespace")) == e.namespace,
			"got %q", str(at(m.doc, "metadata", "namespace")))
		r.check(key+" has the standard labels", hasLabels(at(m.doc, "metadata", "labels"), e.release),
			"labels %v", at(m.doc, "metadata", "labels"))
	}
	var wantKeys []string
	for k := range want {
		wantKeys = append(wantKeys, k)
	}
	sort.Strings(wantKeys)
	sort.Strings(got)
	if !r.check("resources are exactly "+strings.Join(wantKeys, ", "), strings.Join(got, ",") == strings.Join(wantKeys, ","),
		"got %s", strings.Join(got, ", ")) {
		return
	}
	sts := byKey["StatefulSet/"+full]
	w := workload{sts: sts, e: e, full: full, headless: headless, r: r}
	w.checkAll()
	checkServices(byKey["Service/"+full], byKey["Service/"+headless], sts, e, r)
	checkDisruptionBudget(byKey["PodDisruptionBudget/"+full], sts, e, r)
	checkConfigMap(byKey["ConfigMap/"+full], sts, r)
	if e.serviceMonitor {
		checkServiceMonitor(byKey["ServiceMonitor/"+full], byKey["Service/"+headless], r)
	}
	if e.dockerfile != "" {
		checkDockerfile(e.dockerfile, sts, r)
	}
}

func hasLabels(labels interface{}, release string) bool {
	m, ok := labels.(map[string]interface{})
	return ok && str(m["app.kubernetes.io/name"]) == "zaqar-ts" &&
		str(m["app.kubernetes.io/instance"]) == release &&
		str(m["app.kubernetes.io/managed-by"]) == "Helm" && str(m["helm.sh/chart"]) != ""
}

// at walks maps (string keys) and lists (int indices); nil when absent.
func at(v interface{}, path ...interface{}) interface{} {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]interface{})
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]interface{})
			if !ok || k < 0 || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func str(v interface{}) string {
	s, _ := v.(string)
	return s
}

func num(v interface{}) (int, bool) {
	n, ok := v.(int)
	return n, ok
}

// isSubset reports whether every key/value of sub is in super (label selectors).
func isSubset(sub, super interface{}) bool {
	a, ok1 := sub.(map[string]interface{})
	b, ok2 := super.(map[string]interface{})
	if !ok1 || !ok2 || len(a) == 0 {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// findNamed returns the element of a list of maps whose "name" is name.
func findNamed(list interface{}, name string) map[string]interface{} {
	l, _ := list.([]interface{})
	for _, e := range l {
		if m, ok := e.(map[string]interface{}); ok && str(m["name"]) == name {
			return m
		}
	}
	return nil
}
