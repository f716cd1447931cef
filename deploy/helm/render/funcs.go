// The template function map: sprig's functions plus the ones Helm adds
// (include, tpl, required, toYaml, fromYaml, fromJson, lookup, ...), with
// Helm's semantics: toYaml trims the trailing newline and yields "" on error,
// required fails on nil or "", env/expandenv are removed, lookup finds
// nothing (as under `helm template`).
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"gopkg.in/yaml.v3"
)

// includeDepthMax bounds include/tpl recursion, as Helm does.
const includeDepthMax = 1000

// funcMap builds the functions; include and tpl resolve against the
// renderer's template set at call time, so the map can be installed before
// the templates are parsed.
func funcMap(r *renderer) template.FuncMap {
	f := sprig.TxtFuncMap()
	delete(f, "env")
	delete(f, "expandenv")
	extra := template.FuncMap{
		"include":       r.include,
		"tpl":           r.tpl,
		"required":      required,
		"toYaml":        toYaml,
		"fromYaml":      fromYaml,
		"fromYamlArray": fromYamlArray,
		"toJson":        toJSON,
		"fromJson":      fromJSON,
		"fromJsonArray": fromJSONArray,
		"lookup": func(string, string, string, string) (map[string]interface{}, error) {
			return map[string]interface{}{}, nil
		},
	}
	for k, v := range extra {
		f[k] = v
	}
	return f
}

func (r *renderer) include(name string, data interface{}) (string, error) {
	if r.depth >= includeDepthMax {
		return "", fmt.Errorf("include %q: nesting deeper than %d", name, includeDepthMax)
	}
	r.depth++
	defer func() { r.depth-- }()
	var b strings.Builder
	if err := r.templates.ExecuteTemplate(&b, name, data); err != nil {
		return "", err
	}
	return b.String(), nil
}

func (r *renderer) tpl(text string, data interface{}) (string, error) {
	if r.depth >= includeDepthMax {
		return "", fmt.Errorf("tpl: nesting deeper than %d", includeDepthMax)
	}
	r.depth++
	defer func() { r.depth-- }()
	clone, err := r.templates.Clone()
	if err != nil {
		return "", err
	}
	t, err := clone.New("tpl").Parse(text)
	if err != nil {
		return "", fmt.Errorf("tpl: %w", err)
	}
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return "", fmt.Errorf("tpl: %w", err)
	}
	return strings.ReplaceAll(b.String(), "<no value>", ""), nil
}

func required(message string, v interface{}) (interface{}, error) {
	if v == nil {
		return v, errors.New(message)
	}
	if s, ok := v.(string); ok && s == "" {
		return v, errors.New(message)
	}
	return v, nil
}

func toYaml(v interface{}) string {
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	if err := enc.Close(); err != nil {
		return ""
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func fromYaml(s string) map[string]interface{} {
	var v interface{}
	if err := yaml.Unmarshal([]byte(s), &v); err != nil {
		return map[string]interface{}{"Error": err.Error()}
	}
	m, ok := jsonShape(v).(map[string]interface{})
	if !ok {
		return map[string]interface{}{}
	}
	return m
}

func fromYamlArray(s string) []interface{} {
	var v interface{}
	if err := yaml.Unmarshal([]byte(s), &v); err != nil {
		return []interface{}{err.Error()}
	}
	l, ok := jsonShape(v).([]interface{})
	if !ok {
		return []interface{}{}
	}
	return l
}

func toJSON(v interface{}) string {
	data, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(data)
}

func fromJSON(s string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

func fromJSONArray(s string) []interface{} {
	var l []interface{}
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		return []interface{}{err.Error()}
	}
	return l
}
