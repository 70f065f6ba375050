// First import of the CLI: on Node 22.1 and later, lets V8 cache the compiled
// code of piplock and commander between runs (in Node's default directory,
// os.tmpdir()/node-compile-cache, or $NODE_COMPILE_CACHE), which shortens the
// start-up every build action pays. NODE_DISABLE_COMPILE_CACHE=1 turns it off.
const mod = require('node:module') as { enableCompileCache?: () => unknown };
mod.enableCompileCache?.();
