import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/**
 * Where the contract's text is read from: the repository's copy (docs/contract.md) so the tests
 * run in a checkout without ../shared, else the published one beside the repository. The tests
 * derive their expectations from this text, never from the code's own tables: a wrong entry in
 * the code must fail a test, not be copied into its expectation.
 */
export const CONTRACT_PATHS = [
  join(ROOT, "docs", "contract.md"),
  join(ROOT, "..", "shared", "contract", "CONTRACT.md"),
];

export function contractText(): string {
  const path = CONTRACT_PATHS.find((candidate) => existsSync(candidate));
  if (!path) throw new Error(`no contract at ${CONTRACT_PATHS.join(" or ")}`);
  return readFileSync(path, "utf8");
}

export interface ChannelTable {
  /** The channels the contract names, in its order. */
  channels: string[];
  /**
   * Row key → channels allowed. Keys are the contract's: `registerPerson`, `reportCardLoss
   * (temporary)`, `every query`; an input-dependent restriction written in the channel cell
   * (`` (`instant: true` only at COUNTER, BANK_COUNTER) ``) becomes its own key, `replaceCard
   * (instant)`.
   */
  allowed: Map<string, string[]>;
}

/**
 * Parses "## Channels and what each may do": the `Channels:` paragraph and the
 * `| operation | channels allowed |` table. Anything it does not understand throws, so a change
 * of the table's shape stops the tests rather than silently dropping rows.
 */
export function parseChannelTable(markdown: string): ChannelTable {
  const section = /^## Channels and what each may do.*$([\s\S]*?)^## /m.exec(markdown)?.[1];
  if (!section) throw new Error("the contract has no section 'Channels and what each may do'");
  const list = /Channels:([\s\S]*?)\n\n/.exec(section)?.[1];
  if (!list) throw new Error("the contract's channel section has no 'Channels:' list");
  const channels = [...list.matchAll(/`([A-Z0-9_]+)`/g)].map((m) => m[1]!);
  if (new Set(channels).size !== channels.length) throw new Error("a channel is listed twice");

  const channelsIn = (cell: string): string[] => {
    if (cell.trim() === "all") return [...channels];
    const names = cell
      .split(",")
      .map((name) => name.trim())
      .filter(Boolean);
    for (const name of names)
      if (!channels.includes(name)) throw new Error(`'${name}' is not a contract channel`);
    return names;
  };

  const lines = section.split("\n").filter((line) => line.trim().startsWith("|"));
  const [header, separator, ...rows] = lines;
  if (!header || !/^\|\s*operation\s*\|\s*channels allowed\s*\|\s*$/.test(header.trim()))
    throw new Error(`unexpected table header: ${header}`);
  if (!separator || !/^\|[-\s|]+\|$/.test(separator.trim()))
    throw new Error(`unexpected table separator: ${separator}`);

  const allowed = new Map<string, string[]>();
  const add = (key: string, value: string[]) => {
    if (allowed.has(key)) throw new Error(`the table has two rows for ${key}`);
    allowed.set(key, value);
  };
  for (const row of rows) {
    const cells = row.trim().slice(1, -1).split("|");
    if (cells.length !== 2) throw new Error(`unexpected table row: ${row}`);
    const [operationCell, channelCell] = cells.map((cell) => cell.trim()) as [string, string];
    // The base list, then at most one parenthesised restriction on an input flag.
    const restriction = /^(.*?)\s*\(`(\w+): true` only at ([^)]*)\)\s*$/.exec(channelCell);
    if (!restriction && channelCell.includes("("))
      throw new Error(`unexpected restriction in: ${channelCell}`);
    const base = channelsIn(restriction ? restriction[1]! : channelCell);
    for (const operation of operationCell.split(",").map((op) => op.trim())) {
      if (!/^(every query|[a-z]\w*( \([a-z]+\))?)$/.test(operation))
        throw new Error(`unexpected operation cell: ${operation}`);
      add(operation, base);
      if (restriction) add(`${operation} (${restriction[2]!})`, channelsIn(restriction[3]!));
    }
  }
  return { channels, allowed };
}
