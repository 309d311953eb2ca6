import { createServer, type IncomingMessage } from "node:http";

/**
 * The floor: the fetches the query plan needs, issued directly to the subgraphs in the same order
 * (sequential stages, parallel within a stage), with no planning, validation or merging beyond
 * collecting the pieces. A gateway cannot be faster than this.
 */
const urls = JSON.parse(process.env["SUBGRAPH_URLS"] ?? "{}") as Record<string, string>;

async function call(
  subgraph: string,
  authorization: string,
  query: string,
  variables: Record<string, unknown>,
): Promise<{ data?: Record<string, unknown> }> {
  const response = await fetch(urls[subgraph] ?? "", {
    method: "POST",
    headers: { "content-type": "application/json", authorization },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data?: Record<string, unknown> };
}

type Entities = { _entities: Record<string, unknown>[] };

async function personCards(auth: string, variables: Record<string, unknown>) {
  const person = (
    await call(
      "persons",
      auth,
      "query($idNumber: String!) { personByIdNumber(idNumber: $idNumber) { __typename id idNumber name } }",
      variables,
    )
  ).data?.["personByIdNumber"] as { id: string } | null;
  if (!person) return { personByIdNumber: null };
  const cards = (
    (
      await call(
        "cards",
        auth,
        `query($r: [_Any!]!) { _entities(representations: $r) { ... on Person { cards { __typename id number province issuingBank status collectedAt issuedAt expiresAt renewalDue socialSecurityFunction { enabled enabledAt channel activationOverdue } electronicCard { channel issuedAt availability } replaces { __typename id status } replacedBy { __typename id status } } duplicates { province cards { __typename id status } actions { cardId action reason } } } } }`,
        { r: [{ __typename: "Person", id: person.id }] },
      )
    ).data as Entities
  )._entities[0] as { cards: { id: string }[] };
  const cardRefs = cards.cards.map((c) => ({ __typename: "Card", id: c.id }));
  const [passwords, accounts, ecard] = await Promise.all([
    call(
      "passwords",
      auth,
      "query($r: [_Any!]!) { _entities(representations: $r) { ... on Card { password { state failedAttempts lockedAt } } } }",
      { r: cardRefs },
    ),
    call(
      "bank-accounts",
      auth,
      "query($r: [_Any!]!) { _entities(representations: $r) { ... on Card { bankAccount { id bank accountNumber status } } } }",
      { r: cardRefs },
    ),
    call(
      "passwords",
      auth,
      "query($r: [_Any!]!) { _entities(representations: $r) { ... on Person { electronicCardPassword { state lockedUntil } } } }",
      { r: [{ __typename: "Person", id: person.id }] },
    ),
  ]);
  return { person, cards, passwords: passwords.data, accounts: accounts.data, ecard: ecard.data };
}

async function personsByIds(auth: string, variables: Record<string, unknown>) {
  const persons = ((
    await call(
      "persons",
      auth,
      "query($ids: [ID!]!) { persons(ids: $ids) { __typename id name } }",
      variables,
    )
  ).data?.["persons"] ?? []) as ({ id: string } | null)[];
  const found = persons.filter((p): p is { id: string } => p !== null);
  const cards = (
    (
      await call(
        "cards",
        auth,
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on Person { cards { __typename id status } } } }",
        { r: found.map((p) => ({ __typename: "Person", id: p.id })) },
      )
    ).data as Entities
  )._entities as { cards: { id: string }[] }[];
  const cardRefs = cards.flatMap((p) => p.cards.map((c) => ({ __typename: "Card", id: c.id })));
  const [passwords, accounts] = await Promise.all([
    call(
      "passwords",
      auth,
      "query($r: [_Any!]!) { _entities(representations: $r) { ... on Card { password { state } } } }",
      { r: cardRefs },
    ),
    call(
      "bank-accounts",
      auth,
      "query($r: [_Any!]!) { _entities(representations: $r) { ... on Card { bankAccount { status } } } }",
      { r: cardRefs },
    ),
  ]);
  return { persons, cards, passwords: passwords.data, accounts: accounts.data };
}

/** A mutation is one fetch to the subgraph that owns it. */
const MUTATION_OWNER: Record<string, string> = {
  EnableSocialSecurityFunction: "cards",
  ReportCardLoss: "cards",
  WithdrawLossReport: "cards",
  VerifyCardPassword: "passwords",
};

async function body(
  request: IncomingMessage,
): Promise<{ query: string; operationName?: string; variables?: Record<string, unknown> }> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString()) as {
    query: string;
    operationName?: string;
    variables?: Record<string, unknown>;
  };
}

createServer((request, response) => {
  const auth = request.headers.authorization ?? "";
  body(request)
    .then(async (b) => {
      const name = b.operationName ?? /(query|mutation) (\w+)/.exec(b.query)?.[2] ?? "";
      if (name === "PersonCards") return { data: await personCards(auth, b.variables ?? {}) };
      if (name === "PersonsByIds") return { data: await personsByIds(auth, b.variables ?? {}) };
      const owner = MUTATION_OWNER[name];
      if (owner) return call(owner, auth, b.query, b.variables ?? {});
      return { errors: [{ message: `floor: unknown operation ${name}` }] };
    })
    .then(
      (result) => {
        response.writeHead(200, { "content-type": "application/json" });
        response.end(JSON.stringify(result));
      },
      (error: unknown) => {
        response.writeHead(500);
        response.end(String(error));
      },
    );
}).listen(Number(process.env["PORT"] ?? 4200), "127.0.0.1", () => console.log("floor listening"));
