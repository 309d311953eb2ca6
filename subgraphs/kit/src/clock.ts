/**
 * Every time-derived rule (validity, renewal, overdue activation, lock expiry) reads the time
 * through one injectable clock so tests can move it.
 */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();
