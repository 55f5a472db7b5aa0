{{- define "messenger-operator.fullname" -}}
{{- if contains .Chart.Name .Release.Name }}{{ .Release.Name | trunc 63 | trimSuffix "-" }}{{ else }}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}{{ end }}
{{- end }}

{{- define "messenger-operator.labels" -}}
app.kubernetes.io/name: messenger-operator
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{- define "messenger-operator.selector" -}}
app.kubernetes.io/name: messenger-operator
app.kubernetes.io/instance: {{ .Release.Name }}
control-plane: controller-manager
{{- end }}

{{- define "messenger-operator.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{- /* claimBindings as the manager's --claim-bindings value: ID=ns1;ns2,ID2=ns3 (IDs sorted). */ -}}
{{- define "messenger-operator.claimBindings" -}}
{{- $pairs := list -}}
{{- range $id, $namespaces := .Values.claimBindings -}}
{{- $pairs = append $pairs (printf "%s=%s" $id (join ";" $namespaces)) -}}
{{- end -}}
{{- join "," $pairs -}}
{{- end }}

{{- /* The Secret holding the token the ServiceMonitor scrapes with (and its ServiceAccount's name). */ -}}
{{- define "messenger-operator.scraperSecret" -}}
{{- if .Values.serviceMonitor.authorization.createToken -}}
{{ include "messenger-operator.fullname" . }}-metrics-scraper
{{- else -}}
{{ required "serviceMonitor.authorization.secretName is required without createToken" .Values.serviceMonitor.authorization.secretName }}
{{- end -}}
{{- end }}
