import { HubError } from "@hub/kit";

/** R-ECARD-3: the four remedies of seed 001 when face verification fails. */
export const FACE_MISMATCH_REMEDIES = [
  "Do not do face recognition in very strong light or in the dark.",
  "Keep your whole face inside the recognition frame and follow the prompts.",
  "Check that the real-name authentication of your app, WeChat or Alipay account is your own; if not, change it before applying.",
  "If you look very different from the photo on your physical card, apply for a card replacement at a social security card service outlet with a recent photo.",
] as const;

export function faceMismatch(): HubError {
  return new HubError("FACE_MISMATCH", "The face does not match the identity on record.", {
    remedies: [...FACE_MISMATCH_REMEDIES],
  });
}
