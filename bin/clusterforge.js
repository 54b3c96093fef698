#!/usr/bin/env node
// The installed command: runs the compiled CLI (npm run build writes dist/).
import('../dist/src/cli/main.js').catch((err) => {
  if (err?.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/src/cli/main.js')) {
    console.error('clusterforge: not built yet; run `npm run build` (or `make build`) first');
    process.exit(1);
  }
  throw err;
});
