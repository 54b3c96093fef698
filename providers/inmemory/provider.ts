// The `inmemory` infrastructure provider: clusters and machines simulated inside the operator, as
// Cluster API's provider of that name. Nothing is created outside the management cluster, and no
// workload API answers: for scale tests, demos of the API and trying GitOps layouts, never workloads.
// - Infrastructure: an endpoint that never resolves (names.ts), allocated at once.
// - A machine: a provider ID, a node name and an address, Ready `startupDelaySeconds` after it was
//   created (startup.ts). The control plane is "self-managed": its machines go through the
//   ControlPlane controller as the local provider's do.
// - The kubeconfig: a real client certificate from the cluster's CA, cached per cluster (credentials.ts).
// Everything is derived from the objects themselves, so a restarted operator carries on unchanged.
import type { Cluster } from '../../src/api/v1alpha1/index.js';
import { loadCertificate } from '../../src/pki/index.js';
import type * as contract from '../../src/provider/contract.js';
import { done, failed, inProgress, type Progress } from '../../src/provider/contract.js';
import { AdminCredentials } from './credentials.js';
import { inMemoryAddress, inMemoryEndpoint, inMemoryProviderID } from './names.js';
import { startupRemainingMs } from './startup.js';

export class InMemoryProvider implements contract.InfrastructureProvider {
  readonly name = 'inmemory' as const;
  readonly selfManagedControlPlane = true;
  readonly servesWorkloadAPI = false;
  /** Public for tests: how many clusters hold a cached certificate. */
  readonly credentials = new AdminCredentials();

  providerIDFor(cluster: Cluster, machineName: string): string {
    return inMemoryProviderID(cluster.metadata.namespace ?? 'default', machineName);
  }

  async ensureInfrastructure(ctx: contract.ClusterContext): Promise<contract.InfrastructureStatus> {
    if (!ctx.cluster.spec.infrastructure.inMemory) {
      return { progress: failed('NotInMemory', 'spec.infrastructure.inMemory is not set on this Cluster') };
    }
    const { namespace, name } = ctx.cluster.metadata;
    return { progress: done(), endpoint: inMemoryEndpoint(namespace ?? 'default', name as string) };
  }

  async deleteInfrastructure(ctx: contract.ClusterContext): Promise<Progress> {
    if (ctx.cluster.metadata.uid) this.credentials.forget(ctx.cluster.metadata.uid);
    return done();
  }

  async ensureMachine(ctx: contract.MachineContext): Promise<contract.MachineStatusReport> {
    const namespace = ctx.machine.metadata.namespace ?? 'default';
    const name = ctx.machine.metadata.name as string;
    const report = (progress: Progress, ready: boolean): contract.MachineStatusReport => ({
      progress,
      providerID: inMemoryProviderID(namespace, name),
      addresses: [
        { type: 'InternalIP', address: inMemoryAddress(namespace, name) },
        { type: 'Hostname', address: name },
      ],
      ready,
      // The simulated Node exists once the machine is Ready, as a kubelet's would register then.
      ...(ready ? { nodeName: name } : {}),
    });
    const spec = ctx.template.spec.template.spec.inMemory;
    if (!spec) {
      return report(
        failed(
          'TemplateNotInMemory',
          `MachineTemplate ${ctx.template.metadata.name} has no spec.template.spec.inMemory`,
        ),
        false,
      );
    }
    const delaySeconds = spec.startupDelaySeconds ?? 0;
    const remaining = startupRemainingMs(ctx.machine.metadata.creationTimestamp, delaySeconds);
    if (remaining > 0) {
      return report(
        inProgress(`starting: Ready ${delaySeconds}s after creation (startupDelaySeconds)`, remaining),
        false,
      );
    }
    return report(done(), true);
  }

  async deleteMachine(): Promise<Progress> {
    return done();
  }

  async kubeconfig(ctx: contract.ClusterContext): Promise<contract.KubeconfigMaterial> {
    const { namespace, name, uid } = ctx.cluster.metadata;
    if (!ctx.certificates) throw new Error(`cluster ${namespace}/${name}: no certificates yet`);
    const endpoint = inMemoryEndpoint(namespace ?? 'default', name as string);
    const admin = await this.credentials.get(uid ?? `${namespace}/${name}`, ctx.certificates.ca);
    const cert = loadCertificate(admin.cert);
    return {
      server: `https://${endpoint.host}:${endpoint.port}`,
      caData: ctx.certificates.ca.cert,
      clientCertData: admin.cert,
      clientKeyData: admin.key,
      // From the certificate, not the call: a cached one was issued earlier than now.
      issuedAt: cert.notBefore,
      expiresAt: cert.notAfter,
    };
  }
}
