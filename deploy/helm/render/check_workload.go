// StatefulSet checks: cluster shape, peers, node ids (by running the pod's
// real start script under /bin/sh with a stand-in `node`), ports, probes,
// storage, resources and the security context.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

const (
	apiPort  = 8888
	raftPort = 7000
)

type workload struct {
	sts      map[string]interface{}
	e        expectations
	full     string
	headless string
	r        *report
}

func (w *workload) pod() interface{} { return at(w.sts, "spec", "template", "spec") }

func (w *workload) container() map[string]interface{} {
	return findNamed(at(w.pod(), "containers"), "zaqar-ts")
}

func (w *workload) env(name string) string {
	return str(at(findNamed(at(w.container(), "env"), name), "value"))
}

func (w *workload) checkAll() {
	r := w.r
	replicas, _ := num(at(w.sts, "spec", "replicas"))
	r.check("StatefulSet replicas", replicas == w.e.replicas, "got %d, want %d", replicas, w.e.replicas)
	r.check("StatefulSet podManagementPolicy is Parallel", str(at(w.sts, "spec", "podManagementPolicy")) == "Parallel",
		"got %q", str(at(w.sts, "spec", "podManagementPolicy")))
	r.check("StatefulSet serviceName is the headless Service", str(at(w.sts, "spec", "serviceName")) == w.headless,
		"got %q", str(at(w.sts, "spec", "serviceName")))
	r.check("StatefulSet selector matches its pod labels",
		isSubset(at(w.sts, "spec", "selector", "matchLabels"), at(w.sts, "spec", "template", "metadata", "labels")),
		"selector %v", at(w.sts, "spec", "selector", "matchLabels"))
	if !r.check("server container exists", w.container() != nil, "no container named zaqar-ts") {
		return
	}
	w.checkEnvironment()
	w.checkNodeIDScript()
	w.checkPortsAndProbes()
	w.checkStorage()
	w.checkSecurity()
	w.checkResources()
}

func (w *workload) checkEnvironment() {
	r := w.r
	listen := fmt.Sprintf("0.0.0.0:%d", apiPort)
	raftListen := fmt.Sprintf("0.0.0.0:%d", raftPort)
	r.check("ZAQAR_LISTEN binds every interface on 8888", w.env("ZAQAR_LISTEN") == listen, "got %q", w.env("ZAQAR_LISTEN"))
	r.check("ZAQAR_RAFT_LISTEN binds every interface on 7000", w.env("ZAQAR_RAFT_LISTEN") == raftListen,
		"got %q", w.env("ZAQAR_RAFT_LISTEN"))
	r.check("ZAQAR_DATA_DIR is /data", w.env("ZAQAR_DATA_DIR") == "/data", "got %q", w.env("ZAQAR_DATA_DIR"))
	numeric := regexp.MustCompile(`^[1-9][0-9]*$`)
	for _, name := range []string{"ZAQAR_REPLICAS", "ZAQAR_SHARDS"} {
		r.check(name+" is a positive integer", numeric.MatchString(w.env(name)), "got %q", w.env(name))
	}
	podName := findNamed(at(w.container(), "env"), "POD_NAME")
	r.check("POD_NAME comes from the downward API", str(at(podName, "valueFrom", "fieldRef", "fieldPath")) == "metadata.name",
		"got %v", podName)
	// Both name the initial nodes only, so the pod template does not change with replicaCount.
	var want, ids []string
	for i := 0; i < w.e.initialNodes; i++ {
		want = append(want, fmt.Sprintf("%d=%s:%d", i+1, w.podHost(i), raftPort))
		ids = append(ids, fmt.Sprint(i+1))
	}
	r.check(fmt.Sprintf("ZAQAR_PEERS lists the %d initial nodes by headless DNS name", w.e.initialNodes),
		w.env("ZAQAR_PEERS") == strings.Join(want, ","), "got %q, want %q", w.env("ZAQAR_PEERS"), strings.Join(want, ","))
	r.check(fmt.Sprintf("ZAQAR_INITIAL_MEMBERS is nodes 1..%d", w.e.initialNodes),
		w.env("ZAQAR_INITIAL_MEMBERS") == strings.Join(ids, ","), "got %q, want %q", w.env("ZAQAR_INITIAL_MEMBERS"), strings.Join(ids, ","))
}

// podHost is the headless DNS name of the pod with this ordinal.
func (w *workload) podHost(ordinal int) string {
	return fmt.Sprintf("%s-%d.%s.%s.svc.%s", w.full, ordinal, w.headless, w.e.namespace, w.e.clusterDomain)
}

// checkNodeIDScript runs the container's command with a fake `node` that
// prints the node id, the advertised address and its arguments, for the first
// and last pod and for a pod name without an ordinal.
func (w *workload) checkNodeIDScript() {
	r := w.r
	command := at(w.container(), "command")
	script := str(at(w.container(), "args", 0))
	if !r.check("container starts through /bin/sh -c", fmt.Sprint(command) == "[/bin/sh -c]" && script != "",
		"command %v", command) {
		return
	}
	dir, err := os.MkdirTemp("", "zaqar-chart-")
	if err != nil {
		r.check("node id check setup", false, "%v", err)
		return
	}
	defer os.RemoveAll(dir)
	shim := "#!/bin/sh\necho \"$ZAQAR_NODE_ID $ZAQAR_ADVERTISE $*\"\n"
	if err := os.WriteFile(filepath.Join(dir, "node"), []byte(shim), 0o755); err != nil {
		r.check("node id check setup", false, "%v", err)
		return
	}
	run := func(podName string) (string, error) {
		cmd := exec.Command("/bin/sh", "-c", script)
		cmd.Env = []string{"PATH=" + dir + ":/usr/bin:/bin", "POD_NAME=" + podName}
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	for _, ordinal := range []int{0, w.e.replicas - 1} {
		pod := fmt.Sprintf("%s-%d", w.full, ordinal)
		want := fmt.Sprintf("%d %s:%d %s/app/cli.js serve", ordinal+1, w.podHost(ordinal), raftPort, nodeArgsShown(w.e.nodeArgs))
		out, err := run(pod)
		r.check(fmt.Sprintf("pod %s starts `node %s/app/cli.js serve` as node %d advertising its DNS name", pod, nodeArgsShown(w.e.nodeArgs), ordinal+1), err == nil && out == want,
			"got %q (err %v), want %q", out, err, want)
	}
	out, err := run(w.full + "-x")
	r.check("a pod name without an ordinal refuses to start", err != nil && !strings.Contains(out, "serve"),
		"got %q (err %v)", out, err)
}

// nodeArgsShown is the expected node flags as they stand before the script ("" or "FLAGS ").
func nodeArgsShown(nodeArgs string) string {
	if nodeArgs == "" {
		return ""
	}
	return nodeArgs + " "
}

func (w *workload) checkPortsAndProbes() {
	r := w.r
	ports := at(w.container(), "ports")
	for name, port := range map[string]int{"http": apiPort, "raft": raftPort} {
		got, _ := num(at(findNamed(ports, name), "containerPort"))
		r.check(fmt.Sprintf("container port %s is %d", name, port), got == port, "got %d", got)
	}
	for probe, path := range map[string]string{"livenessProbe": "/healthz", "readinessProbe": "/readyz", "startupProbe": "/healthz"} {
		p := at(w.container(), probe, "httpGet")
		r.check(fmt.Sprintf("%s is GET %s on the http port", probe, path),
			str(at(p, "path")) == path && at(p, "port") == "http", "got %v", p)
		period, _ := num(at(w.container(), probe, "periodSeconds"))
		r.check(probe+" has a period", period > 0, "got %v", at(w.container(), probe, "periodSeconds"))
	}
	grace, _ := num(at(w.pod(), "terminationGracePeriodSeconds"))
	r.check("terminationGracePeriodSeconds leaves time to drain (>= 30 s)", grace >= 30, "got %d", grace)
}

func (w *workload) checkStorage() {
	r := w.r
	claims, _ := at(w.sts, "spec", "volumeClaimTemplates").([]interface{})
	claim := findNamed(claimsByName(claims), "data")
	r.check("one volumeClaimTemplate named data", len(claims) == 1 && claim != nil, "got %v", claims)
	r.check("data claim requests storage", str(at(claim, "spec", "resources", "requests", "storage")) != "",
		"got %v", at(claim, "spec", "resources"))
	r.check("data claim is ReadWriteOnce", fmt.Sprint(at(claim, "spec", "accessModes")) == "[ReadWriteOnce]",
		"got %v", at(claim, "spec", "accessModes"))
	mounts := at(w.container(), "volumeMounts")
	r.check("data claim is mounted at /data", str(at(findNamed(mounts, "data"), "mountPath")) == "/data", "mounts %v", mounts)
	tmp := findNamed(at(w.pod(), "volumes"), "tmp")
	r.check("/tmp is a writable emptyDir", at(tmp, "emptyDir") != nil &&
		str(at(findNamed(mounts, "tmp"), "mountPath")) == "/tmp", "volume %v", tmp)
	r.check("no data volume shadows the claim", findNamed(at(w.pod(), "volumes"), "data") == nil,
		"pod volumes define data: it would replace the PVC")
}

// claimsByName lifts volumeClaimTemplates' metadata.name to name for findNamed.
func claimsByName(claims []interface{}) []interface{} {
	out := make([]interface{}, 0, len(claims))
	for _, c := range claims {
		m, _ := c.(map[string]interface{})
		out = append(out, map[string]interface{}{"name": str(at(m, "metadata", "name")), "spec": at(m, "spec")})
	}
	return out
}

func (w *workload) checkSecurity() {
	r := w.r
	pod := at(w.pod(), "securityContext")
	uid, _ := num(at(pod, "runAsUser"))
	r.check("pod runs as a non-root user", at(pod, "runAsNonRoot") == true && uid > 0, "got %v", pod)
	r.check("pod sets fsGroup so the PVC is writable", at(pod, "fsGroup") != nil, "got %v", pod)
	r.check("pod seccomp is RuntimeDefault", str(at(pod, "seccompProfile", "type")) == "RuntimeDefault", "got %v", pod)
	r.check("no service account token is mounted", at(w.pod(), "automountServiceAccountToken") == false,
		"got %v", at(w.pod(), "automountServiceAccountToken"))
	c := at(w.container(), "securityContext")
	r.check("container runAsNonRoot", at(c, "runAsNonRoot") == true, "got %v", c)
	r.check("container root filesystem is read-only", at(c, "readOnlyRootFilesystem") == true, "got %v", c)
	r.check("container forbids privilege escalation", at(c, "allowPrivilegeEscalation") == false, "got %v", c)
	r.check("container is not privileged", at(c, "privileged") != true, "got %v", c)
	r.check("container drops ALL capabilities", fmt.Sprint(at(c, "capabilities", "drop")) == "[ALL]" &&
		at(c, "capabilities", "add") == nil, "got %v", at(c, "capabilities"))
	r.check("container seccomp is RuntimeDefault", str(at(c, "seccompProfile", "type")) == "RuntimeDefault", "got %v", c)
}

func (w *workload) checkResources() {
	res := at(w.container(), "resources")
	w.r.check("resources request cpu and memory and limit memory",
		at(res, "requests", "cpu") != nil && at(res, "requests", "memory") != nil && at(res, "limits", "memory") != nil,
		"got %v", res)
	annotation := str(at(w.sts, "spec", "template", "metadata", "annotations", "checksum/config"))
	w.r.check("pods carry the config checksum (config changes roll them)",
		regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(annotation), "got %q", annotation)
}
