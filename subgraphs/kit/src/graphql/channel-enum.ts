import { registerEnumType } from "type-graphql";
import { CHANNEL_DESCRIPTIONS, CHANNELS, type Channel } from "../channels.js";

/** The Channel enum as TypeGraphQL needs it: an object of names to values. */
export const ChannelEnum = Object.fromEntries(CHANNELS.map((c) => [c, c])) as { [K in Channel]: K };

registerEnumType(ChannelEnum, {
  name: "Channel",
  description: "The channel through which an operation was made; taken from the caller's token.",
  valuesConfig: Object.fromEntries(
    CHANNELS.map((c) => [c, { description: CHANNEL_DESCRIPTIONS[c] }]),
  ) as Record<Channel, { description: string }>,
});
