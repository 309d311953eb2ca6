import { parse, print } from "graphql";
import { describe, expect, it } from "vitest";
import { withExampleComment } from "./sandbox.js";

describe("sandbox tabs", () => {
  const document =
    "query PersonCards($idNumber: String!) { personByIdNumber(idNumber: $idNumber) { id } }";

  it("name the example variables in a comment, leaving the operation as it is", () => {
    const tab = withExampleComment(document, { idNumber: "110101199003070011" });
    expect(tab.split("\n")[1]).toBe('# {"idNumber":"110101199003070011"}');
    expect(print(parse(tab))).toBe(print(parse(document)));
  });

  it("leave an operation without examples untouched", () => {
    expect(withExampleComment(document, undefined)).toBe(document);
    expect(withExampleComment(document, {})).toBe(document);
  });
});
