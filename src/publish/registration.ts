// The work every publisher shares. A target says what it writes (render) and with which identity;
// this turns that into a Publisher:
// - the registration is rewritten, with a freshly minted token, when an object is missing, when
//   anything but the credential changed (a digest of the rendered objects without their
//   credential, kept in an annotation), or when the token has lived two thirds of its life;
//   otherwise nothing is written, so an idle cluster costs one GET per object;
// - objects are written with server-side apply, so fields others add are left alone;
// - an object of the same name that was not written for this cluster is never touched;
// - what the publisher wrote is found again by its labels, wherever it is, for removal.
import { createHash } from 'node:crypto';
import type { Cluster } from '../api/v1alpha1/index.js';
import { EXPIRES_AT_ANNOTATION, ISSUED_AT_ANNOTATION } from '../api/v1alpha1/labels.js';
import { PUBLISH_TARGETS, type PublishTargetInfo } from '../api/v1alpha1/publish.js';
import { apiMessage } from '../kube/errors.js';
import type { Manifest } from '../kube/manifest.js';
import { apiVersionOf } from '../kube/resources.js';
import type { ObjectWriter } from '../kube/writer.js';
import { isNotFound } from '../runtime/errors.js';
import {
  CLUSTER_NAME_LABEL,
  CLUSTER_NAMESPACE_LABEL,
  type ConsumerRole,
  type Credential,
  conditionTypeOf,
  INPUTS_ANNOTATION,
  type KindRef,
  PUBLISHER_LABEL,
  type Publisher,
  type PublishMaterial,
  type PublishOutcome,
  type PublishTarget,
  publisherIdOf,
  type TokenSource,
} from './publisher.js';

/** An object as a target renders it; the labels and annotations of ownership are added here. */
export type RenderedObject = Manifest;

/** What a target's render is given. */
export interface RenderInputs {
  cluster: Cluster;
  /** The name the cluster is registered under (`spec.publish.<target>.name`, or the Cluster's). */
  name: string;
  /** The namespace of the management cluster the registration goes to. */
  namespace: string;
  server: string;
  caPEM: string;
  /** A managed cluster's cloud identity (EKS), when the provider gave one. */
  managed?: PublishMaterial['managed'];
  /** The Cluster's labels chosen in `spec.publish.<target>.labels`. */
  copiedLabels: Record<string, string>;
}

/**
 * One target. Its tool's name and default namespace come from the API's PUBLISH_TARGETS (defineTarget),
 * its condition type and publisher label from `target` (conditionTypeOf, publisherIdOf). A kind it
 * writes outside the core group is a CRD of the tool's, which the management cluster must serve
 * before anything is written (else the publisher reports so and waits).
 */
export interface TargetDefinition extends PublishTargetInfo {
  target: PublishTarget;
  consumer: ConsumerRole;
  /**
   * When the tool can reach this cluster with a cloud identity of its own (Argo CD's awsAuthConfig,
   * Flux's configMapRef for EKS), how, for the condition; then no token is minted for it.
   */
  ownIdentity?(inputs: RenderInputs): string | undefined;
  /** Every kind the target writes, in the order to write them; removal goes the other way. */
  kinds: KindRef[];
  render(inputs: RenderInputs, credential: Credential): RenderedObject[];
}

/** A target's definition, with what the API says of its tool. */
export function defineTarget(
  target: PublishTarget,
  def: Omit<TargetDefinition, 'target' | keyof PublishTargetInfo>,
): TargetDefinition {
  return { target, ...PUBLISH_TARGETS[target], ...def };
}

const CREDENTIAL_PLACEHOLDER: Credential = {
  token: '',
  issuedAt: new Date(0),
  expiresAt: new Date(0),
};

/** A registration that holds no token is still rewritten this often, to repair what was changed by hand. */
const OWN_IDENTITY_RECHECK_MS = 24 * 60 * 60_000;

/** How long to wait before trying a failed publication again, by how likely waiting is to help. */
const RETRY_SOON_MS = 15_000;
const RETRY_LATER_MS = 60_000;

const describeObject = (o: { kind?: string; metadata?: { namespace?: string; name?: string } }): string =>
  `${o.kind} ${o.metadata?.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata?.name}`;

/** `a=b,c=d` for a labelSelector query. */
export function ownershipSelector(cluster: Cluster, id: string): string {
  return [
    `${CLUSTER_NAME_LABEL}=${cluster.metadata.name}`,
    `${CLUSTER_NAMESPACE_LABEL}=${cluster.metadata.namespace}`,
    `${PUBLISHER_LABEL}=${id}`,
  ].join(',');
}

/** The Cluster's labels named in `keys`, those it has. */
export function copiedLabels(cluster: Cluster, keys: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of keys ?? []) {
    const value = cluster.metadata.labels?.[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/** The moment a credential is due for re-issue: `refreshAfter` of the way from issue to expiry. */
export function refreshTime(issuedAt: Date, expiresAt: Date, refreshAfter: number): Date {
  return new Date(issuedAt.getTime() + (expiresAt.getTime() - issuedAt.getTime()) * refreshAfter);
}

/** The objects of a target with the labels and annotations that say whose they are and what they hold. */
export function finish(
  def: TargetDefinition,
  inputs: RenderInputs,
  credential: Credential,
  digest: string,
): RenderedObject[] {
  return def.render(inputs, credential).map((o) => ({
    ...o,
    metadata: {
      ...o.metadata,
      labels: {
        ...inputs.copiedLabels,
        ...o.metadata.labels,
        [CLUSTER_NAME_LABEL]: inputs.cluster.metadata.name!,
        [CLUSTER_NAMESPACE_LABEL]: inputs.cluster.metadata.namespace!,
        [PUBLISHER_LABEL]: publisherIdOf(def.target),
      },
      annotations: {
        ...o.metadata.annotations,
        [ISSUED_AT_ANNOTATION]: credential.issuedAt.toISOString(),
        [EXPIRES_AT_ANNOTATION]: credential.expiresAt.toISOString(),
        [INPUTS_ANNOTATION]: digest,
      },
    },
  }));
}

/** A digest of what the target would write, the credential left out. */
export function inputsDigest(def: TargetDefinition, inputs: RenderInputs): string {
  const objects = finish(def, inputs, CREDENTIAL_PLACEHOLDER, '');
  return `sha256:${createHash('sha256').update(JSON.stringify(objects)).digest('hex').slice(0, 40)}`;
}

/** An object as the API server has it. */
type Existing = Manifest;

export class Registration implements Publisher {
  readonly target: PublishTarget;
  readonly conditionType: string;
  /** The value of the publisher label on what this target writes. */
  private readonly id: string;

  constructor(
    readonly def: TargetDefinition,
    private readonly writer: ObjectWriter,
  ) {
    this.target = def.target;
    this.conditionType = conditionTypeOf(def.target);
    this.id = publisherIdOf(def.target);
  }

  inputs(cluster: Cluster, material: Pick<PublishMaterial, 'server' | 'caPEM' | 'managed'>): RenderInputs {
    const settings = cluster.spec.publish?.[this.target] ?? {};
    return {
      cluster,
      name: settings.name ?? cluster.metadata.name!,
      namespace: settings.namespace ?? this.def.defaultNamespace ?? cluster.metadata.namespace!,
      server: material.server,
      caPEM: material.caPEM,
      ...(material.managed ? { managed: material.managed } : {}),
      copiedLabels: copiedLabels(cluster, settings.labels),
    };
  }

  /** Whether this target mints workload-cluster tokens for this cluster (not when it brings its own identity). */
  mintsTokens(cluster: Cluster, material: Pick<PublishMaterial, 'server' | 'caPEM' | 'managed'>): boolean {
    return this.def.ownIdentity?.(this.inputs(cluster, material)) === undefined;
  }

  async ensure(cluster: Cluster, material: PublishMaterial): Promise<PublishOutcome> {
    const { def } = this;
    try {
      for (const crd of def.kinds.filter((k) => k.group !== '')) {
        if (await this.writer.serves(crd)) continue;
        return {
          state: 'failed',
          reason: 'CRDNotInstalled',
          message: `${def.tool} is not installed in the management cluster: the CRD ${crd.plural}.${crd.group} (${crd.group}/${crd.version}) is missing`,
          retryAfterMs: RETRY_LATER_MS,
        };
      }
      const inputs = this.inputs(cluster, material);
      const digest = inputsDigest(def, inputs);
      const planned = finish(def, inputs, CREDENTIAL_PLACEHOLDER, digest);
      const existing: (Existing | undefined)[] = [];
      for (const o of planned) {
        const found = await this.writer.get<Existing>(
          this.resourceOf(o),
          o.metadata.namespace,
          o.metadata.name,
        );
        if (found && !this.owns(found, cluster)) {
          return {
            state: 'failed',
            reason: 'NameTaken',
            message: `${describeObject(o)} exists and was not written for this cluster; delete it, or choose another name in spec.publish.${this.target}.name`,
            retryAfterMs: RETRY_LATER_MS,
          };
        }
        existing.push(found);
      }
      const own = def.ownIdentity?.(inputs);
      const current = this.currentCredential(existing, digest);
      if (current && material.now < refreshTime(current.issuedAt, current.expiresAt, material.refreshAfter)) {
        return this.published(planned, current, material, false, own);
      }
      let credential: Credential;
      try {
        credential = own
          ? {
              token: '',
              issuedAt: material.now,
              expiresAt: new Date(material.now.getTime() + OWN_IDENTITY_RECHECK_MS / material.refreshAfter),
            }
          : await material.tokens.issue(def.consumer);
      } catch (err) {
        return {
          state: 'failed',
          reason: 'TokenRequestFailed',
          message: `could not mint a token for ServiceAccount clusterforge-consumers/${def.consumer.serviceAccount} in the workload cluster: ${apiMessage(err)}`,
          retryAfterMs: RETRY_SOON_MS,
        };
      }
      const objects = finish(def, inputs, credential, digest);
      for (const o of objects) {
        try {
          await this.writer.apply(this.resourceOf(o), o);
        } catch (err) {
          if (isNotFound(err) && o.metadata.namespace) {
            return {
              state: 'failed',
              reason: 'NamespaceNotFound',
              message: `the namespace ${o.metadata.namespace} does not exist in the management cluster (is ${def.tool} installed? set spec.publish.${this.target}.namespace otherwise)`,
              retryAfterMs: RETRY_LATER_MS,
            };
          }
          throw err;
        }
      }
      await this.removeStale(cluster, objects);
      return this.published(objects, credential, material, true, own);
    } catch (err) {
      return {
        state: 'failed',
        reason: 'PublishFailed',
        message: apiMessage(err),
        retryAfterMs: RETRY_SOON_MS,
      };
    }
  }

  async remove(cluster: Cluster, tokens?: TokenSource): Promise<PublishOutcome> {
    try {
      const removed = await this.removeStale(cluster, []);
      if (tokens) await tokens.revoke(this.def.consumer);
      return { state: 'withdrawn', removed };
    } catch (err) {
      return {
        state: 'failed',
        reason: 'WithdrawFailed',
        message: `could not remove the ${this.def.tool} registration: ${apiMessage(err)}`,
        retryAfterMs: RETRY_SOON_MS,
      };
    }
  }

  /** Deletes what this publisher wrote for the cluster and is not in `keep`; returns what it deleted. */
  private async removeStale(cluster: Cluster, keep: RenderedObject[]): Promise<string[]> {
    const kept = new Set(keep.map(describeObject));
    const removed: string[] = [];
    for (const resource of [...this.def.kinds].reverse()) {
      let found: Existing[];
      try {
        found = await this.writer.list<Existing>(resource, {
          labelSelector: ownershipSelector(cluster, this.id),
        });
      } catch (err) {
        if (isNotFound(err)) continue; // the CRD is not installed: nothing of this kind exists
        throw err;
      }
      for (const o of found) {
        const what = describeObject({ ...o, kind: resource.kind });
        if (kept.has(what)) continue;
        if (await this.writer.deleteObject(resource, o.metadata.namespace, o.metadata.name))
          removed.push(what);
      }
    }
    return removed;
  }

  private owns(o: Existing, cluster: Cluster): boolean {
    const labels = o.metadata.labels ?? {};
    return (
      labels[CLUSTER_NAME_LABEL] === cluster.metadata.name &&
      labels[CLUSTER_NAMESPACE_LABEL] === cluster.metadata.namespace &&
      labels[PUBLISHER_LABEL] === this.id
    );
  }

  /** The credential every object holds, when all exist, are current and agree; otherwise undefined. */
  private currentCredential(existing: (Existing | undefined)[], digest: string): Credential | undefined {
    let credential: Credential | undefined;
    for (const o of existing) {
      const a = o?.metadata.annotations;
      if (!a || a[INPUTS_ANNOTATION] !== digest) return undefined;
      const issuedAt = Date.parse(a[ISSUED_AT_ANNOTATION] ?? '');
      const expiresAt = Date.parse(a[EXPIRES_AT_ANNOTATION] ?? '');
      if (Number.isNaN(issuedAt) || Number.isNaN(expiresAt)) return undefined;
      if (credential && credential.issuedAt.getTime() !== issuedAt) return undefined;
      credential = { token: '', issuedAt: new Date(issuedAt), expiresAt: new Date(expiresAt) };
    }
    return credential;
  }

  private published(
    objects: RenderedObject[],
    credential: Credential,
    material: PublishMaterial,
    wrote: boolean,
    own: string | undefined,
  ): PublishOutcome {
    const how = own
      ? `no token: ${own}`
      : `token of ServiceAccount clusterforge-consumers/${this.def.consumer.serviceAccount} (${this.def.consumer.access}) in the workload cluster, valid until ${credential.expiresAt.toISOString()}`;
    return {
      state: 'published',
      objects: objects.map(describeObject),
      message: `${objects.map(describeObject).join(', ')}; ${how}`,
      refreshAt: refreshTime(credential.issuedAt, credential.expiresAt, material.refreshAfter),
      expiresAt: credential.expiresAt,
      wrote,
    };
  }

  private resourceOf(o: RenderedObject): KindRef {
    const kind = this.def.kinds.find((k) => k.kind === o.kind && apiVersionOf(k) === o.apiVersion);
    if (!kind) throw new Error(`${this.def.tool}: ${o.apiVersion} ${o.kind} is not one of its kinds`);
    return kind;
  }
}
