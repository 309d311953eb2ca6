import type { CommandStartedEvent, MongoClient } from "mongodb";
import { OBSERVE, POLL } from "../events/command-tags.js";
import { isRelayCommand } from "../events/relay.js";
import { gateStats } from "./transaction-turns.js";

/** Count and total time of one kind of command (`update cards`, `find outbox`, …). */
export interface CommandKindStats {
  count: number;
  ms: number;
}

/** What GET /dbstats serves when HUB_COUNT_DB_COMMANDS=on (benchmarks). */
export interface CommandStatsSnapshot {
  /** Commands requests issued (the relay's background commands not counted). */
  commands: number;
  /**
   * Every command by kind: the relay's deliveries prefixed `relay:`, its periodic look for work
   * `poll:`, and reading its statistics (GET /outbox) `observe:`.
   */
  byKind: Record<string, CommandKindStats>;
  /** Waits at the embedded server's transaction gate. */
  gate: { waits: number; waitMs: number };
}

/** Watches a client's commands (it must be created with monitorCommands). */
export function trackCommands(client: MongoClient): () => CommandStatsSnapshot {
  let commands = 0;
  const byKind: Record<string, CommandKindStats> = {};
  const started = new Map<number, string>();
  client.on("commandStarted", (event: CommandStartedEvent) => {
    const relay = isRelayCommand(event.commandName, event.command);
    if (!relay) commands += 1;
    const target = event.command[event.commandName];
    const comment = event.command["comment"];
    const tag =
      comment === POLL ? "poll: " : comment === OBSERVE ? "observe: " : relay ? "relay: " : "";
    const kind = `${tag}${event.commandName}${typeof target === "string" ? ` ${target}` : ""}`;
    started.set(event.requestId, kind);
  });
  const finished = (event: { requestId: number; duration: number }) => {
    const kind = started.get(event.requestId);
    if (!kind) return;
    started.delete(event.requestId);
    const entry = (byKind[kind] ??= { count: 0, ms: 0 });
    entry.count += 1;
    entry.ms += event.duration;
  };
  client.on("commandSucceeded", finished);
  client.on("commandFailed", finished);
  return () => ({
    commands,
    byKind: Object.fromEntries(
      Object.entries(byKind).map(([kind, s]) => [
        kind,
        { count: s.count, ms: Math.round(s.ms * 10) / 10 },
      ]),
    ),
    gate: { waits: gateStats.waits, waitMs: Math.round(gateStats.waitMs) },
  });
}
