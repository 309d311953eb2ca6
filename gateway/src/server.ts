import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { RunningServer } from "@hub/kit";
import { createHubGateway, type HubGatewayOptions } from "./gateway.config.js";

export interface GatewayServerOptions extends HubGatewayOptions {
  port: number;
  host?: string;
}

export interface RunningGateway extends RunningServer {
  /** Base URL of the gateway, without `/graphql`. */
  readonly origin: string;
}

/** Serves the gateway runtime over node:http; `stop` drains it and disposes the runtime. */
export async function startGatewayServer(options: GatewayServerOptions): Promise<RunningGateway> {
  const gateway = createHubGateway(options);
  const server: Server = createServer(gateway);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://${options.host ?? "127.0.0.1"}:${port}`;
  return {
    origin,
    url: `${origin}/graphql`,
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 5_000).unref();
      });
      await gateway.dispose();
    },
  };
}
