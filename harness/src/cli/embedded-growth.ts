/**
 * Cards the embedded database holds before `npm start` says it is outgrowing it: measured, the
 * hub's mutations ran at 62/s fresh, 21/s at ~700 new cards and 12/s at ~1,300
 * (docs/embedded-database.md).
 */
export const EMBEDDED_CARDS_WARNING = 3_000;

/**
 * Counts the embedded database's cards every `everyMs` and calls `warn` once when they pass
 * `limit`: it is a demo engine, and every write slows as it fills.
 */
export function watchEmbeddedGrowth(options: {
  countCards: () => Promise<number>;
  warn: (cards: number) => void;
  limit?: number;
  everyMs?: number;
}): { stop(): void } {
  const limit = options.limit ?? EMBEDDED_CARDS_WARNING;
  let warned = false;
  const timer = setInterval(() => {
    options
      .countCards()
      .then((count) => {
        if (warned || count <= limit) return;
        warned = true;
        clearInterval(timer);
        options.warn(count);
      })
      .catch(() => undefined);
  }, options.everyMs ?? 30_000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
