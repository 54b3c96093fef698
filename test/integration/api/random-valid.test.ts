// Property: every random VALID set of objects (Cluster, ControlPlane, MachineTemplates,
// MachineDeployment) of every provider is accepted by the real API server. The rules must refuse
// only what cannot work; a refusal here is a rule too strict, or a generator that strays. fast-check
// shrinks a refused cluster to a smallest one and prints the seed and path that replay it
// (RANDOM_SPECS_SEED=<seed>).
import { KubernetesObjectApi } from '@kubernetes/client-node';
import fc from 'fast-check';
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
  it(`${CLUSTERS} clusters of random providers are accepted whole`, async () => {
    let objects = 0;
    let cluster = 0;
    const providers = new Set<string>();
    await fc.assert(
      fc.asyncProperty(fc.gen(), fc.constantFrom(...PROVIDERS), async (g, provider) => {
        providers.add(provider);
        const name = `s${cluster++}`;
        for (const obj of randomCluster(new Random(g), provider, name)) {
          objects++;
          const message = await refusal(() => client.create(withNamespace(obj)));
          if (message)
            throw new Error(`${provider} cluster ${name} refused: ${message}\n${JSON.stringify(obj)}`);
        }
      }),
      { numRuns: CLUSTERS, seed: SEED },
    );
    expect(objects).toBeGreaterThanOrEqual(CLUSTERS * 4);
    expect([...providers].sort()).toEqual([...PROVIDERS].sort());
  }, 300_000);
});
