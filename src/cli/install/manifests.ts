// Everything `clusterforge init` installs, as plain objects: the CRDs, the namespace, the operator's
// ServiceAccount and RBAC, the AWS credentials Secret (for the AWS providers), the Deployment, its
// metrics Service, and a ServiceMonitor where the Prometheus Operator's CRD is installed.
// Pure apart from reading crds/; `init --dry-run -o yaml` prints exactly these.
import { readdirSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { Manifest } from '../../kube/manifest.js';
import { CliError, ExitCode } from '../common.js';
import {
  type PodNetworkOptions,
  podNetworkEnv,
  podNetworkSpec,
  podNetworkStrategy,
  podSecurityLevel,
} from './pod-network.js';
import { operatorClusterRules, operatorNamespaceRules, shardRules } from './rbac.js';

export const PROVIDERS = ['local', 'aws-ec2', 'aws-eks', 'inmemory'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

/** A Secret's name (a DNS subdomain, RFC 1123), or empty (the chart's "none"). */
export const SECRET_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)?$/;

/** The operator's LOG_LEVEL values (pino's levels, src/runtime/log.ts). */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const OPERATOR_NAME = 'clusterforge-operator';
export const AWS_CREDENTIALS_SECRET = 'clusterforge-aws-credentials';
export const METRICS_PORT = 8080;
/** The field manager of every object `init` applies (server-side apply). */
export const FIELD_MANAGER = 'clusterforge-init';

/** An object `init` installs, or the same object as the API server has it. */
export type KubeObject = Manifest;

export interface InstallOptions extends PodNetworkOptions {
  namespace: string;
  image: string;
  providers: ProviderName[];
  /** The package version, for labels. */
  version: string;
  /** Where AWS credentials come from (process.env). */
  env: Record<string, string | undefined>;
  /** The folder with the CRD manifests. */
  crdDir: URL;
  /** Operator replicas, each owning a share of the clusters (`--shards`); 1 = one leader-elected replica. */
  shards?: number;
  /** Add a ServiceMonitor (Prometheus Operator) for the metrics Service; its CRD must exist. */
  serviceMonitor?: boolean;
  /** The operator's LOG_LEVEL; unset: the operator's default (info). */
  logLevel?: LogLevel;
  /** An existing Secret with the AWS variables: referenced (required by the pod), never created. */
  awsCredentialsSecret?: string;
  /** The port of /metrics, /healthz and /readyz in the pod (`--metrics-port`); default METRICS_PORT. */
  metricsPort?: number;
}

/** Required for the AWS providers; the others are copied when set. */
const AWS_REQUIRED = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const;
const AWS_OPTIONAL = ['AWS_SESSION_TOKEN', 'AWS_REGION', 'AWS_ENDPOINT_URL'] as const;

export function parseProviders(text: string): ProviderName[] {
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0) throw new CliError('--infrastructure names no provider', ExitCode.usage);
  for (const name of names) {
    if (!(PROVIDERS as readonly string[]).includes(name)) {
      throw new CliError(
        `unknown infrastructure provider '${name}'`,
        ExitCode.usage,
        `use one or more of ${PROVIDERS.join(', ')} (comma-separated)`,
      );
    }
  }
  return [...new Set(names)] as ProviderName[];
}

const labels = (version: string): Record<string, string> => ({
  'app.kubernetes.io/name': 'clusterforge',
  'app.kubernetes.io/part-of': 'clusterforge',
  'app.kubernetes.io/managed-by': FIELD_MANAGER,
  'app.kubernetes.io/version': version,
});

const selectorLabels = {
  'app.kubernetes.io/name': 'clusterforge',
  'app.kubernetes.io/component': 'operator',
};

/** The checked-in CRDs, in file-name order. */
export function loadCRDs(crdDir: URL): KubeObject[] {
  return readdirSync(crdDir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => parse(readFileSync(new URL(f, crdDir), 'utf8')) as KubeObject);
}

/** The AWS credentials Secret's data, or a usage error naming the first missing variable. */
export function awsCredentials(env: Record<string, string | undefined>): Record<string, string> {
  const data: Record<string, string> = {};
  for (const name of AWS_REQUIRED) {
    const value = env[name];
    if (!value) {
      throw new CliError(
        `the AWS providers need credentials, and ${name} is not set`,
        ExitCode.usage,
        `export ${AWS_REQUIRED.join(', ')} (and AWS_SESSION_TOKEN, AWS_REGION when you use them), or leave out aws-ec2 and aws-eks from --infrastructure`,
      );
    }
    data[name] = value;
  }
  for (const name of AWS_OPTIONAL) {
    const value = env[name];
    if (value) data[name] = value;
  }
  return data;
}

/** Only the AWS providers read the credentials Secret; local and inmemory reach no cloud. */
export function needsAwsCredentials(provider: ProviderName): boolean {
  return provider === 'aws-ec2' || provider === 'aws-eks';
}

export function installObjects(opts: InstallOptions): KubeObject[] {
  const ns = opts.namespace;
  const common = labels(opts.version);
  const aws = opts.providers.some(needsAwsCredentials);
  const objects: KubeObject[] = [...loadCRDs(opts.crdDir)];

  objects.push({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: ns,
      labels: {
        ...common,
        // The operator's pod meets the restricted Pod Security Standard (unless on the host network);
        // nothing else should run here.
        'pod-security.kubernetes.io/enforce': podSecurityLevel(opts),
      },
    },
  });
  objects.push({
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: OPERATOR_NAME, namespace: ns, labels: common },
  });
  objects.push({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: OPERATOR_NAME, labels: common },
    rules: operatorClusterRules,
  });
  objects.push({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: OPERATOR_NAME, labels: common },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: OPERATOR_NAME },
    subjects: [{ kind: 'ServiceAccount', name: OPERATOR_NAME, namespace: ns }],
  });
  objects.push({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: `${OPERATOR_NAME}-leader-election`, namespace: ns, labels: common },
    rules: (opts.shards ?? 1) > 1 ? [...operatorNamespaceRules, ...shardRules] : operatorNamespaceRules,
  });
  objects.push({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: `${OPERATOR_NAME}-leader-election`, namespace: ns, labels: common },
    roleRef: {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'Role',
      name: `${OPERATOR_NAME}-leader-election`,
    },
    subjects: [{ kind: 'ServiceAccount', name: OPERATOR_NAME, namespace: ns }],
  });
  if (aws && !opts.awsCredentialsSecret) {
    const data = awsCredentials(opts.env);
    objects.push({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: AWS_CREDENTIALS_SECRET, namespace: ns, labels: common },
      type: 'Opaque',
      // `data`, not `stringData`: stringData is write-only, so a second apply would always differ.
      data: Object.fromEntries(
        Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'utf8').toString('base64')]),
      ),
    });
  }
  objects.push(operatorDeployment(opts, common));
  objects.push(metricsService(opts, common));
  if (opts.serviceMonitor) objects.push(serviceMonitor(opts, common));
  return objects;
}

/**
 * /metrics of every replica behind one Service. Named like the Deployment, so that a ServiceMonitor's
 * scrape job is `clusterforge-operator`, the job the alert rules of docs/observability/ expect.
 */
function metricsService(opts: InstallOptions, common: Record<string, string>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: OPERATOR_NAME, namespace: opts.namespace, labels: { ...common, ...selectorLabels } },
    spec: {
      selector: selectorLabels,
      ports: [{ name: 'metrics', port: METRICS_PORT, targetPort: 'metrics', protocol: 'TCP' }],
    },
  };
}

/** Tells a Prometheus Operator to scrape that Service; only applied where its CRD is installed. */
function serviceMonitor(opts: InstallOptions, common: Record<string, string>): KubeObject {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'ServiceMonitor',
    metadata: { name: OPERATOR_NAME, namespace: opts.namespace, labels: common },
    spec: {
      selector: { matchLabels: selectorLabels },
      namespaceSelector: { matchNames: [opts.namespace] },
      endpoints: [{ port: 'metrics', path: '/metrics', interval: '30s' }],
    },
  };
}

function operatorDeployment(opts: InstallOptions, common: Record<string, string>): KubeObject {
  const podLabels = { ...common, ...selectorLabels };
  const port = opts.metricsPort ?? METRICS_PORT;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: OPERATOR_NAME,
      namespace: opts.namespace,
      labels: podLabels,
      annotations: { 'clusterforge.dev/providers': opts.providers.join(',') },
    },
    spec: {
      // One leader-elected replica, or one per shard (each claims its share through shard Leases).
      replicas: opts.shards ?? 1,
      selector: { matchLabels: selectorLabels },
      ...podNetworkStrategy(opts),
      template: {
        metadata: { labels: podLabels },
        spec: {
          serviceAccountName: OPERATOR_NAME,
          ...podNetworkSpec(opts),
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 65532,
            runAsGroup: 65532,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: 'operator',
              image: opts.image,
              args: [
                'operator',
                '--leader-elect',
                `--leader-election-namespace=${opts.namespace}`,
                `--metrics-bind-address=0.0.0.0:${port}`,
                ...((opts.shards ?? 1) > 1 ? [`--shards=${opts.shards}`] : []),
              ],
              ports: [{ name: 'metrics', containerPort: port, protocol: 'TCP' }],
              env: [
                // The local provider keeps its state under XDG_STATE_HOME; the root filesystem is read-only.
                { name: 'XDG_STATE_HOME', value: '/var/lib/clusterforge' },
                ...(opts.logLevel ? [{ name: 'LOG_LEVEL', value: opts.logLevel }] : []),
                ...podNetworkEnv(opts),
              ],
              // AWS credentials when `init --infrastructure aws-...` created the Secret; optional otherwise.
              // A Secret named by --aws-credentials-secret is required: the pod waits for it, visibly.
              envFrom: [
                {
                  secretRef: opts.awsCredentialsSecret
                    ? { name: opts.awsCredentialsSecret, optional: false }
                    : { name: AWS_CREDENTIALS_SECRET, optional: true },
                },
              ],
              livenessProbe: {
                httpGet: { path: '/healthz', port: 'metrics' },
                initialDelaySeconds: 10,
                periodSeconds: 20,
              },
              readinessProbe: {
                httpGet: { path: '/readyz', port: 'metrics' },
                initialDelaySeconds: 5,
                periodSeconds: 10,
              },
              resources: {
                requests: { cpu: '100m', memory: '128Mi' },
                limits: { memory: '512Mi' },
              },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
                capabilities: { drop: ['ALL'] },
              },
              volumeMounts: [
                { name: 'tmp', mountPath: '/tmp' },
                { name: 'state', mountPath: '/var/lib/clusterforge' },
              ],
            },
          ],
          volumes: [
            { name: 'tmp', emptyDir: {} },
            { name: 'state', emptyDir: {} },
          ],
        },
      },
    },
  };
}
