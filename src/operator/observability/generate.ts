// Writes what docs/observability/ derives from the code: the Grafana dashboard (dashboard.ts) and the
// PrometheusRule, which wraps the plain rules file clusterforge.rules.yaml (the one written by hand).
// Never edit the two outputs by hand.
//
//   npx tsx src/operator/observability/generate.ts           rewrite them
//   npx tsx src/operator/observability/generate.ts --check   exit 1 when one is stale
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parse, stringify } from 'yaml';
import { dashboard } from './dashboard.js';

const DIR = fileURLToPath(new URL('../../../docs/observability/', import.meta.url));
export const RULES_FILE = `${DIR}clusterforge.rules.yaml`;
const DASHBOARD_FILE = `${DIR}clusterforge-dashboard.json`;
const PROMETHEUS_RULE_FILE = `${DIR}prometheusrule.yaml`;

/** The rules file's groups as a PrometheusRule (monitoring.coreos.com/v1) for the Prometheus Operator. */
export function prometheusRule(rulesYaml: string): string {
  const { groups } = parse(rulesYaml) as { groups: unknown[] };
  const rule = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: {
      name: 'clusterforge',
      namespace: 'clusterforge-system',
      labels: { 'app.kubernetes.io/name': 'clusterforge', 'app.kubernetes.io/part-of': 'clusterforge' },
    },
    spec: { groups },
  };
  return `# Generated from clusterforge.rules.yaml by src/operator/observability/generate.ts: edit that file.\n${stringify(rule, { lineWidth: 0 })}`;
}

/** Each generated file and the text it must hold. */
export function outputs(): Record<string, string> {
  return {
    [DASHBOARD_FILE]: `${JSON.stringify(dashboard(), null, 2)}\n`,
    [PROMETHEUS_RULE_FILE]: prometheusRule(readFileSync(RULES_FILE, 'utf8')),
  };
}

function main(argv: string[]): number {
  let stale = 0;
  for (const [file, text] of Object.entries(outputs())) {
    const name = file.slice(file.indexOf('docs/'));
    if (argv.includes('--check')) {
      let current = '';
      try {
        current = readFileSync(file, 'utf8');
      } catch {
        // missing counts as stale
      }
      if (current === text) continue;
      process.stderr.write(`${name} is stale: run npx tsx src/operator/observability/generate.ts\n`);
      stale = 1;
    } else {
      writeFileSync(file, text);
      process.stdout.write(`wrote ${name}\n`);
    }
  }
  return stale;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = main(process.argv.slice(2));
}
