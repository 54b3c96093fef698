// Chooses the provider of a cluster from its spec.infrastructure.
import type { Cluster } from '../api/v1alpha1/index.js';
import type { InfrastructureProvider } from './contract.js';

export type ProviderName = InfrastructureProvider['name'];

export function providerNameOf(cluster: Cluster): ProviderName {
  const infra = cluster.spec.infrastructure;
  if (infra.local) return 'local';
  if (infra.awsEC2) return 'aws-ec2';
  if (infra.awsEKS) return 'aws-eks';
  if (infra.inMemory) return 'inmemory';
  // The CRD's CEL rule makes this unreachable for objects the API server accepted.
  throw new Error(`cluster ${cluster.metadata.name}: spec.infrastructure names no provider`);
}

export class ProviderRegistry {
  private readonly byName = new Map<ProviderName, InfrastructureProvider>();

  constructor(providers: InfrastructureProvider[]) {
    for (const p of providers) this.byName.set(p.name, p);
  }

  /** The cluster's provider, or undefined when this operator was started without it. */
  for(cluster: Cluster): InfrastructureProvider | undefined {
    return this.byName.get(providerNameOf(cluster));
  }

  names(): ProviderName[] {
    return [...this.byName.keys()];
  }
}
