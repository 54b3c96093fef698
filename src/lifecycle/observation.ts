// What the Cluster reconciler sees of the world on one reconcile, and the only input of the lifecycle
// machine. The reconciler builds it from its informer cache and the provider's describe calls, then sends it
// as one `{ type: 'OBSERVE', world }` event. Every field is a plain fact about the world as it is now: no
// history, no intent beyond the specs.

export interface ObservedFailure {
  /** A short, CamelCase reason, for example `InsufficientCapacity`. */
  reason: string;
  /** A human-readable message; never a secret. */
  message: string;
  /** The Cluster's `metadata.generation` at which the failure happened. */
  generation: number;
}

export interface Observation {
  /** The Cluster has a `deletionTimestamp`. */
  deleting: boolean;
  /** `spec.paused` is true or the `clusterforge.dev/paused` annotation is set. */
  paused: boolean;
  /** The Cluster's `metadata.generation`. */
  generation: number;
  /** The provider reports the cluster infrastructure ready and the control plane endpoint known. */
  infrastructureReady: boolean;
  /** The control plane has served the API once (sticky, like Cluster API's ControlPlaneInitialized). */
  controlPlaneInitialized: boolean;
  /** Every desired control plane replica is ready and up to date. */
  controlPlaneReady: boolean;
  /**
   * The Kubernetes version the control plane runs: its oldest member, a member being removed included (it
   * serves until it is gone), so an upgrade lasts until its last old member has left. Absent while nothing
   * runs.
   */
  controlPlaneVersion?: string;
  /** `spec.version` of the ControlPlane: the version the whole cluster must reach. */
  desiredVersion: string;
  /** Every pool has `readyReplicas == replicas` and all of them updated. */
  workersReady: boolean;
  /**
   * Every machine of every pool, one being removed included, runs the version and template its pool's spec
   * asks for (true when there is no pool). Pools may lag the control plane within the skew policy, so this
   * is not a comparison with `desiredVersion`. A change of replicas alone never makes it false.
   */
  workersAtDesiredVersion: boolean;
  /**
   * The control plane and every pool have exactly their desired machines: none missing, none extra or being
   * removed, and none still coming up (never Ready yet, whether its Node registered or not). So a scale
   * lasts until its last machine is up or gone.
   */
  replicasMatch: boolean;
  /**
   * Which owned objects no longer exist. Filled on every observation, not only while deleting: before the
   * first object is created all three are true, and the machine reads that as `pending`.
   */
  childrenGone: { workers: boolean; controlPlane: boolean; infrastructure: boolean };
  /**
   * A failure the reconciler wants the cluster to stop on (a provider call returned `failed`). It counts only
   * while its `generation` is the Cluster's current one: a spec change makes it stale.
   */
  failure?: ObservedFailure;
  /**
   * The Cluster no longer carries `clusterforge.dev/finalizer` (another finalizer keeps the object around).
   * Optional: when absent, the machine waits in `deleting.finalizer`, whose task removes the finalizer.
   */
  finalizerRemoved?: boolean;
}

/** The one event of the lifecycle machine. */
export interface ObserveEvent {
  type: 'OBSERVE';
  world: Observation;
}
