// A whole Kubernetes object as we build it to write (server-side apply) or to print: the objects
// `clusterforge init` installs and the registrations the publishers write.

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    /** Set on an object read back from the API server; never on one we build. */
    resourceVersion?: string;
  };
  [field: string]: unknown;
}
