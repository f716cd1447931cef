{{/*
Shared names, labels and the cluster arithmetic. Every resource name derives from
"zaqar-ts.fullname", so the peer addresses in ZAQAR_PEERS always match the pods the
StatefulSet creates behind the headless Service.
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

{{/*
ZAQAR_PEERS: "ID=HOST:PORT,..." for every node, itself included. Node id = ordinal + 1;
hosts are the per-pod DNS names the headless Service publishes (even before the pods
are ready, thanks to publishNotReadyAddresses).
*/}}
{{- define "zaqar-ts.peers" -}}
{{- $fullname := include "zaqar-ts.fullname" . -}}
{{- $domain := printf "%s.%s.svc.%s" (include "zaqar-ts.headlessName" .) .Release.Namespace .Values.clusterDomain -}}
{{- $peers := list -}}
{{- range $ordinal := until (int .Values.replicaCount) -}}
{{- $peers = append $peers (printf "%d=%s-%d.%s:%d" (add1 $ordinal) $fullname $ordinal $domain (int $.Values.server.raftPort)) -}}
{{- end -}}
{{- join "," $peers -}}
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
{{- if not (has .Values.podAntiAffinity (list "soft" "hard" "none")) -}}
{{- fail (printf "podAntiAffinity must be soft, hard or none (got %v)" .Values.podAntiAffinity) -}}
{{- end -}}
{{- end -}}
