// Every publisher there is, in the order they run.
import type { ObjectWriter } from '../kube/writer.js';
import { argoCD } from './argocd.js';
import { fleet } from './fleet.js';
import { flux } from './flux.js';
import { istio } from './istio.js';
import { karmada } from './karmada.js';
import { Registration, type TargetDefinition } from './registration.js';

export const TARGETS: readonly TargetDefinition[] = [argoCD, fleet, karmada, istio, flux];

export function createPublishers(writer: ObjectWriter): Registration[] {
  return TARGETS.map((def) => new Registration(def, writer));
}
