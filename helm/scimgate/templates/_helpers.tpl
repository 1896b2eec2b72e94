{{/*
Names, labels and the pieces every part's pod shares. The parts are "authz", "scim" and "sync";
the migration Job is the component "migrate".
*/}}

{{- define "scimgate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The prefix of every object name; short enough for "-authz"/"-migrate" to fit in 63. */}}
{{- define "scimgate.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "scimgate.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels of every object: pass (dict "root" $ "component" "authz"). */}}
{{- define "scimgate.labels" -}}
helm.sh/chart: {{ include "scimgate.chart" .root }}
{{ include "scimgate.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: scimgate
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels: stable across upgrades (a Deployment's selector cannot change). */}}
{{- define "scimgate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "scimgate.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- if .component }}
app.kubernetes.io/component: {{ .component }}
{{- end }}
{{- end -}}

{{- define "scimgate.image" -}}
{{- $image := .Values.image -}}
{{- if $image.digest -}}
{{- printf "%s@%s" $image.repository $image.digest -}}
{{- else -}}
{{- printf "%s:%s" $image.repository (default .Chart.AppVersion $image.tag) -}}
{{- end -}}
{{- end -}}

{{- define "scimgate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "scimgate.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The migration Job's account: one that exists before the chart's objects do. */}}
{{- define "scimgate.migrationServiceAccountName" -}}
{{- if .Values.migration.serviceAccountName -}}
{{- .Values.migration.serviceAccountName -}}
{{- else if and (not .Values.serviceAccount.create) .Values.serviceAccount.name -}}
{{- .Values.serviceAccount.name -}}
{{- else -}}
default
{{- end -}}
{{- end -}}

{{- define "scimgate.secretName" -}}
{{- default (printf "%s-secrets" (include "scimgate.fullname" .)) .Values.secrets.existingSecret -}}
{{- end -}}

{{/* The public URL: config.oauth.issuer, else the first Ingress host. Empty when neither. */}}
{{- define "scimgate.issuer" -}}
{{- if .Values.config.oauth.issuer -}}
{{- .Values.config.oauth.issuer -}}
{{- else if and .Values.ingress.enabled .Values.ingress.hosts -}}
{{- printf "%s://%s" (ternary "https" "http" (gt (len .Values.ingress.tls) 0)) (first .Values.ingress.hosts) -}}
{{- end -}}
{{- end -}}

{{/*
The secret keys there are: database-url, token-hash-key and key-encryption-key always; redis-url
and operator-token when given (inline) or listed in existingSecretOptionalKeys.
*/}}
{{- define "scimgate.secretKeysPresent" -}}
{{- $s := .Values.secrets -}}
{{- $keys := list "database-url" "token-hash-key" "key-encryption-key" -}}
{{- if $s.existingSecret -}}
{{- range $s.existingSecretOptionalKeys }}{{ $keys = append $keys . }}{{ end -}}
{{- else -}}
{{- if $s.redisUrl }}{{ $keys = append $keys "redis-url" }}{{ end -}}
{{- if $s.operatorToken }}{{ $keys = append $keys "operator-token" }}{{ end -}}
{{- end -}}
{{- toJson $keys -}}
{{- end -}}

{{/*
The keys a component mounts: only what it reads. Every process builds the token hasher, so each
needs token-hash-key (scimgate migrate too); the SCIM part never unseals anything, so it gets no
key-encryption key; only authz serves the admin API.
Pass (dict "root" $ "component" "authz"); returns a JSON list.
*/}}
{{- define "scimgate.secretKeysFor" -}}
{{- $wants := dict
    "authz" (list "database-url" "redis-url" "token-hash-key" "key-encryption-key" "operator-token")
    "scim" (list "database-url" "redis-url" "token-hash-key")
    "sync" (list "database-url" "redis-url" "token-hash-key" "key-encryption-key")
    "migrate" (list "database-url" "token-hash-key") -}}
{{- $present := include "scimgate.secretKeysPresent" .root | fromJsonArray -}}
{{- $keys := list -}}
{{- range (get $wants .component) }}{{ if has . $present }}{{ $keys = append $keys . }}{{ end }}{{ end -}}
{{- toJson $keys -}}
{{- end -}}

{{/* The setting each secret file carries. */}}
{{- define "scimgate.secretEnvName" -}}
{{- get (dict
    "database-url" "SCIMGATE__DATABASE__URL_FILE"
    "redis-url" "SCIMGATE__REDIS__URL_FILE"
    "token-hash-key" "SCIMGATE__SECURITY__TOKEN_HASH_KEY_FILE"
    "key-encryption-key" "SCIMGATE__SECURITY__KEY_ENCRYPTION_KEY_FILE"
    "operator-token" "SCIMGATE__ADMIN__OPERATOR_TOKEN_FILE") . -}}
{{- end -}}

{{/* env entries pointing at the secret files of a component: (dict "root" $ "component" ...). */}}
{{- define "scimgate.secretEnv" -}}
{{- range (include "scimgate.secretKeysFor" . | fromJsonArray) }}
- name: {{ include "scimgate.secretEnvName" . }}
  value: /etc/scimgate/secrets/{{ . }}
{{- end }}
{{- end -}}

{{/* The secret volume of a component: only its keys, readable by the pod's group. */}}
{{- define "scimgate.secretVolume" -}}
- name: secrets
  secret:
    secretName: {{ include "scimgate.secretName" .root }}
    defaultMode: 0440
    items:
      {{- range (include "scimgate.secretKeysFor" . | fromJsonArray) }}
      - key: {{ . }}
        path: {{ . }}
      {{- end }}
{{- end -}}

{{- define "scimgate.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.podSecurityContext.runAsUser }}
runAsGroup: {{ .Values.podSecurityContext.runAsGroup }}
fsGroup: {{ .Values.podSecurityContext.fsGroup }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "scimgate.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.podSecurityContext.runAsUser }}
runAsGroup: {{ .Values.podSecurityContext.runAsGroup }}
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* The ConfigMap's data: the non-secret settings as SCIMGATE__SECTION__KEY. */}}
{{- define "scimgate.configData" -}}
SCIMGATE__HTTP__ADDRESS: "0.0.0.0:8080"
{{- range $section, $keys := .Values.config }}
{{- range $key, $value := $keys }}
{{- /* Values arrive as float64: 1048576 would print as 1.048576e+06. */ -}}
{{- $v := $value }}
{{- if kindIs "float64" $v }}{{ $v = int64 $v }}{{ end }}
{{- if and (not (kindIs "invalid" $v)) (ne (toString $v) "") (not (and (eq $section "oauth") (eq $key "issuer"))) }}
{{ printf "SCIMGATE__%s__%s" (upper $section) (upper $key) }}: {{ toString $v | quote }}
{{- end }}
{{- end }}
{{- end }}
{{- with include "scimgate.issuer" . }}
SCIMGATE__OAUTH__ISSUER: {{ . | quote }}
{{- end }}
{{- if .Values.httpTls.enabled }}
SCIMGATE__HTTP__TLS_CERT_FILE: /etc/scimgate/tls/tls.crt
SCIMGATE__HTTP__TLS_KEY_FILE: /etc/scimgate/tls/tls.key
{{- end }}
{{- end -}}

{{- define "scimgate.scheme" -}}
{{- ternary "HTTPS" "HTTP" .Values.httpTls.enabled -}}
{{- end -}}

{{/* Egress every scimgate process needs: (dict "np" networkPolicy "hasRedis" bool "root" $). */}}
{{- define "scimgate.commonEgress" -}}
{{- $e := .np.egress -}}
{{- if $e.dns.enabled }}
- ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
  {{- with $e.dns.to }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
{{- if $e.postgres.enabled }}
- ports:
    - port: {{ $e.postgres.port }}
      protocol: TCP
  {{- with $e.postgres.to }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
{{- if and $e.redis.enabled .hasRedis }}
- ports:
    - port: {{ $e.redis.port }}
      protocol: TCP
  {{- with $e.redis.to }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
{{- if and $e.otlp.enabled .root.Values.config.telemetry.otlp_endpoint }}
- ports:
    {{- range $e.otlp.ports }}
    - port: {{ . }}
      protocol: TCP
    {{- end }}
  {{- with $e.otlp.to }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
{{- end -}}
