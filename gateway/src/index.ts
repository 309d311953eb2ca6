export { createHubGateway, type HubGatewayOptions } from "./gateway.config.js";
export { startGatewayServer, type GatewayServerOptions, type RunningGateway } from "./server.js";
