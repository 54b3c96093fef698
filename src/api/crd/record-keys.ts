// The key constraints of a z.record(), which the OpenAPI 3.0 JSON Schema that zod writes has no
// place for (propertyNames is newer), kept as CEL rules on the map: a CRD would drop them otherwise.
import { z } from 'zod';
import type { JSONSchema } from './structural.js';

type Rule = { rule: string; message: string };

/** A CEL string literal of `text`: raw, so that a regular expression keeps its backslashes. */
function celString(text: string): string {
  if (text.includes("'"))
    throw new Error(`a record key pattern with a quote cannot be a CEL raw string: ${text}`);
  return `r'${text}'`;
}

/** The CEL rules that say on a map what `keyType` says of each key. */
export function recordKeyRules(keyType: z.ZodType): Rule[] {
  const key = z.toJSONSchema(keyType, { target: 'openapi-3.0', io: 'input' }) as JSONSchema;
  const rules: Rule[] = [];
  const chars = (n: number) => `${n} character${n === 1 ? '' : 's'}`;
  if (typeof key.minLength === 'number') {
    rules.push({
      rule: `self.all(k, k.size() >= ${key.minLength})`,
      message: `every key has at least ${chars(key.minLength)}`,
    });
  }
  if (typeof key.maxLength === 'number') {
    rules.push({
      rule: `self.all(k, k.size() <= ${key.maxLength})`,
      message: `every key has at most ${chars(key.maxLength)}`,
    });
  }
  if (typeof key.pattern === 'string') {
    rules.push({
      rule: `self.all(k, k.matches(${celString(key.pattern)}))`,
      message: `every key matches ${key.pattern}`,
    });
  }
  return rules;
}

type Def = { type: string; keyType?: z.ZodType; innerType?: { _zod: { def: Def } } };

/**
 * The `override` of z.toJSONSchema that puts a record's key rules on the map it becomes. It is called
 * for the wrappers too (.optional(), .default()), whose .meta() would replace the record's own rules,
 * so each level merges them in again, once.
 */
export function keepRecordKeys(ctx: { zodSchema: unknown; jsonSchema: JSONSchema }): void {
  let def = (ctx.zodSchema as { _zod: { def: Def } })._zod.def;
  while (def.type !== 'record' && def.innerType) def = def.innerType._zod.def;
  if (def.type !== 'record' || !def.keyType) return;
  const own = (ctx.jsonSchema['x-kubernetes-validations'] as Rule[] | undefined) ?? [];
  const missing = recordKeyRules(def.keyType).filter((r) => !own.some((o) => o.rule === r.rule));
  if (missing.length > 0) ctx.jsonSchema['x-kubernetes-validations'] = [...missing, ...own];
}
