import { HubError } from "@hub/kit";

/**
 * R-CARD-10: a cancelled card never changes again, so its social security password can no longer
 * be entered, changed or reset (R-PWD-3). Checked before an entry is counted: a wrong guess on a
 * cancelled card must not lock or otherwise touch its password. `status` is the card's status as
 * last announced by the cards subgraph; null when no status was announced yet (a card known only
 * from an older CardIssued), which is usable: only CANCELLED is final.
 */
export function checkCardPasswordUsable(status: string | null | undefined): void {
  if (status === "CANCELLED")
    throw new HubError(
      "INVALID_TRANSITION",
      "The card is CANCELLED: a cancelled card's password can no longer be verified, changed or reset (R-CARD-10).",
      { currentStatus: status },
    );
}
