import { describe, expect, it } from "vitest";
import { collectEffects, currentEffectScope, EffectScope, withinEffects } from "./effects.js";

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("effect scopes (entered only by writing work)", () => {
  it("keeps concurrent scopes apart across awaits, and nothing outside them sees one", async () => {
    const a = new EffectScope();
    const b = new EffectScope();
    const seen: [string, EffectScope | undefined][] = [];
    const work = (name: string) => async () => {
      for (let step = 0; step < 3; step++) {
        await turn();
        seen.push([name, currentEffectScope()]);
      }
    };
    const outside = (async () => {
      for (let step = 0; step < 3; step++) {
        await turn();
        seen.push(["outside", currentEffectScope()]);
      }
    })();
    await Promise.all([withinEffects(a, work("a")), withinEffects(b, work("b")), outside]);
    expect(seen.filter(([name]) => name === "a").map(([, scope]) => scope)).toEqual([a, a, a]);
    expect(seen.filter(([name]) => name === "b").map(([, scope]) => scope)).toEqual([b, b, b]);
    expect(seen.filter(([name]) => name === "outside").map(([, scope]) => scope)).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    expect(currentEffectScope()).toBeUndefined();
  });

  it("works again after every scope ended, also after a failure", async () => {
    await expect(
      withinEffects(new EffectScope(), async () => {
        await turn();
        throw new Error("the write failed");
      }),
    ).rejects.toThrow("the write failed");
    expect(currentEffectScope()).toBeUndefined();

    const { value, scope } = await collectEffects(async () => {
      await turn();
      return currentEffectScope();
    });
    expect(value).toBe(scope);
    expect(currentEffectScope()).toBeUndefined();
  });

  it("a scope still running keeps its own while another one ends", async () => {
    const long = new EffectScope();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const longRun = withinEffects(long, async () => {
      await gate;
      await turn();
      return currentEffectScope();
    });
    await withinEffects(new EffectScope(), async () => turn());
    release();
    expect(await longRun).toBe(long);
  });
});
