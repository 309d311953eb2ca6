export { buildPasswordsSchema } from "./schema.js";
export { startPasswordsSubgraph, PASSWORDS_DEFAULT_PORT } from "./subgraph.js";
export { hashPassword } from "./crypto/password-hash.js";
