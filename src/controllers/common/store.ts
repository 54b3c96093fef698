// The read side the controllers use: the informer caches, behind a narrow interface. Objects are the
// cache's own and frozen: copy one (structuredClone) before changing it.
export interface Store<T> {
  get(namespace: string, name: string): T | undefined;
  list(namespace?: string): T[];
  /** The objects of `namespace` whose index `index` (see indexes.ts) holds `value`, ordered by name. */
  byIndex(index: string, namespace: string, value: string): T[];
}
