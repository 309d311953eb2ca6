export * from "./test-mongo.js";
export * from "./events.js";
