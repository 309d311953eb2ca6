import { getEventListeners } from "node:events";
import { parse, type GraphQLError } from "graphql";
import { describe, expect, it } from "vitest";
import { useUpstreamDeadline } from "./upstream-deadline.plugin.js";

type Request = { document: ReturnType<typeof parse>; signal?: AbortSignal };
type Executor = (request: Request) => unknown;

/** Runs the plugin's hook the way the gateway does and returns the executor it installs. */
function wrap(timeoutMs: number, executor: Executor): Executor {
  let installed: Executor = executor;
  const plugin = useUpstreamDeadline(timeoutMs) as unknown as {
    onSubgraphExecute(payload: {
      subgraphName: string;
      executor: Executor;
      setExecutor(next: Executor): void;
    }): void;
  };
  plugin.onSubgraphExecute({
    subgraphName: "cards",
    executor,
    setExecutor: (next) => {
      installed = next;
    },
  });
  return installed;
}

const document = parse("{ __typename }");

describe("upstream deadline", () => {
  it("passes the answer through and releases the call's signal and the client's listener once it settles", async () => {
    const client = new AbortController();
    let seen: AbortSignal | undefined;
    const call = wrap(1_000, async (request) => {
      seen = request.signal;
      expect(getEventListeners(client.signal, "abort")).toHaveLength(1);
      return { data: { __typename: "Query" } };
    });
    await expect(call({ document, signal: client.signal })).resolves.toEqual({
      data: { __typename: "Query" },
    });
    expect(seen?.aborted).toBe(true);
    expect(getEventListeners(client.signal, "abort")).toHaveLength(0);
  });

  it("fails an overrunning call with GATEWAY_TIMEOUT and cancels it", async () => {
    let seen: AbortSignal | undefined;
    const call = wrap(50, (request) => {
      seen = request.signal;
      return new Promise(() => undefined);
    });
    const failure = (await (call({ document }) as Promise<unknown>).catch(
      (error: unknown) => error,
    )) as GraphQLError;
    expect(failure.extensions["code"]).toBe("GATEWAY_TIMEOUT");
    expect(failure.message).toContain("cards");
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBe(failure);
  });

  it("cancels the call when the client goes away", async () => {
    const client = new AbortController();
    let seen: AbortSignal | undefined;
    const call = wrap(1_000, (request) => {
      seen = request.signal;
      return new Promise((_, reject) =>
        request.signal?.addEventListener("abort", () => reject(request.signal?.reason)),
      );
    });
    const pending = (call({ document, signal: client.signal }) as Promise<unknown>).catch(
      (error: unknown) => error,
    );
    client.abort(new Error("client closed"));
    expect(((await pending) as Error).message).toBe("client closed");
    expect(seen?.aborted).toBe(true);
  });
});
