// Builds CustomResourceDefinition objects from the zod schemas of src/api/v1alpha1.
import { z } from 'zod';
import { GROUP, type KindInfo, kinds, VERSION } from '../v1alpha1/index.js';
import { keepRecordKeys } from './record-keys.js';
import { type JSONSchema, toStructural, undescribed } from './structural.js';

const CATEGORY = 'clusterforge';

function openAPISchema(info: KindInfo): JSONSchema {
  const { apiVersion: _a, kind: _k, metadata: _m, ...rest } = info.schema.shape;
  const body = z.object(rest);
  const generated = z.toJSONSchema(body, {
    target: 'openapi-3.0',
    io: 'input',
    override: keepRecordKeys,
  }) as JSONSchema;
  const structural = toStructural(generated);
  const properties = structural.properties as Record<string, JSONSchema>;
  const root: JSONSchema = {
    type: 'object',
    description: info.description,
    properties: {
      apiVersion: {
        type: 'string',
        description: 'APIVersion defines the versioned schema of this representation of an object.',
      },
      kind: { type: 'string', description: 'Kind is a string value representing the REST resource.' },
      // The API server allows nothing else here: metadata is validated by the server itself.
      metadata: { type: 'object' },
      ...properties,
    },
    required: ['spec'],
  };
  if (info.rootRules.length > 0) root['x-kubernetes-validations'] = info.rootRules;
  unobservedUntilWritten(root);
  const missing = undescribed(root);
  if (missing.length > 0) {
    throw new Error(
      `${info.kind}: fields without a description (kubectl explain needs one): ${missing.join(', ')}`,
    );
  }
  return root;
}

/**
 * `status: {observedGeneration: 0}` by default, so that an object the operator has not written yet
 * reads as not observed (kstatus: InProgress, "generation is 1, but latest observed generation is 0")
 * instead of Current. The API server applies these defaults whenever it reads the object from
 * etcd, so from the create response on; see docs/gitops/health.md.
 */
function unobservedUntilWritten(root: JSONSchema): void {
  const status = (root.properties as Record<string, JSONSchema>).status;
  const observed = (status?.properties as Record<string, JSONSchema> | undefined)?.observedGeneration;
  if (!status || !observed) return;
  status.default = {};
  observed.default = 0;
}

export function buildCRD(info: KindInfo): JSONSchema {
  const hasStatus = 'status' in info.schema.shape;
  const subresources: JSONSchema = {};
  if (hasStatus) subresources.status = {};
  if (info.scale) subresources.scale = { ...info.scale };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${info.plural}.${GROUP}` },
    spec: {
      group: GROUP,
      scope: 'Namespaced',
      names: {
        kind: info.kind,
        listKind: `${info.kind}List`,
        plural: info.plural,
        singular: info.singular,
        shortNames: info.shortNames,
        categories: [CATEGORY],
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: openAPISchema(info) },
          ...(Object.keys(subresources).length > 0 ? { subresources } : {}),
          additionalPrinterColumns: info.printerColumns,
        },
      ],
    },
  };
}

export function buildAllCRDs(): { file: string; crd: JSONSchema }[] {
  return kinds.map((info) => ({ file: `${GROUP}_${info.plural}.yaml`, crd: buildCRD(info) }));
}
