import { createServer } from "node:net";

/** Below Linux's ephemeral range (32768–60999): no outgoing connection is ever given these. */
const FIRST = 20_000;
const LAST = 32_000;

/**
 * A loopback port with nothing listening on it (free to listen on, or to fail to connect to).
 * Drawn at random below the ephemeral range: a port the system hands out (`listen(0)`) is free
 * again once closed, and the next outgoing connection of any test may take it before the hub
 * listens on it (EADDRINUSE); ports drawn here only meet other draws, rarely.
 */
export async function unusedPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = FIRST + Math.floor(Math.random() * (LAST - FIRST));
    if (await isFree(port)) return port;
  }
  throw new Error(`no free loopback port between ${FIRST} and ${LAST} after 50 draws`);
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}
