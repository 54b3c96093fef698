// Turns the JSON Schema that zod writes into a structural schema the API server accepts.
// See https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#specifying-a-structural-schema

export type JSONSchema = { [key: string]: unknown };

/** Keys zod may write that a CRD schema does not allow or does not need. */
const DROPPED_KEYS = new Set(['$schema', 'id', 'examples']);

/** Returns a structural copy of `schema`; `path` names the node in errors. */
export function toStructural(schema: JSONSchema, path = ''): JSONSchema {
  for (const forbidden of ['$ref', 'anyOf', 'oneOf', 'allOf', 'not']) {
    if (forbidden in schema) {
      throw new Error(
        `${path || '<root>'}: '${forbidden}' cannot be expressed in a CRD; use optional sibling objects with a CEL rule`,
      );
    }
  }
  const out: JSONSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (DROPPED_KEYS.has(key)) continue;
    switch (key) {
      case 'const':
        out.enum = [value];
        break;
      case 'maximum':
        if (value !== Number.MAX_SAFE_INTEGER) out.maximum = value;
        break;
      case 'minimum':
        if (value !== Number.MIN_SAFE_INTEGER) out.minimum = value;
        break;
      case 'properties': {
        const props: JSONSchema = {};
        for (const [name, child] of Object.entries(value as Record<string, JSONSchema>)) {
          props[name] = toStructural(child, `${path}.${name}`);
        }
        out.properties = props;
        break;
      }
      case 'items':
        out.items = toStructural(value as JSONSchema, `${path}[]`);
        break;
      case 'additionalProperties':
        // Structural schemas forbid additionalProperties beside properties; `false` is the default.
        if (typeof value === 'object' && value !== null && !('properties' in schema)) {
          const child = value as JSONSchema;
          // A map of anything (z.unknown()) has no type: keep the field but let it hold any value.
          out.additionalProperties =
            Object.keys(child).length === 0
              ? { 'x-kubernetes-preserve-unknown-fields': true }
              : toStructural(child, `${path}{}`);
        }
        break;
      default:
        out[key] = value;
    }
  }
  if (out['x-kubernetes-preserve-unknown-fields'] === true) {
    delete out.additionalProperties;
    out.type ??= 'object';
  }
  if (!('type' in out)) {
    throw new Error(`${path || '<root>'}: every node of a structural schema needs a type`);
  }
  return out;
}

/** Lists the property paths below `schema` that have no description (kubectl explain shows them bare). */
export function undescribed(schema: JSONSchema, path = ''): string[] {
  const missing: string[] = [];
  const props = schema.properties as Record<string, JSONSchema> | undefined;
  for (const [name, child] of Object.entries(props ?? {})) {
    const childPath = `${path}.${name}`;
    if (childPath === '.metadata') continue; // the API server forbids a description there
    if (typeof child.description !== 'string' || child.description.length === 0) missing.push(childPath);
    missing.push(...undescribed(child, childPath));
  }
  const items = schema.items as JSONSchema | undefined;
  if (items) missing.push(...undescribed(items, `${path}[]`));
  return missing;
}
