// Property: every random VALID set of objects (Cluster, ControlPlane, MachineTemplates,
// MachineDeployment) of every provider is accepted by the real API server. The rules must refuse
// only what cannot work; a refusal here is a rule too strict, or a generator that strays (the seed
// and the object are printed to replay it: RANDOM_SPECS_SEED=<seed>).
import { KubernetesObjectApi } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { installCRDs } from '../../support/crds.js';
import { testKubeConfig, useTestNamespace } from '../../support/kube.js';
import { inNamespace, refusal } from './objects.js';
import { PROVIDERS, Random, randomCluster } from './random-specs.js';

const kc = testKubeConfig();
const client = KubernetesObjectApi.makeApiClient(kc);
const namespace = useTestNamespace('random-valid');
const { withNamespace } = inNamespace(client, namespace);

const SEED = Number(process.env.RANDOM_SPECS_SEED ?? 20261203);
const CLUSTERS = 200;

beforeAll(async () => {
  await installCRDs(kc);
});

describe(`random valid specs (seed ${SEED})`, () => {
  it(`${CLUSTERS} clusters, ${CLUSTERS / PROVIDERS.length} of each provider, are accepted whole`, async () => {
    const r = new Random(SEED);
    const refused: string[] = [];
    let objects = 0;
    for (let i = 0; i < CLUSTERS; i++) {
      const provider = PROVIDERS[i % PROVIDERS.length]!;
      for (const obj of randomCluster(r, provider, `s${i}`)) {
        objects++;
        const message = await refusal(() => client.create(withNamespace(obj)));
        if (message)
          refused.push(`seed ${SEED}, cluster ${i} (${provider}): ${message}\n${JSON.stringify(obj)}`);
      }
    }
    expect(refused.slice(0, 5).join('\n\n'), `${refused.length} of ${objects} objects refused`).toBe('');
    expect(objects).toBeGreaterThanOrEqual(CLUSTERS * 4);
  }, 300_000);
});
