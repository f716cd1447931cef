// Loading a chart directory and rendering its templates the way
// `helm template` does: every file under templates/ is parsed into one
// template set named "<chart>/templates/<file>" (so include and
// .Template.BasePath work), files starting with "_" only define templates,
// NOTES.txt is rendered separately, missing keys render as empty.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/template"

	"gopkg.in/yaml.v3"
)

// renderOptions are the inputs `helm template` takes.
type renderOptions struct {
	chartDir    string
	valueFiles  []string
	sets        []string
	releaseName string
	namespace   string
}

// renderedFile is one template's output.
type renderedFile struct {
	name    string // "<chart>/templates/<file>"
	content string
}

type renderer struct {
	templates *template.Template
	depth     int
}

// apiVersions is .Capabilities.APIVersions; Has answers like Helm's.
type apiVersions []string

func (a apiVersions) Has(v string) bool {
	for _, x := range a {
		if x == v {
			return true
		}
	}
	return false
}

type kubeVersion struct{ Version, Major, Minor, GitVersion string }

func (k kubeVersion) String() string { return k.Version }

type capabilities struct {
	KubeVersion kubeVersion
	APIVersions apiVersions
}

// The built-in API versions `helm template` assumes without a cluster.
var defaultCapabilities = capabilities{
	KubeVersion: kubeVersion{Version: "v1.29.0", Major: "1", Minor: "29", GitVersion: "v1.29.0"},
	APIVersions: apiVersions{"v1", "apps/v1", "batch/v1", "policy/v1", "networking.k8s.io/v1",
		"rbac.authorization.k8s.io/v1", "autoscaling/v2", "storage.k8s.io/v1"},
}

// chartMetadata maps Chart.yaml's keys to the field names templates use (.Chart.AppVersion).
var chartMetadataKeys = map[string]string{
	"apiVersion": "APIVersion", "name": "Name", "version": "Version", "appVersion": "AppVersion",
	"description": "Description", "type": "Type", "kubeVersion": "KubeVersion", "home": "Home",
	"keywords": "Keywords", "sources": "Sources", "maintainers": "Maintainers", "icon": "Icon",
	"annotations": "Annotations", "deprecated": "Deprecated", "dependencies": "Dependencies",
}

func loadChartMetadata(dir string) (map[string]interface{}, error) {
	data, err := os.ReadFile(filepath.Join(dir, "Chart.yaml"))
	if err != nil {
		return nil, err
	}
	var raw map[string]interface{}
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("Chart.yaml: %w", err)
	}
	out := map[string]interface{}{}
	for k, v := range raw {
		field, ok := chartMetadataKeys[k]
		if !ok {
			return nil, fmt.Errorf("Chart.yaml: unknown key %q", k)
		}
		out[field] = jsonShape(v)
	}
	for _, k := range []string{"APIVersion", "Name", "Version"} {
		if s, _ := out[k].(string); s == "" {
			return nil, fmt.Errorf("Chart.yaml: %s is required", k)
		}
	}
	return out, nil
}

// mergedValues is the chart's values.yaml, then each -f file, then each --set.
func mergedValues(o renderOptions) (map[string]interface{}, error) {
	values, err := readValuesFile(filepath.Join(o.chartDir, "values.yaml"))
	if err != nil {
		return nil, err
	}
	for _, f := range o.valueFiles {
		override, err := readValuesFile(f)
		if err != nil {
			return nil, err
		}
		values = coalesce(values, override)
	}
	for _, s := range o.sets {
		override, err := parseSet(s)
		if err != nil {
			return nil, err
		}
		values = coalesce(values, override)
	}
	return values, nil
}

// render returns the manifests (sorted by template name, empty ones dropped)
// and the rendered NOTES.txt.
func render(o renderOptions) ([]renderedFile, string, error) {
	meta, err := loadChartMetadata(o.chartDir)
	if err != nil {
		return nil, "", err
	}
	values, err := mergedValues(o)
	if err != nil {
		return nil, "", err
	}
	chartName, _ := meta["Name"].(string)
	r := &renderer{templates: template.New(chartName).Option("missingkey=zero")}
	r.templates.Funcs(funcMap(r))
	names, err := parseTemplates(r.templates, o.chartDir, chartName)
	if err != nil {
		return nil, "", err
	}
	top := map[string]interface{}{
		"Values": values,
		"Chart":  meta,
		"Release": map[string]interface{}{
			"Name": o.releaseName, "Namespace": o.namespace, "Service": "Helm",
			"IsInstall": true, "IsUpgrade": false, "Revision": 1,
		},
		"Capabilities": defaultCapabilities,
	}
	var files []renderedFile
	notes := ""
	for _, name := range names {
		base := filepath.Base(name)
		if strings.HasPrefix(base, "_") {
			continue
		}
		top["Template"] = map[string]interface{}{"Name": name, "BasePath": chartName + "/templates"}
		var b strings.Builder
		if err := r.templates.ExecuteTemplate(&b, name, top); err != nil {
			return nil, "", err
		}
		out := strings.ReplaceAll(b.String(), "<no value>", "")
		if base == "NOTES.txt" {
			notes = out
		} else if strings.TrimSpace(out) != "" {
			files = append(files, renderedFile{name: name, content: out})
		}
	}
	return files, notes, nil
}

func parseTemplates(t *template.Template, chartDir, chartName string) ([]string, error) {
	dir := filepath.Join(chartDir, "templates")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			return nil, fmt.Errorf("templates/%s: subdirectories are not supported", e.Name())
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		name := chartName + "/templates/" + e.Name()
		if _, err := t.New(name).Parse(string(data)); err != nil {
			return nil, err
		}
		names = append(names, name)
	}
	sort.Strings(names)
	return names, nil
}
