// Where the dev environment lives, relative to the working directory (git-ignored).
export const DEFAULT_DEV_DIR = '.clusterforge/dev';
