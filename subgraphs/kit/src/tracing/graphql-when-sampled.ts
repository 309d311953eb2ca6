import { inSampledTrace } from "./state.js";

/** The GraphQL instrumentation's patch makers (version 0.69), each called as `graphql` loads. */
const PATCH_MAKERS = ["_patchExecute", "_patchParse", "_patchValidate"] as const;

// The patch makers take the module's own arguments and return a wrapper of the original function:
// their types are the instrumentation's private ones.
type Wrapper = (original: (...args: unknown[]) => unknown) => (...args: unknown[]) => unknown;
type PatchMaker = (...args: unknown[]) => Wrapper;

/**
 * The GraphQL instrumentation, tracing `parse`, `validate` and `execute` only inside a sampled
 * trace; elsewhere (at 1% nearly every call from the gateway) the original function runs as if
 * uninstrumented. The instrumentation itself makes each span before the sampler drops it, and
 * prints the operation's source into it (`graphql.source`): ~5% of a subgraph's CPU per request
 * at 1% sampling (`npm run profile`, docs/performance.md#tracing). Its patch makers are private:
 * if a new version renames them, the instrumentation is left as it is (every call traced as
 * before, the cost back), which `graphql-when-sampled.test.ts` reports.
 */
export function onlyInSampledTraces<I extends object>(instrumentation: I): I {
  const makers = instrumentation as unknown as Record<string, PatchMaker | undefined>;
  for (const name of PATCH_MAKERS) {
    const make = makers[name];
    if (typeof make !== "function") continue;
    makers[name] =
      (...args: unknown[]) =>
      (original) => {
        const traced = make.apply(instrumentation, args)(original);
        return function (this: unknown, ...callArgs: unknown[]) {
          return inSampledTrace() ? traced.apply(this, callArgs) : original.apply(this, callArgs);
        };
      };
  }
  return instrumentation;
}
