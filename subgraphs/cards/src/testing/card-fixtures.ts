import {
  injectFault,
  InjectedCrash,
  type Caller,
  type Channel,
  type FaultPoint,
  type MongoClient,
} from "@hub/kit";
import type { CommandStartedEvent, Document } from "mongodb";
import { expect } from "vitest";
import { buildCardsParts } from "../subgraph.js";
import type { CommandMeta } from "../commands/command-meta.js";

/** Tests only: helpers the cards tests share (a fresh database each, as the server wires it). */

export const at = new Date("2026-11-25T09:00:00Z");

/** A fresh database wired as the server wires it; `draws` are the card numbers drawn, in turn. */
export async function freshCards(client: MongoClient, name: string, draws?: readonly string[]) {
  const db = client.db(`${name}_${Math.random().toString(36).slice(2, 10)}`);
  let next = 0;
  const parts = await buildCardsParts(
    db,
    draws ? { drawNumber: () => draws[next++ % draws.length]! } : {},
  );
  await parts.outbox.ensureIndexes();
  return { db, ...parts };
}

export function metaFor(
  operation: string,
  options: { channel?: Channel; key?: string; now?: Date } = {},
): CommandMeta {
  const caller: Caller = {
    sub: "op-1",
    channel: options.channel ?? "COUNTER",
    scopes: new Set(["cards:write"]),
  };
  return {
    caller,
    now: options.now ?? at,
    operation,
    input: { operation },
    effects: null,
    idempotencyKey: options.key ?? null,
  };
}

export const issuePlan = (personId: string, province = "44") => ({
  personId,
  province,
  issuingBank: "ICBC",
  issuedAt: at,
});

/**
 * The process "stops" at `point` the next time it gets there (once): the code after it never
 * runs, as in a crash. Returns the unhook, for a test that ends before the point is reached.
 */
export function crashOnceAt(point: FaultPoint): () => void {
  let crashed = false;
  const unhook = injectFault(point, () => {
    if (crashed) return;
    crashed = true;
    unhook();
    throw new InjectedCrash(point);
  });
  return unhook;
}

/**
 * p_1 and p_2 registered in a fresh database, and p_1's issue whose process stopped right after
 * its claim (the card only in the claim): the parts, and that claim.
 */
export async function issueStoppedAfterClaim(
  client: MongoClient,
  name: string,
  draws?: readonly string[],
) {
  const parts = await freshCards(client, name, draws);
  await parts.registry.add("p_1", new Date("2026-11-01T00:00:00Z"));
  await parts.registry.add("p_2", new Date("2026-11-01T00:00:00Z"));
  const unhook = crashOnceAt("after-issue-claim");
  try {
    await expect(
      parts.commands.issue(metaFor("issueCard", { key: "k-stopped" }), issuePlan("p_1")),
    ).rejects.toBeInstanceOf(InjectedCrash);
  } finally {
    unhook();
  }
  const claim = (await parts.registry.find("p_1"))!.issuing!.card;
  return { ...parts, claim };
}

/** A single-document write a test saw: its collection and the filter it selected by. */
export interface SeenWrite {
  command: string;
  collection: string;
  filter: Document;
}

/** Records the update and delete commands sent to `database` until the returned stop is called. */
export function watchWrites(
  client: MongoClient,
  database: string,
): { writes: SeenWrite[]; stop: () => void } {
  const writes: SeenWrite[] = [];
  const listener = (event: CommandStartedEvent) => {
    if (event.databaseName !== database) return;
    const { commandName, command } = event;
    if (commandName === "update" || commandName === "delete") {
      const statements = (command["updates"] ?? command["deletes"]) as { q: Document }[];
      for (const statement of statements)
        writes.push({
          command: commandName,
          collection: String(command[commandName]),
          filter: statement.q,
        });
    } else if (commandName === "findAndModify")
      writes.push({
        command: commandName,
        collection: String(command[commandName]),
        filter: command["query"] as Document,
      });
  };
  client.on("commandStarted", listener);
  return { writes, stop: () => client.off("commandStarted", listener) };
}
