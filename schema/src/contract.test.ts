import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse, validate, type OperationDefinitionNode } from "graphql";
import { describe, expect, it } from "vitest";
import { apiSchemaOf } from "./api-schema.js";
import { SCHEMA_DIR, SUPERGRAPH_PATH } from "./paths.js";

/** The contract as published beside the project; schema/operations.graphql is our checked-in copy. */
const SHARED_CONTRACT = join(SCHEMA_DIR, "..", "..", "shared", "contract", "operations.graphql");
const COPY = join(SCHEMA_DIR, "operations.graphql");

async function operations() {
  const document = parse(await readFile(COPY, "utf8"));
  return document.definitions
    .filter((d): d is OperationDefinitionNode => d.kind === "OperationDefinition")
    .map((operation) => ({
      name: operation.name?.value ?? "",
      kind: operation.operation,
      document: { ...document, definitions: [operation] },
    }));
}

/** Without ../shared (a clone on its own) there is nothing published to compare with. */
const PUBLISHED = existsSync(SHARED_CONTRACT);

describe("the contract's operations validate against schema/supergraph.graphql", () => {
  // The skip shows in the report under this name, with its reason: never a silent pass.
  it.skipIf(!PUBLISHED)(
    PUBLISHED
      ? "schema/operations.graphql is the published contract (../shared/contract/operations.graphql), unchanged"
      : "schema/operations.graphql is the published contract, unchanged: SKIPPED, ../shared/contract/operations.graphql is not beside the project (the repository's copy is still checked below)",
    async () => {
      expect(await readFile(COPY, "utf8")).toBe(await readFile(SHARED_CONTRACT, "utf8"));
    },
  );

  it("the repository's copy, schema/operations.graphql, holds every contract operation once", async () => {
    expect(existsSync(COPY), COPY).toBe(true);
    expect((await operations()).map((op) => op.name)).toEqual([
      "PersonCards",
      "PersonById",
      "PersonsByIds",
      "CardHistory",
      "RegisterPerson",
      "IssueCard",
      "CollectCard",
      "EnableSocialSecurityFunction",
      "ReportCardLoss",
      "WithdrawLossReport",
      "CancelCard",
      "ReplaceCard",
      "IssueElectronicCard",
      "VerifyCardPassword",
      "ChangeCardPassword",
      "ResetCardPassword",
      "SetElectronicCardPassword",
      "VerifyElectronicCardPassword",
      "ActivateFinancialFunction",
      "CancelBankAccount",
    ]);
  });

  it("every query document validates", async () => {
    const schema = apiSchemaOf(await readFile(SUPERGRAPH_PATH, "utf8"));
    const queries = (await operations()).filter((op) => op.kind === "query");
    expect(queries.map((q) => q.name)).toEqual([
      "PersonCards",
      "PersonById",
      "PersonsByIds",
      "CardHistory",
    ]);
    for (const query of queries)
      expect(
        validate(schema, query.document).map((e) => e.message),
        query.name,
      ).toEqual([]);
  });

  it("every mutation document validates", async () => {
    const schema = apiSchemaOf(await readFile(SUPERGRAPH_PATH, "utf8"));
    const mutations = (await operations()).filter((op) => op.kind === "mutation");
    expect(mutations).toHaveLength(16);
    for (const mutation of mutations)
      expect(
        validate(schema, mutation.document).map((e) => e.message),
        mutation.name,
      ).toEqual([]);
  });
});

/** Contract v3's feed operations (../shared/contract/feed.graphql), checked in as schema/feed.graphql. */
const SHARED_FEED = join(SCHEMA_DIR, "..", "..", "shared", "contract", "feed.graphql");
const FEED_COPY = join(SCHEMA_DIR, "feed.graphql");
/** The feed's own operations; the webhook ones come with the webhooks (issue 25, part 2). */
const FEED_OPERATIONS = ["CardEvents", "CardEventLog"];
const WEBHOOK_OPERATIONS = [
  "RegisterWebhook",
  "RotateWebhookSecret",
  "DisableWebhook",
  "Webhooks",
  "WebhookDeliveries",
];

async function feedOperations() {
  const document = parse(await readFile(FEED_COPY, "utf8"));
  return document.definitions
    .filter((d): d is OperationDefinitionNode => d.kind === "OperationDefinition")
    .map((operation) => ({
      name: operation.name?.value ?? "",
      document: { ...document, definitions: [operation] },
    }));
}

describe("the contract's feed operations (v3) validate against schema/supergraph.graphql", () => {
  it.skipIf(!existsSync(SHARED_FEED))(
    "schema/feed.graphql is the published contract (../shared/contract/feed.graphql), unchanged",
    async () => {
      expect(await readFile(FEED_COPY, "utf8")).toBe(await readFile(SHARED_FEED, "utf8"));
    },
  );

  it("schema/feed.graphql holds the feed's and the webhooks' operations once each", async () => {
    expect((await feedOperations()).map((op) => op.name)).toEqual([
      ...FEED_OPERATIONS,
      ...WEBHOOK_OPERATIONS,
    ]);
  });

  it("every feed and webhook operation validates", async () => {
    const schema = apiSchemaOf(await readFile(SUPERGRAPH_PATH, "utf8"));
    const operations = await feedOperations();
    expect(operations).toHaveLength(FEED_OPERATIONS.length + WEBHOOK_OPERATIONS.length);
    for (const operation of operations)
      expect(
        validate(schema, operation.document).map((e) => e.message),
        operation.name,
      ).toEqual([]);
  });
});
