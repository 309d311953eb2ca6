import { describe, expect, it } from "vitest";
import { personWithCard, run } from "./support/cards.js";
import { contractOperation, useTestHub, token } from "./support/hub.js";

interface LogLine {
  name: string;
  msg: string;
  level: number;
  requestId?: string;
  status?: number;
}

const lines: LogLine[] = [];
const hub = useTestHub({
  logLevel: "info",
  logDestination: { write: (line) => void lines.push(JSON.parse(line) as LogLine) },
});

/** The request lines logged at info, by process, for one request id. */
function requestLines(requestId: string): string[] {
  return lines
    .filter((line) => line.msg === "request" && line.requestId === requestId)
    .map((line) => line.name)
    .sort();
}

/** The processes that logged a request line at info since line `index`. */
function requestLinesSince(index: number): string[] {
  return lines
    .slice(index)
    .filter((line) => line.msg === "request")
    .map((line) => line.name);
}

async function withRequestId<T>(requestId: string, send: () => Promise<T>): Promise<T> {
  const before = lines.length;
  const answer = await send();
  // The gateway's line is written when its answer finishes, which may follow the answer's arrival.
  for (
    let turn = 0;
    turn < 50 && !lines.slice(before).some((l) => l.requestId === requestId);
    turn++
  )
    await new Promise((resolve) => setImmediate(resolve));
  return answer;
}

describe("request log lines at info", () => {
  it("a read has one line, the gateway's; its subgraph calls log at debug", async () => {
    const requestId = "read-line-check";
    const idNumber = hub().demo!.persons[5]!.idNumber;
    const answer = await withRequestId(requestId, async () =>
      fetch(hub().gateway.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          authorization: `Bearer ${await token()}`,
          "x-request-id": requestId,
        },
        body: JSON.stringify({
          query: await contractOperation("PersonCards"),
          variables: { idNumber },
        }),
      }).then((response) => response.json() as Promise<{ errors?: unknown }>),
    );
    expect(answer.errors).toBeUndefined();
    expect(requestLines(requestId)).toEqual(["gateway"]);
  });

  it("a subgraph call that changed something, or answered an error, has its own line", async () => {
    const { cardId } = await personWithCard(hub().gateway.url);
    const changed = lines.length;
    const collected = await run(hub().gateway.url, "CollectCard", { cardId });
    expect(collected.errors).toBeUndefined();
    expect(requestLinesSince(changed)).toContain("cards");

    const failed = lines.length;
    const refused = await run(hub().gateway.url, "CollectCard", { cardId: "c_missing" });
    expect(refused.errors).toBeDefined();
    expect(requestLinesSince(failed)).toContain("cards");
  });
});
