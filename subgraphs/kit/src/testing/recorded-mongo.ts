import type { Db, MongoClient } from "mongodb";
import { useTestMongo } from "./test-mongo.js";

/** A command the test MongoDB was sent: the database it named, its name and its body. */
export interface SentCommand {
  db: string;
  name: string;
  command: Record<string, unknown>;
}

/**
 * Databases for the tests of one file, each with a name of its own: `name` with the time and a
 * counter, so tests that share a server (or a name) never see each other's data.
 */
export function freshDatabases(client: () => MongoClient): (name: string) => Db {
  let dbs = 0;
  return (name) => client().db(`${name}_${Date.now().toString(36)}_${dbs++}`);
}

/**
 * A test MongoDB for one file (useTestMongo) that records every command it is sent, in order, in
 * `commands` (tests clear it or read it from an index on), and fresh databases for its tests.
 */
export function useRecordedMongo(): {
  client: () => MongoClient;
  commands: SentCommand[];
  freshDb: (name: string) => Db;
} {
  const commands: SentCommand[] = [];
  const client = useTestMongo({
    onCommand: (event) =>
      commands.push({
        db: event.databaseName,
        name: event.commandName,
        command: event.command as Record<string, unknown>,
      }),
  });
  return { client, commands, freshDb: freshDatabases(client) };
}
