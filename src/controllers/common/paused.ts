// Whether a controller should leave an object alone for now.
import { PAUSED_ANNOTATION } from '../../api/v1alpha1/labels.js';

/** Paused by `spec.paused` or by the annotation, as in Cluster API. */
export function isPaused(obj: {
  metadata: { annotations?: Record<string, string> };
  spec?: { paused?: boolean };
}): boolean {
  return obj.spec?.paused === true || obj.metadata.annotations?.[PAUSED_ANNOTATION] !== undefined;
}
