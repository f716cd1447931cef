// Tests of the renderer's Helm semantics on small throwaway charts: the chart
// checks trust this renderer to behave like `helm template`, so the places
// where Helm differs from plain text/template are pinned here.
package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeChart creates a chart in a temp dir with the given values.yaml and
// templates (file name -> text) and returns its directory.
func writeChart(t *testing.T, values string, templates map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(dir, "templates"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "Chart.yaml"), []byte("apiVersion: v2\nname: demo\nversion: 1.2.3\nappVersion: \"9.9\"\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "values.yaml"), []byte(values), 0o644))
	for name, text := range templates {
		must(t, os.WriteFile(filepath.Join(dir, "templates", name), []byte(text), 0o644))
	}
	return dir
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// renderOne renders a chart whose only manifest is out.yaml and returns it.
func renderOne(t *testing.T, values, text string, sets ...string) string {
	t.Helper()
	dir := writeChart(t, values, map[string]string{"out.yaml": text})
	files, _, err := render(renderOptions{chartDir: dir, sets: sets, releaseName: "rel", namespace: "ns"})
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	if len(files) != 1 {
		t.Fatalf("want 1 rendered file, got %d", len(files))
	}
	return files[0].content
}

func TestNumbersFromValuesFilesAreFloat64AsInHelm(t *testing.T) {
	got := renderOne(t, "n: 3\nbig: 1000000\n", `{{ printf "%T" .Values.n }} {{ .Values.big }} {{ int .Values.big }}`)
	if got != "float64 1e+06 1000000" {
		t.Fatalf("got %q", got)
	}
}

func TestSetValuesAreTypedLikeHelmStrvals(t *testing.T) {
	text := `{{ printf "%T" .Values.n }} {{ printf "%T" .Values.s }} {{ printf "%T" .Values.b }} {{ hasKey .Values "gone" }} {{ .Values.m.keep }}`
	got := renderOne(t, "gone: 1\nm:\n  keep: yes\n  x: 1\n", text, "n=5", "s=007", "b=true", "gone=null", "m.x=2")
	if got != "int64 string bool false yes" {
		t.Fatalf("got %q", got)
	}
}

func TestMissingKeysRenderEmpty(t *testing.T) {
	if got := renderOne(t, "a: {}\n", `[{{ .Values.nope }}][{{ .Values.a.nope }}]`); got != "[][]" {
		t.Fatalf("got %q", got)
	}
}

func TestIncludeTplAndBuiltInObjects(t *testing.T) {
	dir := writeChart(t, "greeting: \"hi {{ .Release.Name }}\"\n", map[string]string{
		"_helpers.tpl": `{{- define "demo.name" -}}{{ .Chart.Name }}-{{ .Chart.AppVersion }}{{- end -}}`,
		"out.yaml":     `{{ include "demo.name" . }} {{ tpl .Values.greeting . }} {{ .Release.Namespace }} {{ .Template.Name }} {{ .Capabilities.APIVersions.Has "apps/v1" }}`,
		"NOTES.txt":    `notes for {{ .Release.Name }}`,
		"empty.yaml":   "{{- if false }}x{{ end }}\n",
	})
	files, notes, err := render(renderOptions{chartDir: dir, releaseName: "rel", namespace: "ns"})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || files[0].content != "demo-9.9 hi rel ns demo/templates/out.yaml true" {
		t.Fatalf("got %+v", files)
	}
	if notes != "notes for rel" {
		t.Fatalf("notes %q", notes)
	}
}

func TestRequiredAndFailStopTheRender(t *testing.T) {
	for _, text := range []string{`{{ required "x is required" .Values.x }}`, `{{ fail "x is required" }}`} {
		dir := writeChart(t, "x: \"\"\n", map[string]string{"out.yaml": text})
		_, _, err := render(renderOptions{chartDir: dir, releaseName: "rel", namespace: "ns"})
		if err == nil || !strings.Contains(err.Error(), "x is required") {
			t.Fatalf("%s: err %v", text, err)
		}
	}
}

func TestToYamlSortsKeysIndentsTwoAndTrimsTheNewline(t *testing.T) {
	got := renderOne(t, "m:\n  b: [1, two]\n  a: {}\n", `{{ toYaml .Values.m }}|{{ toYaml dict }}`)
	want := "a: {}\nb:\n  - 1\n  - two|{}"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestEnvFunctionsAreRemovedAsInHelm(t *testing.T) {
	dir := writeChart(t, "", map[string]string{"out.yaml": `{{ env "HOME" }}`})
	if _, _, err := render(renderOptions{chartDir: dir}); err == nil {
		t.Fatal("env should not be defined")
	}
}
