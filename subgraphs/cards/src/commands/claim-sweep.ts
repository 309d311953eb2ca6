import { POLL } from "@hub/kit";
import type { CardStores } from "./card-stores.js";
import { findStored, storeClaimed } from "./store-claimed-card.js";

/** Claims the sweep completes per batch, and batches per sweep (the rest wait for the next). */
const CLAIMS_PER_BATCH = 100;
const CLAIM_BATCHES_PER_SWEEP = 10;

/**
 * Stores the cards of claims made more than `olderThanMs` ago whose writer stopped before
 * storing them (no later issue for the person came to do it), releasing their CardIssued, and
 * clears the claims whose card is stored: run by the relay's poll (Outbox.onSweep), like the
 * outbox's sweep of stranded events. Answers how many cards it stored. Safe beside writers that
 * are only slow: storing a claimed card is idempotent, and a claim is cleared only once its card
 * is stored. Throws the first failure once every claim of the sweep was tried.
 */
export async function completeStrandedClaims(
  stores: CardStores,
  olderThanMs: number,
): Promise<number> {
  // In the database's time, as the claim's `outgoingSince` was written (replicas' clocks drift).
  const cutoff = new Date(stores.outbox.clock.nowMs() - olderThanMs);
  let completed = 0;
  let failure: unknown = null;
  for (let batch = 0; batch < CLAIM_BATCHES_PER_SWEEP; batch++) {
    const claims = await stores.registry.claimsBefore(cutoff, CLAIMS_PER_BATCH);
    for (const claim of claims) {
      try {
        // As a majority holds the card (findStored): a card on the primary alone may be rolled
        // back, and the claim with it if cleared now. Not held: storing it waits for it. Tagged
        // as the relay's polling, as the claims' read is: not a request's own command.
        if (!(await findStored(stores.repository, claim.issuing.card, POLL))) {
          const stored = await storeClaimed(stores, claim, null);
          completed += 1;
          // Renumbered: the claim changed, the next sweep clears it.
          if (stored.number !== claim.issuing.card.number) continue;
        }
        await stores.registry.clearClaim(claim);
      } catch (error) {
        failure ??= error;
      }
    }
    if (claims.length < CLAIMS_PER_BATCH || failure) break;
  }
  if (failure) throw failure;
  return completed;
}
