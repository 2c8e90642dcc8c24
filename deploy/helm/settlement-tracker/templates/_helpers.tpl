{{/* Names, labels and the shared pod pieces of the three services. */}}

{{- define "st.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "st.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Name of one component's objects; dict "root" $ "component" "ingest". */}}
{{- define "st.componentName" -}}
{{- printf "%s-%s" (include "st.fullname" .root | trunc 52 | trimSuffix "-") .component -}}
{{- end -}}

{{- define "st.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "st.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "st.selectorLabels" -}}
app.kubernetes.io/name: {{ include "st.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "st.componentLabels" -}}
{{ include "st.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "st.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "st.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "st.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/*
Checks the schema cannot express on its own, so a bad combination fails every render with
a message rather than reaching the cluster.
*/}}
{{- define "st.validate" -}}
{{- if not .Values.secrets.existingSecret -}}
{{- fail "secrets.existingSecret is required: create a Secret with DATABASE_URL and REDIS_URL (docs/deploy-kubernetes.md)" -}}
{{- end -}}
{{- range $principal := list "ingest" "aggregate" "admin" -}}
{{- if not (index $.Values.kafka.credentials $principal).existingSecret -}}
{{- fail (printf "kafka.credentials.%s.existingSecret is required: the Secret with the %s principal's Kafka password (docs/deploy-kubernetes.md)" $principal $principal) -}}
{{- end -}}
{{- end -}}
{{- if and .Values.tlog.enabled (not .Values.tlog.existingSecret) -}}
{{- fail "tlog.existingSecret is required while tlog.enabled: the Secret with TLOG_SIGNING_KEY and TLOG_SALT_KEY (docs/receipts.md)" -}}
{{- end -}}
{{- if not .Values.secretsEncryption.existingSecret -}}
{{- fail "secretsEncryption.existingSecret is required: the Secret with SECRETS_ENCRYPTION_KEY, which seals banks' HMAC secrets (docs/deploy-kubernetes.md)" -}}
{{- end -}}
{{- if and .Values.monitoring.serviceMonitor.enabled (not .Values.metrics.scrapeToken.existingSecret) -}}
{{- fail "monitoring.serviceMonitor.enabled needs metrics.scrapeToken.existingSecret: per-bank series are scraped from /metrics/banks with that token" -}}
{{- end -}}
{{- if .Values.ingress.enabled -}}
{{- if or (not .Values.ingress.ingest.host) (not .Values.ingress.api.host) -}}
{{- fail "ingress.ingest.host and ingress.api.host are required: both services serve /v1 and /docs, so each needs its own host" -}}
{{- end -}}
{{- end -}}
{{- if not .Values.kafka.bootstrapServers -}}
{{- fail "kafka.bootstrapServers is required, e.g. [settlement-kafka-bootstrap.kafka.svc:9092]" -}}
{{- end -}}
{{- $partitions := int .Values.kafka.partitions -}}
{{- $agg := .Values.aggregate -}}
{{- if gt (int $agg.replicas) $partitions -}}
{{- fail (printf "aggregate.replicas (%d) exceeds kafka.partitions (%d): a partition has one consumer at a time, the extra replicas would idle" (int $agg.replicas) $partitions) -}}
{{- end -}}
{{- if ne $agg.autoscaling.mode "none" -}}
{{- if gt (int $agg.autoscaling.maxReplicas) $partitions -}}
{{- fail (printf "aggregate.autoscaling.maxReplicas (%d) exceeds kafka.partitions (%d)" (int $agg.autoscaling.maxReplicas) $partitions) -}}
{{- end -}}
{{- if gt (int $agg.autoscaling.minReplicas) (int $agg.autoscaling.maxReplicas) -}}
{{- fail "aggregate.autoscaling.minReplicas exceeds aggregate.autoscaling.maxReplicas" -}}
{{- end -}}
{{- end -}}
{{- range $component := list "ingest" "api" -}}
{{- $a := (index $.Values $component).autoscaling -}}
{{- if and $a.enabled (gt (int $a.minReplicas) (int $a.maxReplicas)) -}}
{{- fail (printf "%s.autoscaling.minReplicas exceeds %s.autoscaling.maxReplicas" $component $component) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Whether a component's replica count belongs to an autoscaler (then the Deployment omits it). */}}
{{- define "st.autoscaled" -}}
{{- $values := index .root.Values .component -}}
{{- if eq .component "aggregate" -}}
{{- if ne $values.autoscaling.mode "none" -}}true{{- end -}}
{{- else if $values.autoscaling.enabled -}}true{{- end -}}
{{- end -}}

{{/*
Environment of every container. Secrets only by reference; everything else from the
ConfigMap. The names are the services' settings (settlement_core/settings.py and each
service's settings.py); deploy/lint checks that each required one is set.
*/}}
{{- define "st.env" -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.secrets.existingSecret }}
      key: {{ .Values.secrets.databaseUrlKey }}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.secrets.existingSecret }}
      key: {{ .Values.secrets.redisUrlKey }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
One Kafka principal's credentials; dict "root" $ "principal" "ingest". The password only by
reference. ingest and aggregate get their own, the migration hook admin, the api none.
*/}}
{{- define "st.kafkaCredentialsEnv" -}}
{{- $c := index .root.Values.kafka.credentials .principal -}}
- name: KAFKA_USERNAME
  value: {{ $c.username | quote }}
- name: KAFKA_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $c.existingSecret }}
      key: {{ $c.passwordKey }}
{{- end -}}

{{/* The api's scrape token for GET /metrics/banks, when one is configured. */}}
{{- define "st.scrapeTokenEnv" -}}
{{- with .Values.metrics.scrapeToken.existingSecret }}
- name: METRICS_SCRAPE_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $.Values.metrics.scrapeToken.key }}
{{- end }}
{{- end -}}

{{/*
The key sealing banks' HMAC secrets in PostgreSQL: ingest opens them, the migration hook
(migration 0005, settlementctl) seals them. Only by reference; the api and aggregate never.
*/}}
{{- define "st.secretsKeyEnv" -}}
{{- $s := .Values.secretsEncryption -}}
- name: SECRETS_ENCRYPTION_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $s.existingSecret }}
      key: {{ $s.key }}
{{- with $s.previousKey }}
- name: SECRETS_ENCRYPTION_KEY_PREVIOUS
  valueFrom:
    secretKeyRef:
      name: {{ $s.existingSecret }}
      key: {{ . }}
{{- end }}
{{- end -}}

{{/*
The transparency log's keys and settings (docs/receipts.md): the integrator signs
checkpoints, ingest signs receipt promises. Keys only by reference; never the api or aggregate.
*/}}
{{- define "st.tlogEnv" -}}
{{- $t := .Values.tlog -}}
- name: TLOG_ORIGIN
  value: {{ $t.origin | quote }}
- name: TLOG_SIGNING_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $t.existingSecret }}
      key: {{ $t.signingKeyKey }}
- name: TLOG_SALT_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $t.existingSecret }}
      key: {{ $t.saltKeyKey }}
{{- with $t.retiredKeys }}
- name: TLOG_RETIRED_KEYS
  value: {{ . | quote }}
{{- end }}
- name: TLOG_MAX_MERGE_DELAY_S
  value: {{ $t.maxMergeDelaySeconds | quote }}
{{- end -}}

{{- define "st.envFrom" -}}
- configMapRef:
    name: {{ include "st.fullname" . }}-config
{{- end -}}

{{/* The non-secret environment: the ConfigMap's data, and inline in the migration hook. */}}
{{- define "st.configData" -}}
KAFKA_BOOTSTRAP: {{ join "," .Values.kafka.bootstrapServers | quote }}
EVENTS_TOPIC: {{ .Values.kafka.eventsTopic | quote }}
DLQ_TOPIC: {{ .Values.kafka.dlqTopic | quote }}
EVENTS_PARTITIONS: {{ .Values.kafka.partitions | quote }}
CONSUMER_GROUP: {{ .Values.kafka.consumerGroup | quote }}
KAFKA_SECURITY_PROTOCOL: {{ .Values.kafka.securityProtocol | quote }}
KAFKA_SASL_MECHANISM: {{ .Values.kafka.saslMechanism | quote }}
REDIS_MODE: {{ .Values.redis.mode | quote }}
LOG_LEVEL: {{ .Values.config.logLevel | quote }}
BUSINESS_TIMEZONE: {{ .Values.config.businessTimezone | quote }}
PUBLIC_MODE: {{ .Values.config.publicMode | quote }}
STATUS_PAGE_ENABLED: {{ .Values.config.statusPageEnabled | quote }}
INGEST_HOST: "0.0.0.0"
INGEST_PORT: {{ .Values.ingest.service.port | quote }}
INGEST_WORKERS: {{ .Values.ingest.workers | quote }}
AGGREGATE_HOST: "0.0.0.0"
AGGREGATE_PORT: {{ .Values.aggregate.service.port | quote }}
API_HOST: "0.0.0.0"
API_PORT: {{ .Values.api.service.port | quote }}
TARGETS_FILE: {{ .Values.config.targetsFile | quote }}
{{- with .Values.config.fxRatesFile }}
FX_RATES_FILE: {{ . | quote }}
{{- end }}
PYTHONDONTWRITEBYTECODE: "1"
{{- end -}}
