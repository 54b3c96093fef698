// The files in crds/ are what the generator writes from the zod schemas: a stale file fails here.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { keepRecordKeys } from '../../../src/api/crd/record-keys.js';
import { renderCRDFiles } from '../../../src/api/crd/render.js';
import { toStructural } from '../../../src/api/crd/structural.js';

describe('generated CRDs', () => {
  it.each(renderCRDFiles().map((f) => [f.file, f.text]))('crds/%s is up to date', async (file, text) => {
    const onDisk = await readFile(new URL(`../../../crds/${file}`, import.meta.url), 'utf8');
    expect(onDisk, `crds/${file} is stale: run make generate`).toBe(text);
  });

  it('refuses a union, which a structural schema cannot express', () => {
    const union = z.toJSONSchema(z.object({ a: z.union([z.string(), z.number()]) }), {
      target: 'openapi-3.0',
    });
    expect(() => toStructural(union as Record<string, unknown>)).toThrow(/\.a: 'anyOf' cannot be expressed/);
  });

  it('drops additionalProperties beside properties and the safe-integer bounds', () => {
    const schema = toStructural({
      type: 'object',
      additionalProperties: false,
      properties: { n: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } },
    });
    expect(schema).toEqual({ type: 'object', properties: { n: { type: 'integer', minimum: 0 } } });
  });

  it("keeps a record's key constraints as CEL rules, beside the rules of its .meta()", () => {
    const own = { rule: "self.all(k, k != 'x')", message: 'no x' };
    const tags = z
      .record(
        z
          .string()
          .min(1)
          .max(128)
          .regex(/^[a-z]+$/),
        z.string(),
      )
      .optional()
      .meta({ 'x-kubernetes-validations': [own] });
    const schema = z.toJSONSchema(z.object({ tags }), {
      target: 'openapi-3.0',
      io: 'input',
      override: keepRecordKeys,
    }) as unknown as { properties: { tags: Record<string, unknown> } };
    expect(schema.properties.tags['x-kubernetes-validations']).toEqual([
      { rule: 'self.all(k, k.size() >= 1)', message: 'every key has at least 1 character' },
      { rule: 'self.all(k, k.size() <= 128)', message: 'every key has at most 128 characters' },
      { rule: "self.all(k, k.matches(r'^[a-z]+$'))", message: 'every key matches ^[a-z]+$' },
      own,
    ]);
  });
});
