export * from "./test-mongo.js";
export * from "./events.js";
export * from "./majority-reads.js";
export * from "./refusal.js";
