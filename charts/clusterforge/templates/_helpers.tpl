{{- /* The labels init puts on everything it makes (src/cli/install/manifests.ts), managed-by Helm. */ -}}
{{- define "clusterforge.labels" -}}
app.kubernetes.io/name: clusterforge
app.kubernetes.io/part-of: clusterforge
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}

{{- define "clusterforge.selectorLabels" -}}
app.kubernetes.io/name: clusterforge
app.kubernetes.io/component: operator
{{- end }}

{{- define "clusterforge.shards" -}}
{{- int .Values.shards }}
{{- end }}

{{- /* "true" when an AWS provider is enabled: only those read the credentials Secret. */ -}}
{{- define "clusterforge.aws" -}}
{{- if or (has "aws-ec2" .Values.providers) (has "aws-eks" .Values.providers) }}true{{ end }}
{{- end }}
