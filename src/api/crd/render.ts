// The exact text of each file in crds/, so that the generator and the staleness test agree.
import { stringify } from 'yaml';
import { buildAllCRDs } from './build.js';

const HEADER = '# Generated from src/api/v1alpha1 by `make generate`; do not edit.\n';

export function renderCRDFiles(): { file: string; text: string }[] {
  return buildAllCRDs().map(({ file, crd }) => ({
    file,
    text: HEADER + stringify(crd, { lineWidth: 0, aliasDuplicateObjects: false }),
  }));
}
