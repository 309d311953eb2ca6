import { HubError } from "@hub/kit";
import { describe, expect, it } from "vitest";
import { FACE_MISMATCH_REMEDIES, faceMismatch } from "./face-remedies.js";

describe("R-ECARD-3: a failed face verification", () => {
  it("is FACE_MISMATCH with the four remedies of seed 001", () => {
    const error = faceMismatch();
    expect(error).toBeInstanceOf(HubError);
    expect(error.code).toBe("FACE_MISMATCH");
    expect(error.message).toBe("The face does not match the identity on record.");
    expect(error.extensions["remedies"]).toEqual([...FACE_MISMATCH_REMEDIES]);
    expect(FACE_MISMATCH_REMEDIES.map((remedy) => remedy.split(" ").slice(0, 3).join(" "))).toEqual(
      ["Do not do", "Keep your whole", "Check that the", "If you look"],
    );
    for (const remedy of FACE_MISMATCH_REMEDIES) expect(remedy).toMatch(/^[A-Z].{40,}\.$/);
  });
  it("hands each error its own copy of the remedies", () => {
    (faceMismatch().extensions["remedies"] as string[]).pop();
    expect(faceMismatch().extensions["remedies"]).toHaveLength(4);
  });
});
