{{/*
Names and labels, following the argo-helm / prometheus-community conventions.
*/}}

{{- define "dbt-workbench.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified name, at most 38 characters: CronWorkflow names get a suffix such as
"-full-refresh" (CronWorkflow names may have at most 52).
*/}}
{{- define "dbt-workbench.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 38 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 38 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 38 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "dbt-workbench.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "dbt-workbench.selectorLabels" -}}
app.kubernetes.io/name: {{ include "dbt-workbench.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "dbt-workbench.labels" -}}
helm.sh/chart: {{ include "dbt-workbench.chart" . }}
{{ include "dbt-workbench.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: dbt-workbench
{{- end }}

{{- define "dbt-workbench.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "dbt-workbench.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "dbt-workbench.sensorServiceAccountName" -}}
{{- if .Values.events.serviceAccount.create }}
{{- default (printf "%s-sensor" (include "dbt-workbench.fullname" .)) .Values.events.serviceAccount.name }}
{{- else }}
{{- required "events.serviceAccount.name is required when events.serviceAccount.create is false" .Values.events.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The runtime image: a digest wins over a tag; the tag defaults to the appVersion. */}}
{{- define "dbt-workbench.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{- define "dbt-workbench.docsUrl" -}}
{{- printf "s3://%s/%s" .Values.docs.bucket (trimAll "/" .Values.docs.prefix) }}
{{- end }}

{{/* Where `workbench run` keeps each layer's dbt artifacts; empty disables it. */}}
{{- define "dbt-workbench.runArtifactsUrl" -}}
{{- if and .Values.docs.bucket .Values.docs.keepRunArtifacts }}
{{- include "dbt-workbench.docsUrl" . }}
{{- end }}
{{- end }}

{{/* docs-publish arguments: without a bucket the docs are generated but not uploaded. */}}
{{- define "dbt-workbench.docsArgs" -}}
- docs
{{- if .Values.docs.bucket }}
- --publish
- {{ include "dbt-workbench.docsUrl" . }}
{{- end }}
{{- end }}

{{/* True when the cluster serves the Prometheus Operator CRDs. */}}
{{- define "dbt-workbench.hasPrometheusOperator" -}}
{{- if .Capabilities.APIVersions.Has "monitoring.coreos.com/v1" }}true{{- end }}
{{- end }}

{{/*
True when the cluster serves the Argo Events kinds. Checked per kind: Argo Workflows serves
the same group/version (argoproj.io/v1alpha1) without them.
*/}}
{{- define "dbt-workbench.hasArgoEvents" -}}
{{- if and (.Capabilities.APIVersions.Has "argoproj.io/v1alpha1/EventSource") (.Capabilities.APIVersions.Has "argoproj.io/v1alpha1/Sensor") }}true{{- end }}
{{- end }}

{{/*
The scheduled layer jobs whose CronWorkflow is enabled and not suspended, each with its
staleAfterSeconds: cronWorkflows.<job>.staleAfterSeconds when set, else the layer table's
(one default schedule interval + the job's timeout + 15 minutes).
*/}}
{{- define "dbt-workbench.watchedJobs" -}}
{{- $jobs := list }}
{{- range (include "dbt-workbench.scheduledJobs" . | fromYamlArray) }}
{{- $cron := index $.Values.cronWorkflows .valuesKey }}
{{- if and $cron.enabled (not $cron.suspend) }}
{{- $override := $cron.staleAfterSeconds }}
{{- if and (not (empty $cron.schedules)) (empty $override) }}
{{- fail (printf "cronWorkflows.%s.schedules is overridden, so the default schedule's stale-alert threshold (%d s) no longer fits it: set cronWorkflows.%s.staleAfterSeconds to the seconds after which no success means the layer is stale (e.g. the longest gap between two runs + the job's timeout + the longest job it queues behind + 15 min)" .valuesKey (int64 .staleAfterSeconds) .valuesKey) }}
{{- end }}
{{- $jobs = append $jobs (merge (dict "staleAfterSeconds" (default .staleAfterSeconds $override)) .) }}
{{- end }}
{{- end }}
{{- toYaml $jobs }}
{{- end }}
