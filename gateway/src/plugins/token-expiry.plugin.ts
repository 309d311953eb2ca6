import type { GatewayPlugin } from "@graphql-hive/gateway-runtime";
import { GraphQLError, type ExecutionResult } from "graphql";
import type { AuthContext } from "./auth.plugin.js";

/** setTimeout's longest delay (about 24.8 days): a later expiry is waited for in steps. */
const LONGEST_TIMER_MS = 2_147_483_647;

/** The last result of a stream whose token expired (CONTRACT.md "Who"). */
export function tokenExpiredResult(): ExecutionResult {
  return {
    errors: [
      new GraphQLError(
        "The token has expired; subscribe again with a new token and the last cursor as `after`.",
        { extensions: { code: "UNAUTHENTICATED" } },
      ),
    ],
  };
}

/**
 * `source` until `expiresAt` (epoch ms), then `last()` as its final value and the end. The source
 * is released (its `return`) at once, without waiting for its pending `next`: an idle stream's
 * next event may be hours away. The final value is a result, not a thrown error: graphql-ws sends
 * a thrown error's raw message, and a result with errors reaches every client as any other event.
 */
export function untilExpiry<T>(
  source: AsyncIterable<T>,
  expiresAt: number,
  last: () => T,
): AsyncIterableIterator<T> {
  const inner = source[Symbol.asyncIterator]();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let finished = false;
  const expired = new Promise<"expired">((resolve) => {
    const wait = () => {
      const left = expiresAt - Date.now();
      if (left <= 0) resolve("expired");
      else timer = setTimeout(wait, Math.min(left, LONGEST_TIMER_MS));
    };
    wait();
  });
  const release = () => {
    finished = true;
    clearTimeout(timer);
    // Nobody reads the source's answer any more; a late rejection must not go unhandled.
    void Promise.resolve(inner.return?.()).catch(() => undefined);
  };
  const done = { done: true, value: undefined } as IteratorReturnResult<undefined>;
  const iterator: AsyncIterableIterator<T> = {
    [Symbol.asyncIterator]: () => iterator,
    async next() {
      if (finished) return done;
      // Past the expiry nothing more is read, even an event that is already there.
      if (Date.now() >= expiresAt) {
        release();
        return { done: false, value: last() };
      }
      const pending = inner.next();
      const step = await Promise.race([pending, expired]);
      if (step === "expired") {
        pending.catch(() => undefined);
        release();
        return { done: false, value: last() };
      }
      if (step.done) {
        finished = true;
        clearTimeout(timer);
      }
      return step;
    },
    async return() {
      if (!finished) release();
      return done;
    },
    async throw(error: unknown) {
      if (!finished) release();
      throw error;
    },
  };
  return iterator;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<ExecutionResult> {
  return typeof value === "object" && value !== null && Symbol.asyncIterator in value;
}

/**
 * A token is checked when a stream opens; a subscription then outlives it unless something ends
 * it. The gateway ends every stream (GraphQL over SSE and WebSocket alike: both run through here)
 * when its caller's token expires, with UNAUTHENTICATED as its last event; the client resumes with
 * a new token and its last cursor. Here rather than in the feed: the gateway is where every
 * client's stream is, whichever subgraph serves it, and its end closes the upstream stream too.
 */
export function useTokenExpiry(): GatewayPlugin<AuthContext> {
  return {
    onSubscribe({ args }) {
      const expiresAt = (args.contextValue as AuthContext).caller?.expiresAt;
      if (expiresAt === undefined) return undefined;
      return {
        onSubscribeResult({ result, setResult }) {
          if (isAsyncIterable(result))
            setResult(untilExpiry(result, expiresAt, tokenExpiredResult));
        },
      };
    },
  };
}
