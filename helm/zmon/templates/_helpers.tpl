{{/*
Names, labels and the pieces every zmon pod shares.
*/}}

{{/* The chart name, or nameOverride. */}}
{{- define "zmon.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The prefix of every resource name: fullnameOverride, else "<release>-<chart>"
(just the release name when it already contains the chart name). Kept to 45
characters so that "-host-agent" and the like still fit DNS labels.
*/}}
{{- define "zmon.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 45 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 45 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 45 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* "zmon-0.1.0" for the helm.sh/chart label. */}}
{{- define "zmon.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Standard labels. Called with a dict: (dict "ctx" $ "component" "controller").
*/}}
{{- define "zmon.labels" -}}
helm.sh/chart: {{ include "zmon.chart" .ctx }}
{{ include "zmon.selectorLabels" . }}
app.kubernetes.io/version: {{ .ctx.Values.image.tag | default .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/part-of: zmon
{{- end -}}

{{/* Selector labels: name, instance and component. Same dict as zmon.labels. */}}
{{- define "zmon.selectorLabels" -}}
app.kubernetes.io/name: {{ include "zmon.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* The ServiceAccount's name. */}}
{{- define "zmon.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "zmon.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The Secret the pods read credentials from. */}}
{{- define "zmon.secretName" -}}
{{- if .Values.existingSecret -}}
{{- .Values.existingSecret -}}
{{- else -}}
{{- include "zmon.fullname" . -}}
{{- end -}}
{{- end -}}

{{/* The image reference; the tag defaults to the chart's appVersion. */}}
{{- define "zmon.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{/* Service names of the demo dependencies. */}}
{{- define "zmon.postgresqlName" -}}
{{- printf "%s-postgresql" (include "zmon.fullname" .) -}}
{{- end -}}

{{- define "zmon.redisName" -}}
{{- printf "%s-redis" (include "zmon.fullname" .) -}}
{{- end -}}

{{/*
A value of the chart-managed Secret, base64-encoded: the given value, else
what the Secret already holds (so generated passwords survive upgrades),
else a fresh random one. Called with (dict "ctx" $ "key" "admin-password"
"value" .Values.secrets.adminPassword).
*/}}
{{- define "zmon.secretValueOrGenerated" -}}
{{- if .value -}}
{{- .value | b64enc -}}
{{- else -}}
{{- $existing := lookup "v1" "Secret" .ctx.Release.Namespace (include "zmon.fullname" .ctx) | default dict -}}
{{- $data := get $existing "data" | default dict -}}
{{- $old := get $data .key -}}
{{- if $old -}}
{{- $old -}}
{{- else -}}
{{- randAlphaNum 32 | b64enc -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Fails the rendering on settings that contradict each other, with a message
naming the value to change. Missing credentials do not fail (helm lint and
helm template must render the defaults); zmon.missing lists them instead.
*/}}
{{- define "zmon.validate" -}}
{{- if and .Values.controller.presharedTokens.enabled (not .Values.existingSecret) (not .Values.secrets.presharedTokens) -}}
{{- fail "zmon: controller.presharedTokens.enabled needs secrets.presharedTokens (or existingSecret with preshared-tokens.toml)" -}}
{{- end -}}
{{- if ge (add .Values.controller.shutdownTimeoutSecs .Values.controller.preStopSleepSeconds | int) (int .Values.controller.terminationGracePeriodSeconds) -}}
{{- fail "zmon: controller.preStopSleepSeconds + controller.shutdownTimeoutSecs must be below controller.terminationGracePeriodSeconds" -}}
{{- end -}}
{{- if ge (int .Values.worker.shutdownTimeoutSecs) (int .Values.worker.terminationGracePeriodSeconds) -}}
{{- fail "zmon: worker.shutdownTimeoutSecs must be below worker.terminationGracePeriodSeconds" -}}
{{- end -}}
{{- if ge (int .Values.hostAgent.shutdownTimeoutSecs) (int .Values.hostAgent.terminationGracePeriodSeconds) -}}
{{- fail "zmon: hostAgent.shutdownTimeoutSecs must be below hostAgent.terminationGracePeriodSeconds" -}}
{{- end -}}
{{- end -}}

{{/*
The credentials the chart-managed Secret lacks, one per line (empty when
nothing is missing or an existingSecret is used).
*/}}
{{- define "zmon.missing" -}}
{{- if not .Values.existingSecret -}}
{{- if and (not .Values.demo.postgresql.enabled) (not .Values.secrets.databaseUrl) }}
secrets.databaseUrl (postgres://…), or existingSecret, or demo.postgresql.enabled=true
{{- end }}
{{- if and (not .Values.demo.redis.enabled) (not .Values.secrets.redisUrl) }}
secrets.redisUrl (redis://…), or existingSecret, or demo.redis.enabled=true
{{- end }}
{{- end -}}
{{- end -}}

{{/*
Pod annotations that roll the pods when the configuration or the
chart-managed Secret changes.
*/}}
{{- define "zmon.checksums" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
{{- if not .Values.existingSecret }}
checksum/secret: {{ include (print .Template.BasePath "/secret.yaml") . | sha256sum }}
{{- end }}
{{- end -}}

{{/* Pod security context of the zmon pods. */}}
{{- define "zmon.podSecurityContext" -}}
{{- toYaml .Values.podSecurityContext -}}
{{- end -}}

{{/* Container security context of the zmon containers. */}}
{{- define "zmon.containerSecurityContext" -}}
{{- toYaml .Values.containerSecurityContext -}}
{{- end -}}

{{/*
The pod-spec fields every zmon pod shares: service account, pull secrets,
no Kubernetes service links (they would add ZMON_*_SERVICE_HOST variables
that zmon warns about).
*/}}
{{- define "zmon.podCommon" -}}
serviceAccountName: {{ include "zmon.serviceAccountName" . }}
automountServiceAccountToken: {{ .Values.serviceAccount.automountToken }}
enableServiceLinks: false
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/*
An env entry read from the Secret:
(dict "ctx" $ "name" "ZMON_REDIS_URL" "key" "redis-url" "optional" false)
*/}}
{{- define "zmon.secretEnv" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ include "zmon.secretName" .ctx }}
      key: {{ .key }}
      {{- if .optional }}
      optional: true
      {{- end }}
{{- end -}}

{{/*
ZMON_DATABASE_URL: the demo PostgreSQL (its password from the Secret,
through Kubernetes' $(VAR) expansion), else the Secret's database-url.
*/}}
{{- define "zmon.databaseEnv" -}}
{{- if .Values.demo.postgresql.enabled -}}
{{ include "zmon.secretEnv" (dict "ctx" . "name" "DEMO_POSTGRES_PASSWORD" "key" "postgres-password") }}
- name: ZMON_DATABASE_URL
  value: "postgres://zmon:$(DEMO_POSTGRES_PASSWORD)@{{ include "zmon.postgresqlName" . }}:5432/zmon"
{{- else -}}
{{ include "zmon.secretEnv" (dict "ctx" . "name" "ZMON_DATABASE_URL" "key" "database-url") }}
{{- end -}}
{{- end -}}

{{/* ZMON_REDIS_URL: the demo Redis, else the Secret's redis-url. */}}
{{- define "zmon.redisEnv" -}}
{{- if .Values.demo.redis.enabled -}}
- name: ZMON_REDIS_URL
  value: "redis://{{ include "zmon.redisName" . }}:6379"
{{- else -}}
{{ include "zmon.secretEnv" (dict "ctx" . "name" "ZMON_REDIS_URL" "key" "redis-url") }}
{{- end -}}
{{- end -}}

{{/* Writable /tmp on a read-only root filesystem. */}}
{{- define "zmon.tmpVolumeMount" -}}
- name: tmp
  mountPath: /tmp
{{- end -}}

{{- define "zmon.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- end -}}

{{/*
Liveness (/health) and readiness (/ready) probes on a named port.
(dict "ctx" $ "port" "http")
*/}}
{{- define "zmon.probes" -}}
livenessProbe:
  httpGet:
    path: /health
    port: {{ .port }}
  periodSeconds: {{ .ctx.Values.probes.periodSeconds }}
  timeoutSeconds: {{ .ctx.Values.probes.timeoutSeconds }}
  failureThreshold: {{ .ctx.Values.probes.livenessFailureThreshold }}
readinessProbe:
  httpGet:
    path: /ready
    port: {{ .port }}
  periodSeconds: {{ .ctx.Values.probes.periodSeconds }}
  timeoutSeconds: {{ .ctx.Values.probes.timeoutSeconds }}
  failureThreshold: {{ .ctx.Values.probes.readinessFailureThreshold }}
{{- end -}}
