/**
 * Comments on the relay's commands that are not deliveries (MongoDB's `comment` option): its
 * periodic look for work, and reading its statistics. Benchmarks and tests count them apart from
 * what a request costs.
 */
export const POLL = "hub:poll";
export const OBSERVE = "hub:observe";
