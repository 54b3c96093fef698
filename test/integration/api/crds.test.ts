// The CRDs install into a real API server, and kubectl shows what a person expects of them.
import { readdir, readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { renderTemplate } from '../../../src/templates/render.js';
import { installCRDs } from '../../support/crds.js';
import { kubectl, testKubeConfig, useTestNamespace } from '../../support/kube.js';

const namespace = useTestNamespace('api-crds');
const templatesDir = new URL('../../../templates/', import.meta.url);

/** Values for the variables that have no default in any template. */
const required = {
  EKS_ROLE_ARN: 'arn:aws:iam::123456789012:role/eks-control-plane',
  EKS_NODE_ROLE_ARN: 'arn:aws:iam::123456789012:role/eks-nodes',
};

beforeAll(async () => {
  await installCRDs(testKubeConfig());
});

async function ok(args: string[], input?: string): Promise<string> {
  const result = await kubectl(args, input === undefined ? undefined : { input });
  expect(result.stderr, `kubectl ${args.join(' ')}`).toBe('');
  expect(result.code).toBe(0);
  return result.stdout;
}

describe('the CRDs as kubectl shows them', () => {
  it('kubectl explain shows the field descriptions', async () => {
    const out = await ok(['explain', 'clusters.clusterforge.dev.spec.infrastructure']);
    expect(out).toContain('exactly one of local, awsEC2, awsEKS or inMemory');
    const cp = await ok(['explain', 'controlplanes.spec.replicas']);
    expect(cp).toContain('odd (1, 3, 5, 7)');
  });

  it('kubectl get clusterforge lists every kind by category, with printer columns', async () => {
    const manifest = renderTemplate(
      await readFile(new URL('local/cluster-template.yaml', templatesDir), 'utf8'),
      {
        CLUSTER_NAME: 'listed',
        NAMESPACE: namespace(),
      },
    );
    await ok(['apply', '-f', '-'], manifest);
    const out = await ok(['get', 'clusterforge', '-n', namespace()]);
    for (const name of [
      'cluster.clusterforge.dev/listed',
      'controlplane.clusterforge.dev/listed-control-plane',
      'machinetemplate.clusterforge.dev/listed-local',
      'machinedeployment.clusterforge.dev/listed-workers',
    ]) {
      expect(out).toContain(name);
    }
    const cp = await ok(['get', 'cfcp', '-n', namespace()]);
    expect(cp.split('\n')[0]).toMatch(/NAME\s+VERSION\s+REPLICAS\s+READY\s+UPDATED\s+INITIALIZED\s+AGE/);
  });

  it('kubectl scale works on ControlPlane and MachineDeployment', async () => {
    const manifest = renderTemplate(
      await readFile(new URL('local/cluster-template.yaml', templatesDir), 'utf8'),
      {
        CLUSTER_NAME: 'scaled',
        NAMESPACE: namespace(),
      },
    );
    await ok(['apply', '-f', '-'], manifest);
    await ok(['scale', '-n', namespace(), 'controlplane/scaled-control-plane', '--replicas=3']);
    await ok(['scale', '-n', namespace(), 'machinedeployment/scaled-workers', '--replicas=5']);
    const cp = await ok([
      'get',
      '-n',
      namespace(),
      'cfcp/scaled-control-plane',
      '-o',
      'jsonpath={.spec.replicas}',
    ]);
    const md = await ok(['get', '-n', namespace(), 'cfmd/scaled-workers', '-o', 'jsonpath={.spec.replicas}']);
    expect([cp, md]).toEqual(['3', '5']);
    // The scale subresource applies the same rules as the object: an even control plane is refused.
    const even = await kubectl([
      'scale',
      '-n',
      namespace(),
      'controlplane/scaled-control-plane',
      '--replicas=4',
    ]);
    expect(even.code).not.toBe(0);
    expect(even.stderr).toContain('odd number of replicas');
  });
});

describe('every template in templates/', async () => {
  const files: string[] = [];
  for (const provider of await readdir(templatesDir)) {
    for (const file of await readdir(new URL(`${provider}/`, templatesDir))) {
      if (file.endsWith('.yaml')) files.push(`${provider}/${file}`);
    }
  }

  it('there is one per provider at least (flavours besides)', () => {
    expect([...new Set(files.map((f) => f.split('/')[0]))].sort()).toEqual([
      'aws-ec2',
      'aws-eks',
      'inmemory',
      'local',
    ]);
  });

  it.each(files)('%s renders with its defaults and is stored as written', async (file) => {
    const name = file.split('/')[0]!.replace(/[^a-z0-9]/g, '');
    const text = renderTemplate(await readFile(new URL(file, templatesDir), 'utf8'), {
      ...required,
      CLUSTER_NAME: `t-${name}`,
      NAMESPACE: namespace(),
    });
    const docs = parseAllDocuments(text).map((d) => d.toJS());
    await ok(['apply', '-f', '-'], text);
    for (const doc of docs) {
      const out = await ok([
        'get',
        '-n',
        namespace(),
        `${doc.kind}.clusterforge.dev/${doc.metadata.name}`,
        '-o',
        'json',
      ]);
      const stored = JSON.parse(out);
      expect(stored.spec).toMatchObject(doc.spec);
    }
  });
});
