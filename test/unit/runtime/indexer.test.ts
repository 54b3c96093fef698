import { describe, expect, it } from 'vitest';
import { IndexedStore, NAMESPACE_INDEX, namespacedValue } from '../../../src/runtime/indexer.js';

interface Obj {
  metadata: { namespace?: string; name: string; labels?: Record<string, string> };
  spec?: { cluster?: string };
}
const obj = (namespace: string, name: string, cluster?: string): Obj => ({
  metadata: { namespace, name },
  ...(cluster ? { spec: { cluster } } : {}),
});

function store(): IndexedStore<Obj> {
  const s = new IndexedStore<Obj>();
  s.addIndex('cluster', (o) =>
    o.spec?.cluster ? [namespacedValue(o.metadata.namespace, o.spec.cluster)] : [],
  );
  return s;
}

describe('IndexedStore', () => {
  it('finds objects by index and by namespace, ordered by key', () => {
    const s = store();
    s.set('a/m2', obj('a', 'm2', 'c1'));
    s.set('a/m1', obj('a', 'm1', 'c1'));
    s.set('a/m3', obj('a', 'm3', 'c2'));
    s.set('b/m1', obj('b', 'm1', 'c1'));
    expect(s.byIndex('cluster', 'a/c1').map((o) => o.metadata.name)).toEqual(['m1', 'm2']);
    expect(s.byIndex('cluster', 'b/c1')).toHaveLength(1);
    expect(s.byIndex(NAMESPACE_INDEX, 'a')).toHaveLength(3);
    expect(s.keys()).toEqual(['a/m1', 'a/m2', 'a/m3', 'b/m1']);
  });

  it('moves an object between index values on update and drops it on delete', () => {
    const s = store();
    s.set('a/m1', obj('a', 'm1', 'c1'));
    s.set('a/m1', obj('a', 'm1', 'c2'));
    expect(s.byIndex('cluster', 'a/c1')).toEqual([]);
    expect(s.byIndex('cluster', 'a/c2')).toHaveLength(1);
    s.delete('a/m1');
    expect(s.byIndex('cluster', 'a/c2')).toEqual([]);
    expect(s.keys()).toEqual([]);
  });

  it('hands out the stored object itself, frozen to the leaves', () => {
    const s = store();
    const o = obj('a', 'm1', 'c1');
    s.set('a/m1', o);
    const got = s.get('a/m1')!;
    expect(got).toBe(o);
    expect(Object.isFrozen(got.metadata)).toBe(true);
    expect(() => {
      (got.spec as { cluster: string }).cluster = 'other';
    }).toThrow(TypeError);
  });

  it('indexes what is stored already when an index is added, and rebuilds every index on replace', () => {
    const s = new IndexedStore<Obj>();
    s.set('a/m1', obj('a', 'm1', 'c1'));
    s.addIndex('cluster', (o) => (o.spec?.cluster ? [o.spec.cluster] : []));
    expect(s.byIndex('cluster', 'c1')).toHaveLength(1);
    s.replace(new Map([['a/m2', obj('a', 'm2', 'c2')]]));
    expect(s.byIndex('cluster', 'c1')).toEqual([]);
    expect(s.byIndex('cluster', 'c2')).toHaveLength(1);
    expect(() => s.addIndex('cluster', () => [])).toThrow(/exists/);
  });
});
