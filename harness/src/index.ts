export {
  startInProcessHub,
  SUBGRAPH_STARTERS,
  type InProcessHub,
  type InProcessHubOptions,
} from "./in-process-hub.js";
export { unusedPort } from "./ports.js";
export {
  addDemoPasswords,
  buildDemoData,
  DEMO_CARD_PASSWORD,
  DEMO_ELECTRONIC_PASSWORD,
  sandboxExamples,
  type DemoData,
} from "./demo/demo-data.js";
export { seedDemoData } from "./demo/seed-demo.js";
