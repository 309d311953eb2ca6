export { buildPasswordsSchema } from "./schema.js";
export { startPasswordsSubgraph } from "./subgraph.js";
export { hashPassword } from "./crypto/password-hash.js";
export { passwordsEnv } from "./initial-password.js";
