import { z } from "zod";

/** The subgraphs: where each listens by default and the variables that place it. */
export const SUBGRAPHS = {
  persons: { portVariable: "PERSONS_PORT", urlVariable: "PERSONS_URL", defaultPort: 4001 },
  cards: { portVariable: "CARDS_PORT", urlVariable: "CARDS_URL", defaultPort: 4002 },
  passwords: { portVariable: "PASSWORDS_PORT", urlVariable: "PASSWORDS_URL", defaultPort: 4003 },
  "bank-accounts": {
    portVariable: "BANK_ACCOUNTS_PORT",
    urlVariable: "BANK_ACCOUNTS_URL",
    defaultPort: 4004,
  },
  /** The status-change feed: a receiver of the others' events, serving the log (docs/feed.md). */
  feed: { portVariable: "FEED_PORT", urlVariable: "FEED_URL", defaultPort: 4005 },
} as const;

export type SubgraphName = keyof typeof SUBGRAPHS;
export const SUBGRAPH_NAMES = Object.keys(SUBGRAPHS) as SubgraphName[];

/** A port variable's value (0: any free port). */
export const port = z.coerce.number().int().min(0).max(65535);

function parsedUrl(value: string): URL | null {
  try {
    return new URL(value);
  } catch {
    return null;
  }
}

const graphqlUrl = z
  .string()
  .refine((value) => /^https?:$/.test(parsedUrl(value)?.protocol ?? ""), "must be an http(s) URL")
  .refine(
    (value) => parsedUrl(value)?.pathname.endsWith("/graphql") ?? true,
    "must end in /graphql",
  );

/**
 * Where every subgraph's GraphQL endpoint is, read the same way by every process: the gateway
 * calls them, and each subgraph's relay delivers events to their `/events` beside it. `X_URL`
 * when set; otherwise the loopback address on `X_PORT` (or the default port), so one set of
 * variables places the whole hub. A subgraph on port 0 (any free port) has no address others can
 * know unless its URL is given: it is left out, and a process that needs it says so at start.
 * Throws one message naming every bad variable.
 */
export function loadSubgraphUrls(env: NodeJS.ProcessEnv): Partial<Record<SubgraphName, string>> {
  const problems: string[] = [];
  const urls: Partial<Record<SubgraphName, string>> = {};
  for (const name of SUBGRAPH_NAMES) {
    const { portVariable, urlVariable, defaultPort } = SUBGRAPHS[name];
    const given = env[urlVariable];
    if (given) {
      const parsed = graphqlUrl.safeParse(given);
      if (parsed.success) urls[name] = parsed.data;
      else problems.push(`${urlVariable}: ${parsed.error.issues[0]?.message ?? "invalid URL"}`);
      continue;
    }
    const parsedPort = port.safeParse(env[portVariable] ?? defaultPort);
    if (!parsedPort.success) problems.push(`${portVariable}: must be a port number`);
    else if (parsedPort.data !== 0) urls[name] = `http://127.0.0.1:${parsedPort.data}/graphql`;
  }
  if (problems.length > 0) throw new Error(problems.join("; "));
  return urls;
}
