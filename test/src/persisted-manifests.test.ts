import { createHash } from "node:crypto";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { generatePersistedQueryManifest } from "@apollo/generate-persisted-query-manifest";
import { generatePersistedQueryIdsFromManifest } from "@apollo/persisted-query-lists";
import { splitOperations } from "@hub/gateway";
import { SCOPES } from "@hub/kit";
import { SCHEMA_DIR } from "@hub/schema";
import { describe, expect, it } from "vitest";
import { channelFetch, type SeenRequest } from "./support/channel-fetch.js";
import { contractOperation, postRequest, token, useTestHub } from "./support/hub.js";

let manifest: Awaited<ReturnType<typeof generatePersistedQueryManifest>>;
const hub = useTestHub(async () => {
  // A channel's own safelist, made by Apollo's tool from the operations its front-end uses (here:
  // the contract's, one per file as the tool expects), registered as a directory of manifests.
  const app = await mkdtemp(join(tmpdir(), "hub-app-"));
  const operations = splitOperations(
    await readFile(join(SCHEMA_DIR, "operations.graphql"), "utf8"),
  );
  for (const op of operations) await writeFile(join(app, `${op.name}.graphql`), op.document);
  manifest = await generatePersistedQueryManifest(
    { documents: [join(app, "*.graphql")] },
    undefined,
  );
  expect(manifest.operations).toHaveLength(operations.length);
  const dir = await mkdtemp(join(tmpdir(), "hub-manifests-"));
  await writeFile(join(dir, "pharmacy-app.json"), JSON.stringify(manifest));
  return {
    gateway: { mode: "production", persistedOnly: true },
    manifests: [dir],
  };
});

/** A channel's front-end: no schema:read, so persisted-only mode applies to it. */
const channelScopes = SCOPES.filter((scope) => scope !== "schema:read");

/** A channel token's request, as it is: its HTTP status and error code. */
const send = async (body: unknown) => {
  const { status, code } = await postRequest(
    hub().gateway.url,
    body,
    await token({ scopes: channelScopes }),
  );
  return { status, code };
};

describe("trusted documents from Apollo persisted query manifests (HUB_PERSISTED_MANIFESTS)", () => {
  it("Apollo Client with the manifest's ids runs safelisted operations in persisted-only mode, sending ids only", async () => {
    const seen: SeenRequest[] = [];
    const client = new ApolloClient({
      cache: new InMemoryCache(),
      link: new PersistedQueryLink(
        generatePersistedQueryIdsFromManifest({ loadManifest: async () => manifest }),
      ).concat(new HttpLink({ uri: hub().gateway.url, fetch: channelFetch(seen, channelScopes) })),
    });
    const person = hub().demo!.persons[0]!;
    const answer = await client.query({
      query: gql(await contractOperation("PersonCards")),
      variables: { idNumber: person.idNumber },
    });
    expect(answer.error).toBeUndefined();
    expect(answer.data).toMatchObject({ personByIdNumber: { id: person._id } });
    expect(seen.map((s) => [s.withQuery, s.status])).toEqual([[false, 200]]);
    expect(manifest.operations.map((o) => o.id)).toContain(seen[0]!.hash);
  });

  it("what no manifest lists is refused to a channel token, sent whole or to be registered", async () => {
    const query = "query NotSafelisted { __typename }";
    const persistedQuery = {
      version: 1,
      sha256Hash: createHash("sha256").update(query).digest("hex"),
    };
    expect(await send({ query })).toEqual({ status: 403, code: "FORBIDDEN" });
    expect(await send({ extensions: { persistedQuery } })).toEqual({
      status: 400,
      code: "PERSISTED_QUERY_NOT_FOUND",
    });
    expect(await send({ query, extensions: { persistedQuery } })).toEqual({
      status: 403,
      code: "FORBIDDEN",
    });
  });
});
