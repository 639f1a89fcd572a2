{{- define "outbox-worker.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "outbox-worker.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "outbox-worker.labels" -}}
app.kubernetes.io/name: {{ include "outbox-worker.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "outbox-worker.selectorLabels" -}}
app.kubernetes.io/name: {{ include "outbox-worker.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The image of the newest generation listed (migrations ship with the newest code). */}}
{{- define "outbox-worker.image" -}}
{{- $g := last (required "generations is required" .Values.generations) -}}
{{- if $g.digest -}}
{{ .Values.image.repository }}@{{ $g.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ required "each generations[] entry needs version:" $g.version }}
{{- end -}}
{{- end -}}

{{/* DATABASE_URL from the existing secret, and the schema. */}}
{{- define "outbox-worker.databaseEnv" -}}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ required "database.existingSecret is required (a Secret holding DATABASE_URL)" .Values.database.existingSecret }}
      key: {{ .Values.database.secretKey }}
- name: CUTOVER_SCHEMA
  value: {{ .Values.database.schema | quote }}
- name: LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
- name: OUTBOX_ENVIRONMENT
  value: {{ .Values.environment | quote }}
{{- end -}}
