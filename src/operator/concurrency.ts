// The operator's controllers by name, and how many reconciles each runs at once. A file of its own so
// that the CLI can name them in --help without loading the controllers.
export const CONTROLLER_NAMES = ['cluster', 'controlplane', 'machinedeployment', 'machine'] as const;
export type ControllerName = (typeof CONTROLLER_NAMES)[number];

/**
 * Concurrent reconciles (of different objects) per controller. Reconciles wait mostly on the API server
 * and providers, not on this process's CPU, so more than a few keep a thousand-cluster queue moving.
 */
export const DEFAULT_CONCURRENCY = 10;
