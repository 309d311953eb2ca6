import type { GatewayPlugin } from "@graphql-hive/gateway-runtime";
import type { PendingEffect } from "@hub/kit";
import type { AuthContext } from "./auth.plugin.js";

const pendingByRequest = new WeakMap<Request, PendingEffect[]>();

/**
 * Called by the subgraph transport with a subgraph answer's `extensions.pendingEffects`: effects
 * of a mutation that had not reached their subgraph when it answered (contract v2).
 */
export function notePendingEffects(request: Request | undefined, effects: unknown): void {
  if (!request || !Array.isArray(effects) || effects.length === 0) return;
  const list = pendingByRequest.get(request) ?? [];
  list.push(...(effects as PendingEffect[]));
  pendingByRequest.set(request, list);
}

/**
 * The client's answer lists them in `extensions.pendingEffects`: the planner keeps only the data
 * and errors of subgraph answers, so the transport hands them over by request.
 */
export function usePendingEffects(): GatewayPlugin<AuthContext> {
  return {
    onExecute({ args }) {
      const request = (args.contextValue as { request?: Request }).request;
      return {
        onExecuteDone({ result, setResult }) {
          const pending = request && pendingByRequest.get(request);
          if (!pending || !("data" in result || "errors" in result)) return;
          setResult({ ...result, extensions: { ...result.extensions, pendingEffects: pending } });
        },
      };
    },
  };
}
