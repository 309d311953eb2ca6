import {
  DeadLetters,
  SUBGRAPH_NAMES,
  subgraphDatabaseName,
  type MongoClient,
  type OutboxDocument,
} from "@hub/kit";

const USAGE = `usage: npm run events -- dead-letters            list every subgraph's dead letters
       npm run events -- redeliver <id>         put one back in its outbox (an outbox id
                                                "event:destination", or an event id for all)`;

/**
 * The operator's view of events set aside (dead letters): each sending subgraph keeps its own
 * beside its outbox. Answers the lines to print and the exit code.
 */
export async function eventsCommand(
  client: MongoClient,
  prefix: string,
  args: readonly string[],
): Promise<{ lines: string[]; code: number }> {
  const stores = SUBGRAPH_NAMES.map((subgraph) => {
    const db = client.db(subgraphDatabaseName(prefix, subgraph));
    return { subgraph, letters: new DeadLetters(db, db.collection<OutboxDocument>("outbox")) };
  });
  const [command, id] = args;
  if (command === "dead-letters") {
    const lines: string[] = [];
    for (const { subgraph, letters } of stores)
      for (const letter of await letters.list(1_000))
        lines.push(
          [
            letter._id,
            `${subgraph} → ${letter.destination}`,
            letter.type,
            `attempts ${letter.attempts}`,
            `dead since ${letter.deadAt.toISOString()}`,
            `error: ${letter.lastError ?? "?"}`,
          ].join("  "),
        );
    return { lines: lines.length > 0 ? lines : ["no dead letters"], code: 0 };
  }
  if (command === "redeliver" && id) {
    let moved = 0;
    for (const { letters } of stores) moved += await letters.redeliver(id);
    return moved > 0
      ? { lines: [`${moved} event(s) back in their outbox; the relay delivers them next`], code: 0 }
      : { lines: [`no dead letter has the id ${id}`], code: 1 };
  }
  return { lines: [USAGE], code: 2 };
}
