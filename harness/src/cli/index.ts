export { EMBEDDED_CARDS_WARNING, watchEmbeddedGrowth } from "./embedded-growth.js";
export { eventsCommand } from "./events-command.js";
export { startEnv } from "./start-env.js";
