// A MachineDeployment without its Cluster: the fix is said at once, and Stalled only past the grace
// a GitOps tool needs to apply the Cluster too.
import { describe, expect, it } from 'vitest';
import type { MachineDeployment } from '../../../src/api/v1alpha1/index.js';
import {
  MISSING_CLUSTER_GRACE_MS,
  missingCluster,
} from '../../../src/controllers/machinedeployment/checks.js';

const created = Date.parse('2026-12-03T12:00:00Z');
const pool = {
  metadata: { name: 'workers', namespace: 'team-a', creationTimestamp: '2026-12-03T12:00:00Z' },
  spec: { clusterName: 'web' },
} as MachineDeployment;

describe('missingCluster', () => {
  it('gives the fix at once, and is not stalled within the grace', () => {
    const { stalled, message } = missingCluster(pool, created + MISSING_CLUSTER_GRACE_MS - 1);
    expect(stalled).toBe(false);
    expect(message).toBe(
      'Cluster web does not exist in namespace team-a: create it, or delete this MachineDeployment and create it again with spec.clusterName naming an existing Cluster (clusterName cannot change)',
    );
  });

  it('is stalled from the end of the grace on', () => {
    expect(missingCluster(pool, created + MISSING_CLUSTER_GRACE_MS).stalled).toBe(true);
  });

  it('is never stalled without a creation time to count from', () => {
    const bare = { ...pool, metadata: { ...pool.metadata, creationTimestamp: undefined } };
    expect(missingCluster(bare, created + 10 * MISSING_CLUSTER_GRACE_MS).stalled).toBe(false);
  });
});
