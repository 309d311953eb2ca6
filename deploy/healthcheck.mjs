// The container's health check: GET /readyz of the process HUB_SERVICE runs, on its own port.
const PORTS = {
  gateway: ["PORT", 4000],
  "subgraphs/persons": ["PERSONS_PORT", 4001],
  "subgraphs/cards": ["CARDS_PORT", 4002],
  "subgraphs/passwords": ["PASSWORDS_PORT", 4003],
  "subgraphs/bank-accounts": ["BANK_ACCOUNTS_PORT", 4004],
};
const [variable, fallback] = PORTS[process.env.HUB_SERVICE ?? "gateway"] ?? PORTS.gateway;
const port = process.env[variable] ?? fallback;
fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2_500) }).then(
  (response) => process.exit(response.ok ? 0 : 1),
  () => process.exit(1),
);
