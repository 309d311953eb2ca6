/**
 * `@hub/kit/tracing`: OpenTelemetry for every hub process. Apart from the kit's main entry so a
 * process's bootstrap can start tracing without loading what tracing instruments.
 */
export * from "./start.js";
export * from "./state.js";
export * from "./events.js";
export * from "./spanning.js";
export * from "./context-metric.js";
