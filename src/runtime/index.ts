// The controller runtime's public face: what controllers, providers and the CLI import.
export {
  Controller,
  type ControllerOptions,
  type MapFunc,
  type MappedWatch,
  mapByLabel,
  mapToOwner,
  type Reconciler,
  type Result,
} from './controller.js';
export {
  isConflict,
  isGone,
  isNotFound,
  isTerminalError,
  isTransientError,
  KubeApiError,
  TerminalError,
  TransientError,
} from './errors.js';
export { EventRecorder, type EventRecorderOptions, type EventType, type ObjectReference } from './events.js';
export {
  Informer,
  type InformerHandler,
  type InformerOptions,
  type InformerSpec,
  type ListFilter,
} from './informer.js';
export { type LeaderElectionOptions, LeaderElector, microTime } from './leader-election.js';
export type { InformerStats } from './list-watch.js';
export { createLogger, REDACT_PATHS, silentLogger } from './log.js';
export { type LeaderElectionConfig, Manager, type ManagerOptions } from './manager.js';
export { defaultMetrics, instrumentedApiClient, observeProviderCall, RuntimeMetrics } from './metrics.js';
export { formatKey, type KubeObject, keyOf, type ObjectKey, parseKey } from './object-key.js';
export { KubeClient, type KubeRequest, kubeVerb, resourcePath, type WatchEvent } from './transport.js';
export { WorkQueue, type WorkQueueOptions } from './workqueue.js';
