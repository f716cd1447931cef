// Checks of the resources around the StatefulSet: the two Services, the
// PodDisruptionBudget, the ConfigMap, the ServiceMonitor, and the Dockerfile
// the chart's pods run.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
)

func checkServices(client, headless, sts map[string]interface{}, e expectations, r *report) {
	selector := at(sts, "spec", "selector", "matchLabels")
	podLabels := at(sts, "spec", "template", "metadata", "labels")
	for name, svc := range map[string]map[string]interface{}{"client": client, "headless": headless} {
		r.check(name+" Service selects exactly the StatefulSet's pods",
			fmt.Sprint(at(svc, "spec", "selector")) == fmt.Sprint(selector) && isSubset(at(svc, "spec", "selector"), podLabels),
			"selector %v, StatefulSet selector %v", at(svc, "spec", "selector"), selector)
	}
	r.check("headless Service has clusterIP None", str(at(headless, "spec", "clusterIP")) == "None",
		"got %v", at(headless, "spec", "clusterIP"))
	r.check("headless Service publishes not-ready pods", at(headless, "spec", "publishNotReadyAddresses") == true,
		"got %v", at(headless, "spec", "publishNotReadyAddresses"))
	for name, port := range map[string]int{"raft": raftPort, "http": apiPort} {
		p := findNamed(at(headless, "spec", "ports"), name)
		got, _ := num(at(p, "port"))
		r.check(fmt.Sprintf("headless Service port %s is %d", name, port), got == port && at(p, "targetPort") == name,
			"got %v", p)
	}
	r.check("client Service is not headless", str(at(client, "spec", "clusterIP")) != "None", "clusterIP None")
	p := findNamed(at(client, "spec", "ports"), "http")
	got, _ := num(at(p, "port"))
	r.check("client Service port http is 8888 to the http container port", got == apiPort && at(p, "targetPort") == "http",
		"got %v", p)
	r.check("client Service exposes no Raft port", findNamed(at(client, "spec", "ports"), "raft") == nil,
		"the Raft port is for peers only")
}

func checkDisruptionBudget(pdb, sts map[string]interface{}, e expectations, r *report) {
	got, isNumber := num(at(pdb, "spec", "maxUnavailable"))
	r.check(fmt.Sprintf("PodDisruptionBudget maxUnavailable is %d (a majority survives)", e.maxUnavailable),
		isNumber && got == e.maxUnavailable, "got %v", at(pdb, "spec", "maxUnavailable"))
	quorum := e.replicas/2 + 1
	r.check(fmt.Sprintf("at most %d of %d pods evictable leaves a quorum of %d", got, e.replicas, quorum),
		e.replicas-got >= quorum, "%d - %d < %d", e.replicas, got, quorum)
	r.check("PodDisruptionBudget sets only maxUnavailable", at(pdb, "spec", "minAvailable") == nil,
		"minAvailable %v", at(pdb, "spec", "minAvailable"))
	r.check("PodDisruptionBudget selects the StatefulSet's pods",
		fmt.Sprint(at(pdb, "spec", "selector", "matchLabels")) == fmt.Sprint(at(sts, "spec", "selector", "matchLabels")),
		"got %v", at(pdb, "spec", "selector"))
}

func checkConfigMap(cm, sts map[string]interface{}, r *report) {
	pod := at(sts, "spec", "template", "spec")
	volume := findNamed(at(pod, "volumes"), "config")
	r.check("pods mount the ConfigMap", str(at(volume, "configMap", "name")) == str(at(cm, "metadata", "name")),
		"config volume %v", volume)
	container := findNamed(at(pod, "containers"), "zaqar-ts")
	mount := str(at(findNamed(at(container, "volumeMounts"), "config"), "mountPath"))
	configPath := str(at(findNamed(at(container, "env"), "ZAQAR_CONFIG"), "value"))
	r.check("ZAQAR_CONFIG points at config.json in the ConfigMap mount",
		mount != "" && configPath == mount+"/config.json", "mount %q, ZAQAR_CONFIG %q", mount, configPath)
	var parsed map[string]interface{}
	err := json.Unmarshal([]byte(str(at(cm, "data", "config.json"))), &parsed)
	r.check("ConfigMap config.json is a JSON object", err == nil && parsed != nil, "%v", err)
}

func checkServiceMonitor(sm, headless map[string]interface{}, r *report) {
	endpoint := at(sm, "spec", "endpoints", 0)
	port := str(at(endpoint, "port"))
	r.check("ServiceMonitor scrapes /metrics on a named port of the headless Service",
		str(at(endpoint, "path")) == "/metrics" && findNamed(at(headless, "spec", "ports"), port) != nil,
		"endpoint %v", endpoint)
	r.check("ServiceMonitor selects the headless Service",
		isSubset(at(sm, "spec", "selector", "matchLabels"), at(headless, "metadata", "labels")),
		"selector %v", at(sm, "spec", "selector"))
	r.check("ServiceMonitor has an interval", str(at(endpoint, "interval")) != "", "endpoint %v", endpoint)
}

// checkDockerfile verifies the image and the chart agree on the user, the
// ports, the data volume and the entrypoint the start script execs.
func checkDockerfile(path string, sts map[string]interface{}, r *report) {
	data, err := os.ReadFile(path)
	if !r.check("Dockerfile is readable", err == nil, "%v", err) {
		return
	}
	text := string(data)
	last := strings.LastIndex(text, "\nFROM ")
	if !r.check("Dockerfile has a FROM line", last >= 0, "none found") {
		return
	}
	runtime := text[last:] // the final stage is the image
	pod := at(sts, "spec", "template", "spec")
	uid, _ := num(at(pod, "securityContext", "runAsUser"))
	r.check(fmt.Sprintf("image runs as the chart's uid %d", uid),
		regexp.MustCompile(fmt.Sprintf(`(?m)^USER %d(:\d+)?\s*$`, uid)).MatchString(runtime), "no matching USER line")
	r.check("image exposes 8888 and 7000", regexp.MustCompile(`(?m)^EXPOSE 8888 7000\s*$`).MatchString(runtime),
		"no `EXPOSE 8888 7000`")
	r.check("image declares the /data volume", regexp.MustCompile(`(?m)^VOLUME \["/data"\]\s*$`).MatchString(runtime),
		"no VOLUME [\"/data\"]")
	r.check("image entrypoint is the one the start script execs",
		regexp.MustCompile(`(?m)^ENTRYPOINT \["node", "/app/cli.js"\]\s*$`).MatchString(runtime) &&
			regexp.MustCompile(`exec node( '[^']*')* /app/cli.js serve`).MatchString(str(at(findNamed(at(pod, "containers"), "zaqar-ts"), "args", 0))),
		"ENTRYPOINT and the chart's exec line differ")
}
