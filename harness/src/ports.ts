import { createServer, type AddressInfo } from "node:net";

/** A loopback port with nothing listening on it (free to listen on, or to fail to connect to). */
export async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
