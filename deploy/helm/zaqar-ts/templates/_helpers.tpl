{{/*
Shared names, labels and the cluster arithmetic. Every resource name derives from
"zaqar-ts.fullname", so the peer addresses in ZAQAR_PEERS and each pod's ZAQAR_ADVERTISE
always match the pods the StatefulSet creates behind the headless Service.
*/}}

{{- define "zaqar-ts.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* RELEASE-zaqar-ts, or RELEASE when it already contains the chart name. */}}
{{- define "zaqar-ts.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "zaqar-ts.headlessName" -}}
{{- printf "%s-headless" (include "zaqar-ts.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "zaqar-ts.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "zaqar-ts.selectorLabels" -}}
app.kubernetes.io/name: {{ include "zaqar-ts.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "zaqar-ts.labels" -}}
helm.sh/chart: {{ include "zaqar-ts.chart" . }}
{{ include "zaqar-ts.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "zaqar-ts.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion | toString) -}}
{{- end -}}

{{/* HOST:PORT for a listener; IPv6 hosts get brackets. Call with (list HOST PORT). */}}
{{- define "zaqar-ts.hostPort" -}}
{{- $host := index . 0 | toString -}}
{{- $port := index . 1 | int -}}
{{- if contains ":" $host -}}
{{- printf "[%s]:%d" $host $port -}}
{{- else -}}
{{- printf "%s:%d" $host $port -}}
{{- end -}}
{{- end -}}

{{/* The per-pod DNS domain the headless Service publishes: POD.HEADLESS.NAMESPACE.svc.DOMAIN. */}}
{{- define "zaqar-ts.podDomain" -}}
{{- printf "%s.%s.svc.%s" (include "zaqar-ts.headlessName" .) .Release.Namespace .Values.clusterDomain -}}
{{- end -}}

{{/*
ZAQAR_PEERS: "ID=HOST:PORT,..." for the cluster's initial nodes (cluster.initialNodes),
node id = ordinal + 1; hosts are the per-pod DNS names the headless Service publishes (even
before the pods are ready, thanks to publishNotReadyAddresses). It does not depend on
replicaCount, so scaling leaves the pod template, and the running pods, alone: pods added
later are found through the nodes' address books, which every pod fills with its own
ZAQAR_ADVERTISE address.
*/}}
{{- define "zaqar-ts.peers" -}}
{{- $fullname := include "zaqar-ts.fullname" . -}}
{{- $domain := include "zaqar-ts.podDomain" . -}}
{{- $peers := list -}}
{{- range $ordinal := until (int .Values.cluster.initialNodes) -}}
{{- $peers = append $peers (printf "%d=%s-%d.%s:%d" (add1 $ordinal) $fullname $ordinal $domain (int $.Values.server.raftPort)) -}}
{{- end -}}
{{- join "," $peers -}}
{{- end -}}

{{/*
ZAQAR_INITIAL_MEMBERS: "1,...,N" for N = cluster.initialNodes, the voters of brand-new
shard groups. Set explicitly because a pod added later starts with empty data: without it
the server would count that pod (itself plus its peers) among a new cluster's members and
open shard groups of its own; outside it, the pod holds no shard until it is added.
*/}}
{{- define "zaqar-ts.initialMembers" -}}
{{- $ids := list -}}
{{- range $ordinal := until (int .Values.cluster.initialNodes) -}}
{{- $ids = append $ids (toString (add1 $ordinal)) -}}
{{- end -}}
{{- join "," $ids -}}
{{- end -}}

{{/*
PodDisruptionBudget maxUnavailable. A shard keeps serving while a majority of its
replicas is up, and any two pods may hold replicas of the same shard, so at most
floor((r - 1) / 2) pods may be down, r = min(replicaCount, shardReplicas).
*/}}
{{- define "zaqar-ts.maxUnavailable" -}}
{{- $override := .Values.podDisruptionBudget.maxUnavailable -}}
{{- if or (kindIs "invalid" $override) (eq (toString $override) "") -}}
{{- $group := min (int .Values.replicaCount) (int .Values.cluster.shardReplicas) -}}
{{- div (sub $group 1) 2 -}}
{{- else -}}
{{- $override -}}
{{- end -}}
{{- end -}}

{{/* Rejects values that cannot make a working cluster; included by the StatefulSet. */}}
{{- define "zaqar-ts.validate" -}}
{{- $nodes := int .Values.replicaCount -}}
{{- $shardReplicas := int .Values.cluster.shardReplicas -}}
{{- if lt $nodes 1 -}}
{{- fail (printf "replicaCount must be at least 1 (got %v)" .Values.replicaCount) -}}
{{- end -}}
{{- if lt $shardReplicas 1 -}}
{{- fail (printf "cluster.shardReplicas must be at least 1 (got %v)" .Values.cluster.shardReplicas) -}}
{{- end -}}
{{- if gt $shardReplicas $nodes -}}
{{- fail (printf "cluster.shardReplicas (%d) must not exceed replicaCount (%d): each shard needs that many distinct nodes" $shardReplicas $nodes) -}}
{{- end -}}
{{- $initialNodes := int .Values.cluster.initialNodes -}}
{{- if lt $initialNodes 1 -}}
{{- fail (printf "cluster.initialNodes must be at least 1 (got %v): set it to the node count the cluster was created with" .Values.cluster.initialNodes) -}}
{{- end -}}
{{- if gt $initialNodes $nodes -}}
{{- fail (printf "cluster.initialNodes (%d) must not exceed replicaCount (%d): the initial nodes are pods 0..%d" $initialNodes $nodes (sub $initialNodes 1)) -}}
{{- end -}}
{{- if gt $shardReplicas $initialNodes -}}
{{- fail (printf "cluster.shardReplicas (%d) must not exceed cluster.initialNodes (%d): a new cluster places each shard on that many of its initial nodes" $shardReplicas $initialNodes) -}}
{{- end -}}
{{- if lt (int .Values.cluster.shards) 1 -}}
{{- fail (printf "cluster.shards must be at least 1 (got %v)" .Values.cluster.shards) -}}
{{- end -}}
{{- if eq (int .Values.server.port) (int .Values.server.raftPort) -}}
{{- fail "server.port and server.raftPort must differ" -}}
{{- end -}}
{{- $metricsPort := int .Values.server.metricsPort -}}
{{- if and (ne $metricsPort 0) (or (eq $metricsPort (int .Values.server.port)) (eq $metricsPort (int .Values.server.raftPort))) -}}
{{- fail "server.metricsPort must differ from server.port and server.raftPort (or be 0)" -}}
{{- end -}}
{{- range .Values.server.nodeArgs -}}
{{- if not (regexMatch "^--[^'\"\\s]+$" (toString .)) -}}
{{- fail (printf "server.nodeArgs: each must be one node flag starting with --, with no space or quote (got %q)" (toString .)) -}}
{{- end -}}
{{- end -}}
{{- if not (has .Values.podAntiAffinity (list "soft" "hard" "none")) -}}
{{- fail (printf "podAntiAffinity must be soft, hard or none (got %v)" .Values.podAntiAffinity) -}}
{{- end -}}
{{- end -}}
