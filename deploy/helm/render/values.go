// Values: loading, Helm-style normalisation, coalescing and --set parsing.
//
// Invariant: values handed to templates have the shapes Helm gives them.
// Helm reads YAML through JSON, so every number from a values file is a
// float64 (a template doing `gt .Values.n 1` or printing 1e+06 behaves here
// as it does under Helm), while --set integers are int64, as Helm's strvals
// parser makes them.
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// readValuesFile parses one values file into a JSON-shaped map.
func readValuesFile(path string) (map[string]interface{}, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var raw interface{}
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if raw == nil {
		return map[string]interface{}{}, nil
	}
	m, ok := jsonShape(raw).(map[string]interface{})
	if !ok {
		return nil, fmt.Errorf("%s: top level must be a mapping", path)
	}
	return m, nil
}

// jsonShape converts a yaml.v3 tree into what encoding/json would produce:
// maps keyed by string, []interface{} lists and float64 numbers.
func jsonShape(v interface{}) interface{} {
	switch t := v.(type) {
	case map[string]interface{}:
		out := make(map[string]interface{}, len(t))
		for k, e := range t {
			out[k] = jsonShape(e)
		}
		return out
	case map[interface{}]interface{}:
		out := make(map[string]interface{}, len(t))
		for k, e := range t {
			out[fmt.Sprint(k)] = jsonShape(e)
		}
		return out
	case []interface{}:
		out := make([]interface{}, len(t))
		for i, e := range t {
			out[i] = jsonShape(e)
		}
		return out
	case int:
		return float64(t)
	case int64:
		return float64(t)
	case uint64:
		return float64(t)
	default:
		return v
	}
}

// coalesce merges override into base (mutating base) the way Helm merges a
// user's values over the chart's: maps merge key by key, anything else
// replaces, and an explicit null deletes the chart's key.
func coalesce(base, override map[string]interface{}) map[string]interface{} {
	for k, ov := range override {
		if ov == nil {
			delete(base, k)
			continue
		}
		bm, baseIsMap := base[k].(map[string]interface{})
		om, overrideIsMap := ov.(map[string]interface{})
		if baseIsMap && overrideIsMap {
			base[k] = coalesce(bm, om)
		} else {
			base[k] = ov
		}
	}
	return base
}

// parseSet turns "a.b.c=value" into a nested override map. Only dotted
// paths to scalars are supported (no list indices), which is all the checks
// need.
func parseSet(expr string) (map[string]interface{}, error) {
	eq := strings.IndexByte(expr, '=')
	if eq <= 0 {
		return nil, fmt.Errorf("--set %q: want key.path=value", expr)
	}
	path := strings.Split(expr[:eq], ".")
	var leaf interface{} = setScalar(expr[eq+1:])
	for i := len(path) - 1; i >= 0; i-- {
		if path[i] == "" {
			return nil, fmt.Errorf("--set %q: empty path segment", expr)
		}
		leaf = map[string]interface{}{path[i]: leaf}
	}
	return leaf.(map[string]interface{}), nil
}

// setScalar types a --set value as Helm's strvals does.
func setScalar(s string) interface{} {
	switch s {
	case "true":
		return true
	case "false":
		return false
	case "null":
		return nil
	}
	if len(s) > 1 && s[0] == '0' {
		return s // Helm keeps leading-zero numbers as strings
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n
	}
	return s
}
