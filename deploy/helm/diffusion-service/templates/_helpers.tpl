{{/*
Chart name, truncated to the 63 characters a DNS label allows.
*/}}
{{- define "diffusion-service.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name: the release name, plus the chart name unless the release name already contains it.
*/}}
{{- define "diffusion-service.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "diffusion-service.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "diffusion-service.selectorLabels" -}}
app.kubernetes.io/name: {{ include "diffusion-service.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "diffusion-service.labels" -}}
helm.sh/chart: {{ include "diffusion-service.chart" . }}
{{ include "diffusion-service.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "diffusion-service.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "diffusion-service.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "diffusion-service.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/*
Execution provider: the configured one, else cuda when a GPU is requested (fail loudly instead of serving on CPU), else cpu.
*/}}
{{- define "diffusion-service.executionProvider" -}}
{{- if .Values.config.model.executionProvider }}
{{- $provider := lower .Values.config.model.executionProvider }}
{{- if not (has $provider (list "auto" "cuda" "cpu")) }}
{{- fail (printf "config.model.executionProvider must be auto, cuda or cpu but was %q" .Values.config.model.executionProvider) }}
{{- end }}
{{- $provider }}
{{- else if .Values.gpu.enabled }}
{{- "cuda" }}
{{- else }}
{{- "cpu" }}
{{- end }}
{{- end }}

{{/*
Grace period: the preStop sleep and the service's own drain must both fit inside it, with a margin for the process exit.
*/}}
{{- define "diffusion-service.terminationGracePeriodSeconds" -}}
{{- $needed := add (int .Values.lifecycle.preStopSleepSeconds) (int .Values.config.shutdownTimeoutSeconds) }}
{{- if .Values.terminationGracePeriodSeconds }}
{{- if le (int .Values.terminationGracePeriodSeconds) (int $needed) }}
{{- fail (printf "terminationGracePeriodSeconds must exceed lifecycle.preStopSleepSeconds + config.shutdownTimeoutSeconds (%d) but was %v" (int $needed) .Values.terminationGracePeriodSeconds) }}
{{- end }}
{{- int .Values.terminationGracePeriodSeconds }}
{{- else }}
{{- add $needed 15 }}
{{- end }}
{{- end }}

{{/*
Secret holding Diffusion__ApiKeys__N: the operator's own, the chart's when keys are given, else none (empty string).
*/}}
{{- define "diffusion-service.apiKeysSecretName" -}}
{{- if .Values.apiKeys.existingSecret }}
{{- .Values.apiKeys.existingSecret }}
{{- else if .Values.apiKeys.keys }}
{{- printf "%s-api-keys" (include "diffusion-service.fullname" .) }}
{{- end }}
{{- end }}

{{- define "diffusion-service.dataClaimName" -}}
{{- default (printf "%s-data" (include "diffusion-service.fullname" .)) .Values.persistence.existingClaim }}
{{- end }}

{{/*
Validates the model source up front, so a typo fails the install instead of starting pods on the tiny model.
*/}}
{{- define "diffusion-service.validateModel" -}}
{{- $source := .Values.model.source }}
{{- if not (has $source (list "none" "pvc" "download")) }}
{{- fail (printf "model.source must be none, pvc or download but was %q" $source) }}
{{- end }}
{{- if and (eq $source "pvc") (not .Values.model.pvc.existingClaim) }}
{{- fail "model.source is pvc but model.pvc.existingClaim is empty" }}
{{- end }}
{{- if and (eq $source "download") (not (regexMatch "^https?://" .Values.model.download.url)) }}
{{- fail (printf "model.source is download but model.download.url must be an http(s) URL and was %q" .Values.model.download.url) }}
{{- end }}
{{- if and (eq $source "download") .Values.model.download.sha256 (not (regexMatch "^[0-9a-fA-F]{64}$" .Values.model.download.sha256)) }}
{{- fail (printf "model.download.sha256 must be 64 hex digits but was %q" .Values.model.download.sha256) }}
{{- end }}
{{- end }}
