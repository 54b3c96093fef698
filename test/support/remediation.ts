// Waiting for a health check to replace a Machine, as a user watching `kubectl get machines` would.
import type { KubeConfig } from '@kubernetes/client-node';
import { getObject, waitFor } from './operator.js';

const condition = (o: any, type: string) => o?.status?.conditions?.find((c: any) => c.type === type);

/**
 * Waits until the Machine is being remediated and then gone. Returns its HealthCheckSucceeded
 * condition as seen on the way out, or undefined when it went too fast to be seen.
 */
export async function waitRemediated(
  kc: KubeConfig,
  namespace: string,
  name: string,
  timeoutMs: number,
): Promise<any> {
  const seen = await waitFor(
    `Machine ${name} to be remediated`,
    async () => {
      const m = await getObject(kc, 'machines', namespace, name);
      if (!m) return { gone: true };
      return condition(m, 'OwnerRemediated')?.reason === 'Remediating' ? m : undefined;
    },
    { timeoutMs, intervalMs: 250 },
  );
  await waitFor(
    `Machine ${name} to be gone`,
    async () => ((await getObject(kc, 'machines', namespace, name)) ? undefined : true),
    { timeoutMs: 120_000, intervalMs: 500 },
  );
  return 'gone' in seen ? undefined : condition(seen, 'HealthCheckSucceeded');
}
