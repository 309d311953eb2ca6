/** Subgraph name → GraphQL URL: the supergraph's `@join__graph` URLs, with deployment overrides. */
export function subgraphDirectory(
  supergraphSdl: string,
  overrides: Record<string, string> = {},
): Record<string, string> {
  const directory: Record<string, string> = {};
  for (const match of supergraphSdl.matchAll(/@join__graph\(name: "([^"]+)", url: "([^"]+)"\)/g)) {
    const [, name, url] = match;
    if (name && url) directory[name] = overrides[name] ?? url;
  }
  return directory;
}
