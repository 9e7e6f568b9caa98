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
{{- if .Values.scaleout.enabled }}
{{- /* With scaleout a worker may be mid-job when SIGTERM comes: the longest job fits on top of the drain. */}}
{{- $needed = add $needed (int .Values.scaleout.longestJobSeconds) }}
{{- end }}
{{- if .Values.terminationGracePeriodSeconds }}
{{- if le (int .Values.terminationGracePeriodSeconds) (int $needed) }}
{{- fail (printf "terminationGracePeriodSeconds must exceed lifecycle.preStopSleepSeconds + config.shutdownTimeoutSeconds (+ scaleout.longestJobSeconds with scaleout) (%d) but was %v" (int $needed) .Values.terminationGracePeriodSeconds) }}
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

{{/*
The init container that downloads and unpacks the model archive into the model volume (model.source download); shared
by the worker (or all-in-one) pods and the API pods, which read the model folder once to validate requests. It works
once: a volume that already holds model_index.json (a cache claim filled by an earlier pod) is used as is. Pods sharing a
cache claim take a lock, so one downloads while the others wait and then find the model. model_index.json is moved in
last, so an interrupted unpack is never mistaken for a complete model.
*/}}
{{- define "diffusion-service.fetchModelInitContainer" -}}
- name: fetch-model
  image: "{{ .Values.model.download.image.repository }}:{{ .Values.model.download.image.tag }}"
  imagePullPolicy: {{ .Values.model.download.image.pullPolicy }}
  securityContext:
    {{- toYaml .Values.securityContext | nindent 4 }}
  env:
    - name: MODEL_URL
      value: {{ .Values.model.download.url | quote }}
    - name: MODEL_SHA256
      value: {{ .Values.model.download.sha256 | quote }}
    - name: MODEL_DIR
      value: {{ .Values.model.mountPath | quote }}
  command:
    - /bin/sh
    - -ec
    - |
      exec 9>"$MODEL_DIR/.fetch-model.lock"
      flock 9
      if [ -f "$MODEL_DIR/model_index.json" ]; then
        echo "fetch-model: $MODEL_DIR already holds a model"
        exit 0
      fi
      # Leftovers of an interrupted earlier try (the volume is dedicated to the model).
      find "$MODEL_DIR" -mindepth 1 -maxdepth 1 ! -name lost+found ! -name .fetch-model.lock -exec rm -rf {} +
      work="$MODEL_DIR/.download"
      mkdir -p "$work/unpacked"
      echo "fetch-model: downloading $MODEL_URL"
      curl -fsSL --retry 5 --retry-delay 10 --connect-timeout 30 -o "$work/model.archive" "$MODEL_URL"
      if [ -n "$MODEL_SHA256" ]; then
        echo "$MODEL_SHA256  $work/model.archive" | sha256sum -c -
      fi
      if [ "$(head -c 2 "$work/model.archive" | od -An -tx1 | tr -d ' ')" = "1f8b" ]; then
        gzip -dc "$work/model.archive" | tar -x -C "$work/unpacked"
      else
        tar -x -f "$work/model.archive" -C "$work/unpacked"
      fi
      rm -f "$work/model.archive"
      index="$(find "$work/unpacked" -maxdepth 3 -name model_index.json -type f | head -n 1)"
      if [ -z "$index" ]; then
        echo "fetch-model: the archive from $MODEL_URL has no model_index.json within two folder levels" >&2
        exit 1
      fi
      source_dir="$(dirname "$index")"
      for entry in "$source_dir"/*; do
        [ "$(basename "$entry")" = model_index.json ] || mv "$entry" "$MODEL_DIR/"
      done
      mv "$index" "$MODEL_DIR/model_index.json"
      rm -rf "$work"
      echo "fetch-model: model ready in $MODEL_DIR"
  resources:
    {{- toYaml .Values.model.download.resources | nindent 4 }}
  volumeMounts:
    - name: model
      mountPath: {{ .Values.model.mountPath }}
    - name: tmp
      mountPath: /tmp
{{- end }}

{{/*
Checks the scale-out values together, so an inconsistent combination fails the render naming the value.
*/}}
{{- define "diffusion-service.validateScaleout" -}}
{{- if not (has .Values.redis.mode (list "external" "subchart")) }}
{{- fail (printf "redis.mode must be external or subchart but was %q" .Values.redis.mode) }}
{{- end }}
{{- if ne (eq .Values.redis.mode "subchart") (.Values.redis.enabled | default false) }}
{{- fail "redis.enabled (Helm's condition for the redis subchart) must be true exactly when redis.mode is subchart" }}
{{- end }}
{{- if and .Values.scaleout.enabled (eq .Values.redis.mode "external") (not .Values.redis.external.existingSecret) }}
{{- fail "scaleout.enabled with redis.mode external needs redis.external.existingSecret (the Secret with the Redis connection string)" }}
{{- end }}
{{- if and .Values.scaleout.roles.split (not .Values.scaleout.enabled) }}
{{- fail "scaleout.roles.split needs scaleout.enabled: API pods have no worker, so jobs must go through Redis" }}
{{- end }}
{{- if not (has .Values.autoscaling.keda.trigger (list "prometheus" "redis-streams")) }}
{{- fail (printf "autoscaling.keda.trigger must be prometheus or redis-streams but was %q" .Values.autoscaling.keda.trigger) }}
{{- end }}
{{- if and (eq .Values.autoscaling.keda.trigger "redis-streams") (not .Values.scaleout.enabled) }}
{{- fail "autoscaling.keda.trigger redis-streams needs scaleout.enabled (the job stream lives in Redis)" }}
{{- end }}
{{- end }}

{{/*
Pod labels of one role: component api or worker when the roles are split, nothing otherwise.
*/}}
{{- define "diffusion-service.componentLabel" -}}
{{- if .root.Values.scaleout.roles.split }}
app.kubernetes.io/component: {{ .component }}
{{- end }}
{{- end }}

{{/*
The Bitnami redis subchart's full name, by its own rule (common.names.fullname): <release>-redis, or the release name
alone when it already contains "redis". Its Secret carries that name, its master Service that name plus -master.
*/}}
{{- define "diffusion-service.subchartRedisFullname" -}}
{{- if contains "redis" .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-redis" .Release.Name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/*
The Redis host and port of the subchart's master.
*/}}
{{- define "diffusion-service.subchartRedisAddress" -}}
{{- printf "%s-master:6379" (include "diffusion-service.subchartRedisFullname" .) }}
{{- end }}

{{/*
The job stream KEDA watches: <keyPrefix>:stream:<model name> (the model folder's name).
*/}}
{{- define "diffusion-service.jobStream" -}}
{{- $model := ternary "tiny-sd" (base .Values.model.mountPath) (eq .Values.model.source "none") }}
{{- .Values.autoscaling.keda.stream | default (printf "%s:stream:%s" .Values.scaleout.keyPrefix $model) }}
{{- end }}

{{/*
Environment of the service container for scale-out: the Redis connection string (from the operator's Secret, or built
from the subchart's address and password), REDIS_ADDRESS and REDIS_PASSWORD for KEDA's redis-streams scaler, and the
S3 credentials. Kubernetes expands $(REDIS_PASSWORD) because it is defined above its use.
*/}}
{{- define "diffusion-service.scaleoutEnv" -}}
{{- if .Values.scaleout.enabled }}
{{- if eq .Values.redis.mode "subchart" }}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "diffusion-service.subchartRedisFullname" . }}
      key: redis-password
- name: REDIS_ADDRESS
  value: {{ include "diffusion-service.subchartRedisAddress" . | quote }}
- name: Diffusion__Scaleout__Redis
  value: "$(REDIS_ADDRESS),password=$(REDIS_PASSWORD)"
{{- else }}
- name: Diffusion__Scaleout__Redis
  valueFrom:
    secretKeyRef:
      name: {{ .Values.redis.external.existingSecret }}
      key: {{ .Values.redis.external.connectionStringKey }}
- name: REDIS_ADDRESS
  valueFrom:
    secretKeyRef:
      name: {{ .Values.redis.external.existingSecret }}
      key: {{ .Values.redis.external.addressKey }}
      optional: true
{{- with .Values.redis.external.passwordKey }}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $.Values.redis.external.existingSecret }}
      key: {{ . }}
      optional: true
{{- end }}
{{- end }}
{{- end }}
{{- if and .Values.s3.enabled .Values.s3.existingSecret }}
- name: AWS_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ .Values.s3.existingSecret }}
      key: AWS_ACCESS_KEY_ID
- name: AWS_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .Values.s3.existingSecret }}
      key: AWS_SECRET_ACCESS_KEY
{{- end }}
{{- end }}
