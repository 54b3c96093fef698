// `clusterforge generate cluster NAME`: renders a cluster template (templates/<provider>/) with values
// from flags, then the environment, then the template's own defaults, as `clusterctl generate cluster`.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { parseAllDocuments } from 'yaml';
import { DNS_LABEL, MAX_CLUSTER_NAME } from '../api/v1alpha1/group.js';
import { listVariables, MissingVariablesError, renderTemplate } from '../templates/render.js';
import {
  action,
  CliError,
  ExitCode,
  formatObjects,
  type OutputFormat,
  outputOption,
  packageRoot,
  usageExits,
  wholeNumber,
} from './common.js';
import { PROVIDERS } from './install/manifests.js';

interface GenerateFlags {
  infrastructure?: string;
  flavor?: string;
  kubernetesVersion?: string;
  controlPlaneMachineCount?: number;
  workerMachineCount?: number;
  targetNamespace?: string;
  from?: string;
  listVariables?: boolean;
  output?: OutputFormat;
}

/** The flag that sets each variable, for messages. */
const FLAG_OF: Record<string, string> = {
  CLUSTER_NAME: 'NAME',
  NAMESPACE: '--target-namespace',
  KUBERNETES_VERSION: '--kubernetes-version',
  CONTROL_PLANE_MACHINE_COUNT: '--control-plane-machine-count',
  WORKER_MACHINE_COUNT: '--worker-machine-count',
};

const EXAMPLES = `
Variables come from the flags, then the environment, then the template's defaults (\${VAR:=default});
--list-variables shows them all.

Examples:
  # A local cluster (etcd and kube-apiserver processes on this host), applied at once
  clusterforge generate cluster dev --infrastructure local | kubectl apply -f -

  # Three workers on EC2, written for Git
  clusterforge generate cluster prod --infrastructure aws-ec2 --worker-machine-count 3 > prod.yaml

  # EKS with spot node groups; the IAM roles come from the environment
  EKS_ROLE_ARN=arn:aws:iam::123456789012:role/eks EKS_NODE_ROLE_ARN=arn:aws:iam::123456789012:role/nodes \\
    clusterforge generate cluster batch --infrastructure aws-eks --flavor spot

  # A simulated cluster of 50 workers, each Ready 30 s after it is made (no process, no cloud)
  STARTUP_DELAY_SECONDS=30 clusterforge generate cluster scale --infrastructure inmemory --worker-machine-count 50

  # What a template needs
  clusterforge generate cluster --infrastructure aws-eks --list-variables`;

export function generateCommand(): Command {
  const cluster = new Command('cluster')
    .description('Write the YAML of a cluster from a template, ready for kubectl apply or Git')
    .argument('[name]', 'name of the cluster (a DNS label of at most 40 characters)')
    .addOption(
      new Option('-i, --infrastructure <provider>', 'the provider whose template to use').choices([
        ...PROVIDERS,
      ]),
    )
    .option(
      '-f, --flavor <flavor>',
      "a variant of the provider's template (templates/<provider>/cluster-template-<flavor>.yaml)",
    )
    .option('--kubernetes-version <version>', 'Kubernetes version, e.g. v1.37.2 (KUBERNETES_VERSION)')
    .option(
      '--control-plane-machine-count <n>',
      'control-plane machines: 1, 3, 5 or 7 (CONTROL_PLANE_MACHINE_COUNT)',
      wholeNumber(1),
    )
    .option('--worker-machine-count <n>', 'worker machines (WORKER_MACHINE_COUNT)', wholeNumber(0))
    .option('-n, --target-namespace <ns>', 'namespace of the objects (NAMESPACE)')
    .option('--from <file>', "use this template file instead of the provider's ('-' reads stdin)")
    .option('--list-variables', 'list the variables of the template and where each value comes from')
    .addOption(outputOption(['yaml', 'json'], 'yaml (default, as the template is written) or json'))
    .addHelpText('after', EXAMPLES)
    .action(action('generate cluster', runGenerate));
  const cmd = new Command('generate')
    .description('Write YAML for Clusterforge objects')
    .addCommand(cluster)
    .addHelpText(
      'after',
      '\nExample:\n  clusterforge generate cluster dev --infrastructure local | kubectl apply -f -',
    );
  return usageExits(cmd);
}

export function templatesDir(): URL {
  return new URL('templates/', packageRoot());
}

/** The flavours a provider has: '' for the default template, then the named ones. */
export function flavorsOf(provider: string): string[] {
  const dir = new URL(`${provider}/`, templatesDir());
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((f) => /^cluster-template(?:-(.+))?\.yaml$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => m[1] ?? '')
    .sort();
}

function loadTemplate(flags: GenerateFlags): { text: string; source: string } {
  if (flags.from) {
    if (flags.flavor)
      throw new CliError('--flavor and --from cannot go together', ExitCode.usage, 'pass one of them');
    if (flags.from === '-') return { text: readFileSync(0, 'utf8'), source: 'stdin' };
    if (!existsSync(flags.from))
      throw new CliError(`the template file ${flags.from} does not exist`, ExitCode.usage);
    return { text: readFileSync(flags.from, 'utf8'), source: flags.from };
  }
  if (!flags.infrastructure) {
    throw new CliError(
      'which provider? --infrastructure is required (or --from FILE)',
      ExitCode.usage,
      `add --infrastructure ${PROVIDERS.join('|')}`,
    );
  }
  const flavors = flavorsOf(flags.infrastructure);
  const flavor = flags.flavor ?? '';
  if (!flavors.includes(flavor)) {
    const named = flavors.filter(Boolean);
    throw new CliError(
      `the ${flags.infrastructure} provider has no flavor '${flavor}'`,
      ExitCode.usage,
      named.length
        ? `use one of: ${named.join(', ')} (or no --flavor for the default)`
        : 'it has only the default template: leave out --flavor',
    );
  }
  const file = `${flags.infrastructure}/cluster-template${flavor ? `-${flavor}` : ''}.yaml`;
  return { text: readFileSync(new URL(file, templatesDir()), 'utf8'), source: `templates/${file}` };
}

function flagValues(name: string | undefined, flags: GenerateFlags): Record<string, string | undefined> {
  return {
    CLUSTER_NAME: name,
    NAMESPACE: flags.targetNamespace,
    KUBERNETES_VERSION: flags.kubernetesVersion,
    CONTROL_PLANE_MACHINE_COUNT: flags.controlPlaneMachineCount?.toString(),
    WORKER_MACHINE_COUNT: flags.workerMachineCount?.toString(),
  };
}

function validate(name: string | undefined, flags: GenerateFlags, template: string): void {
  if (name !== undefined && (!new RegExp(DNS_LABEL).test(name) || name.length > MAX_CLUSTER_NAME)) {
    throw new CliError(
      `'${name}' is not a valid cluster name`,
      ExitCode.usage,
      `use lower-case letters, digits and '-', starting with a letter, at most ${MAX_CLUSTER_NAME} characters`,
    );
  }
  if (flags.kubernetesVersion && !/^v1\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$/.test(flags.kubernetesVersion)) {
    throw new CliError(
      `--kubernetes-version '${flags.kubernetesVersion}' is not a Kubernetes release`,
      ExitCode.usage,
      'write it as v1.MINOR.PATCH, e.g. v1.37.2',
    );
  }
  const uses = new Set(listVariables(template).map((v) => v.name));
  const count = flags.controlPlaneMachineCount;
  if (count !== undefined) {
    if (!uses.has('CONTROL_PLANE_MACHINE_COUNT')) {
      process.stderr.write(
        'warning: this template has no control-plane machines (a managed control plane): --control-plane-machine-count is ignored\n',
      );
    } else if (![1, 3, 5, 7].includes(count)) {
      throw new CliError(
        `--control-plane-machine-count ${count}: a self-managed control plane needs 1, 3, 5 or 7 machines`,
        ExitCode.usage,
        'etcd needs an odd number of members to keep a quorum; use 1 (dev) or 3 (production)',
      );
    }
  }
}

async function runGenerate(name: string | undefined, flags: GenerateFlags): Promise<void> {
  const { text, source } = loadTemplate(flags);
  validate(name, flags, text);
  const values = flagValues(name, flags);
  if (flags.listVariables) {
    printVariables(text, source, values, flags.output);
    return;
  }
  if (!name) {
    throw new CliError(
      'the cluster needs a name',
      ExitCode.usage,
      'clusterforge generate cluster NAME --infrastructure ...',
    );
  }
  let rendered: string;
  try {
    rendered = renderTemplate(text, values, process.env);
  } catch (err) {
    if (err instanceof MissingVariablesError) {
      const how = err.missing.map((v) => (FLAG_OF[v] ? `${v} (or ${FLAG_OF[v]})` : v));
      throw new CliError(
        `${source} needs a value for ${err.missing.length > 1 ? 'these variables' : 'the variable'}: ${err.missing.join(', ')}`,
        ExitCode.usage,
        `set ${how.join(', ')} in the environment, e.g.\n${err.missing[0]}=... clusterforge generate cluster ${name} ...\n(--list-variables shows every variable of the template)`,
      );
    }
    throw err;
  }
  const docs = parseAllDocuments(rendered);
  const objects: object[] = [];
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    if (doc.errors.length > 0) {
      throw new CliError(
        `the rendered ${source} is not valid YAML: ${doc.errors[0]?.message}`,
        ExitCode.usage,
        'a value may hold a character YAML gives a meaning to (":", "#", "["); quote it in the template',
      );
    }
    const obj = doc.toJS() as { apiVersion?: string; kind?: string } | null;
    if (obj === null) continue;
    if (typeof obj !== 'object' || !obj.apiVersion || !obj.kind) {
      throw new CliError(`a document of ${source} has no apiVersion or kind`, ExitCode.usage);
    }
    objects.push(obj);
  }
  if (flags.output === 'json') process.stdout.write(formatObjects(objects, 'json'));
  else process.stdout.write(rendered.endsWith('\n') ? rendered : `${rendered}\n`);
}

interface VariableReport {
  name: string;
  required: boolean;
  default?: string;
  /** Where the value would come from now. */
  source: 'flag' | 'environment' | 'default' | 'missing';
  flag?: string;
}

function printVariables(
  template: string,
  source: string,
  values: Record<string, string | undefined>,
  output: OutputFormat | undefined,
): void {
  const report: VariableReport[] = listVariables(template).map((v) => {
    const from: VariableReport['source'] =
      values[v.name] !== undefined
        ? 'flag'
        : process.env[v.name] !== undefined
          ? 'environment'
          : v.default !== undefined
            ? 'default'
            : 'missing';
    return {
      name: v.name,
      required: v.default === undefined,
      ...(v.default !== undefined ? { default: v.default } : {}),
      source: from,
      ...(FLAG_OF[v.name] ? { flag: FLAG_OF[v.name] } : {}),
    };
  });
  if (output) {
    process.stdout.write(formatObjects(report, output));
    return;
  }
  const width = Math.max(...report.map((r) => r.name.length));
  const line = (r: VariableReport) => {
    const where =
      r.source === 'flag'
        ? `set by ${r.flag ?? 'a flag'}`
        : r.source === 'environment'
          ? 'set in the environment'
          : r.source === 'default'
            ? `default ${JSON.stringify(r.default)}${r.flag ? ` (or ${r.flag})` : ''}`
            : `MISSING${r.flag ? ` (set it, or pass ${r.flag})` : ' (set it in the environment)'}`;
    return `  ${r.name.padEnd(width)}  ${where}`;
  };
  const out: string[] = [`Variables of ${source}:`, '', 'Required:'];
  const required = report.filter((r) => r.required);
  out.push(...(required.length ? required.map(line) : ['  (none)']));
  out.push('', 'Optional (with a default in the template):');
  const optional = report.filter((r) => !r.required);
  out.push(...(optional.length ? optional.map(line) : ['  (none)']));
  process.stdout.write(`${out.join('\n')}\n`);
}
