import { connectMongo } from "@hub/kit";
import { z } from "zod";
import { eventsCommand } from "@hub/harness/cli";

/**
 * `npm run events -- dead-letters | redeliver <id>`: dead letters of a running hub's database
 * (MONGODB_URI and HUB_DB_PREFIX as the subgraphs read them).
 */
const env = z
  .object({
    MONGODB_URI: z.string().regex(/^mongodb(\+srv)?:\/\//, "must be a mongodb:// URI"),
    HUB_DB_PREFIX: z.string().default("hub"),
  })
  .safeParse(process.env);
if (!env.success) {
  process.stderr.write(
    `npm run events needs MONGODB_URI (the hub's database): ${z.prettifyError(env.error)}\n`,
  );
  process.exit(2);
}
const client = await connectMongo(env.data.MONGODB_URI);
try {
  const { lines, code } = await eventsCommand(
    client,
    env.data.HUB_DB_PREFIX,
    process.argv.slice(2),
  );
  for (const line of lines) console.log(line);
  process.exitCode = code;
} finally {
  await client.close();
}
