// The read side the controllers use: the informer caches, behind a narrow interface.
export interface Store<T> {
  get(namespace: string, name: string): T | undefined;
  list(namespace?: string): T[];
}
