import { readFile } from "node:fs/promises";
import {
  ApolloGateway,
  RemoteGraphQLDataSource,
  type GraphQLDataSourceProcessOptions,
} from "@apollo/gateway";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";

/**
 * The comparison target: @apollo/gateway 2.14 on @apollo/server, on the same supergraph and
 * subgraphs, forwarding the Authorization header as our gateway does.
 */
interface Context {
  authorization?: string;
}

class AuthForwarding extends RemoteGraphQLDataSource<Context> {
  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<Context>): void {
    if (context.authorization) request.http?.headers.set("authorization", context.authorization);
  }
}

const urls = JSON.parse(process.env["SUBGRAPH_URLS"] ?? "{}") as Record<string, string>;
let supergraphSdl = await readFile(process.env["SUPERGRAPH_PATH"] ?? "", "utf8");
for (const [name, url] of Object.entries(urls)) {
  supergraphSdl = supergraphSdl.replace(
    new RegExp(`(@join__graph\\(name: "${name}", url: ")[^"]+`),
    `$1${url}`,
  );
}
const gateway = new ApolloGateway({
  supergraphSdl,
  buildService: ({ url }) => new AuthForwarding({ url }),
});
const server = new ApolloServer<Context>({ gateway, includeStacktraceInErrorResponses: false });
const { url } = await startStandaloneServer(server, {
  listen: { port: Number(process.env["PORT"] ?? 4100), host: "127.0.0.1" },
  context: async ({ req }) => ({ authorization: req.headers.authorization }),
});
console.log(`apollo gateway listening ${url}`);
process.on("SIGTERM", () => void server.stop().then(() => process.exit(0)));
