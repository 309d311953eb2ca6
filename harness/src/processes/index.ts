export { buildAll, bundle, ENTRIES, REPO_ROOT } from "./bundles.js";
export { NODE_FLAGS, spawnBundle, stopProcess, waitForOk } from "./spawn.js";
