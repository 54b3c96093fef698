// Whether a controller should leave an object alone for now.
import { PAUSED_ANNOTATION } from '../../api/v1alpha1/labels.js';

/** Paused by `spec.paused` or by the annotation, as in Cluster API. */
export function isPaused(obj: {
  metadata: { annotations?: Record<string, string> };
  spec?: { paused?: boolean };
}): boolean {
  return obj.spec?.paused === true || obj.metadata.annotations?.[PAUSED_ANNOTATION] !== undefined;
}

/** What a user runs to unpause a cluster (or another object of ours), as said where the pause blocks. */
export function unpauseCommand(obj: {
  kind?: string;
  metadata: { name?: string; namespace?: string; annotations?: Record<string, string> };
  spec?: { paused?: boolean };
}): string {
  const target = `-n ${obj.metadata.namespace ?? 'default'} ${(obj.kind ?? 'Cluster').toLowerCase()}.clusterforge.dev/${obj.metadata.name}`;
  const commands: string[] = [];
  if (obj.metadata.annotations?.[PAUSED_ANNOTATION] !== undefined)
    commands.push(`kubectl annotate ${target} ${PAUSED_ANNOTATION}-`);
  if (obj.spec?.paused === true)
    commands.push(`kubectl patch ${target} --type=merge -p '{"spec":{"paused":false}}'`);
  return commands.join(' && ');
}
