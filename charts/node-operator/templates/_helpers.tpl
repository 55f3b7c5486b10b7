{{- define "kok.name" -}}{{ .Chart.Name }}{{- end -}}
{{- define "kok.fullname" -}}{{ printf "%s" .Release.Name | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- define "kok.labels" -}}
app.kubernetes.io/name: {{ include "kok.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}
{{- define "kok.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kok.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
{{- /* The operator's pods alone: the node-agent DaemonSet's pods carry kok.selectorLabels too, with component node-agent. */ -}}
{{- define "kok.operatorSelectorLabels" -}}
{{ include "kok.selectorLabels" . }}
app.kubernetes.io/component: operator
{{- end -}}
{{- define "kok.operatorLabels" -}}
{{ include "kok.labels" . }}
app.kubernetes.io/component: operator
{{- end -}}
{{- define "kok.image" -}}{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}{{ with .Values.image.digest }}@{{ . }}{{ end }}{{- end -}}
{{- define "kok.securityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}
